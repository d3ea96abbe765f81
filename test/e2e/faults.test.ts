import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, AUTH, cliFile, cliSession } from "../fixtures/sessions.js";
import { type ProcessLimits, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

let root: string;
let dir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-faults-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
});
afterEach(async () => {
  if (server && server.child.exitCode === null) {
    server.child.kill("SIGKILL");
    await server.exited;
  }
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(limits: ProcessLimits = {}): Promise<string> {
  const own = { XDG_CACHE_HOME: path.join(root, "cache"), XDG_DATA_HOME: path.join(root, "data") };
  server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY, ...own }, limits);
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

const get = (url: string) => fetch(url, { headers: AUTH });

async function listedIds(url: string, until: (ids: string[]) => boolean, deadlineMs = 3000): Promise<string[]> {
  const deadline = Date.now() + deadlineMs;
  let ids: string[] = [];
  do {
    const body = (await (await get(`${url}/admin/sessions?limit=200`)).json()) as { sessions: { id: string }[] };
    ids = body.sessions.map((s) => s.id).sort();
    if (until(ids)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  } while (Date.now() < deadline);
  return ids;
}

// Root reads any file whatever its mode, so the server runs as `nobody` when the tests run as root.
const asRoot = process.getuid?.() === 0;
const unprivileged: ProcessLimits = asRoot ? { uid: 65534, gid: 65534 } : {};

describe("faults on a real server", () => {
  it("leaves out a file that becomes unreadable, answers 422 for it, says so once, and serves it again once readable", async () => {
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa")));
    await writeFile(path.join(dir, "bbbbbbbbbbbb.json"), cliFile(cliSession("bbbbbbbbbbbb")));
    await chmod(root, 0o755); // let `nobody` in, and let it write its cache and its trash
    await chmod(dir, 0o777);
    for (const own of ["cache", "data"]) await mkdir(path.join(root, own), { mode: 0o777 }).then(() => chmod(path.join(root, own), 0o777));
    const url = await start(unprivileged);
    expect(await listedIds(url, (ids) => ids.length === 2)).toEqual(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]);

    await chmod(path.join(dir, "aaaaaaaaaaaa.json"), 0o000);
    expect(await listedIds(url, (ids) => ids.length === 1)).toEqual(["bbbbbbbbbbbb"]);
    const res = await get(`${url}/admin/sessions/aaaaaaaaaaaa`);
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("session_corrupt");
    for (let n = 0; n < 3; n++) expect((await get(`${url}/admin/sessions`)).status).toBe(200);
    expect(server?.output().match(/skipping aaaaaaaaaaaa\.json: not a readable session/g)).toHaveLength(1);

    await chmod(path.join(dir, "aaaaaaaaaaaa.json"), 0o644);
    expect(await listedIds(url, (ids) => ids.length === 2)).toEqual(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]);
    expect(server?.output()).not.toMatch(/ERROR|internal/);
  });

  it("serves thousands of files under a low open-file limit (macOS shells default to 256; here 128)", async () => {
    const ids = Array.from({ length: 3000 }, (_, n) => `s${String(n).padStart(11, "0")}`);
    await Promise.all(ids.map((id) => writeFile(path.join(dir, `${id}.json`), cliFile(cliSession(id, { title: `number ${id}` })))));
    const url = await start({ openFiles: 128 });
    const list = (await (await get(`${url}/admin/sessions?limit=1`)).json()) as { total: number };
    expect(list.total).toBe(3000);
    // 32 clients at once (each a socket, so an open file too) reading 1,200 sessions between them.
    const statuses: number[] = [];
    let next = 0;
    const client = async () => {
      while (next < 1200) {
        const res = await get(`${url}/admin/sessions/${ids[next++ % ids.length]}`);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
    };
    await Promise.all(Array.from({ length: 32 }, client));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(statuses).toHaveLength(1200);
    const found = (await (await get(`${url}/admin/sessions/search?q=${ids[2999]}`)).json()) as { id: string }[];
    expect(found.map((s) => s.id)).toEqual([ids[2999]]);
    expect(server?.output()).not.toMatch(/EMFILE|ERROR/);
  });
});
