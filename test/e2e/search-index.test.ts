import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ADMIN_KEY, AUTH, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

let root: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-e2e-search-"));
});
afterEach(async () => {
  await killProcess(server);
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(dir: string, cache: string): Promise<string> {
  server = startProcess(["--dir", dir, "--cache-dir", cache, "--data-dir", path.join(root, "data"), "--host", "127.0.0.1", "--port", "0"], {
    OPTA_ADMIN_KEY: ADMIN_KEY,
  });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/\S+)/);
  return url as string;
}

async function total(url: string, q: string): Promise<number> {
  const res = await fetch(`${url}/admin/search?q=${encodeURIComponent(q)}&hits=0`, { headers: AUTH });
  expect(res.status).toBe(200);
  return ((await res.json()) as { total: number }).total;
}

it("builds the search index in the loader's writer thread at first start, keeps it (0600) across a restart, and reads only what changed", {
  timeout: 60_000,
}, async () => {
  const dir = path.join(root, "sessions");
  const cache = path.join(root, "cache");
  await mkdir(dir);
  const count = 150; // past the catch-up size the writer thread takes over from the server's thread
  for (let i = 0; i < count; i++) {
    const id = `s${String(i).padStart(4, "0")}`;
    await writeFile(path.join(dir, `${id}.json`), cliFile(cliSession(id, { messages: [{ role: "user", content: `wombat number ${i}` }] })));
  }
  let url = await start(dir, cache);
  if (!server) throw new Error("no server");
  await waitForOutput(server, new RegExp(`search index: ${count} sessions indexed`), 30_000);
  expect(await total(url, "wombat")).toBe(count);
  const index = (await readdir(cache)).find((name) => /^search-.*\.sqlite$/.test(name));
  expect(index).toBeDefined();
  expect((await stat(path.join(cache, index as string))).mode & 0o777).toBe(0o600);

  await killProcess(server);
  await writeFile(path.join(dir, "s0007.json"), cliFile(cliSession("s0007", { messages: [{ role: "user", content: "a quokka now" }] })));
  url = await start(dir, cache);
  expect(await total(url, "quokka")).toBe(1);
  expect(await total(url, "wombat")).toBe(count - 1);
  // no build line this time: one session changed, indexed by the first search
  expect(server.output()).not.toMatch(/search index: \d+ sessions indexed/);
});
