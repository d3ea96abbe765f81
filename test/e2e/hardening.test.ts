import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, AUTH, cliFile, cliSession } from "../fixtures/sessions.js";
import { type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

let root: string;
let dir: string;
let dataDir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-hardening-"));
  dir = path.join(root, "sessions");
  dataDir = path.join(root, "data");
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

async function start(args: string[] = [], env: Record<string, string> = { OPTA_ADMIN_KEY: ADMIN_KEY }): Promise<string> {
  server = startProcess(["--dir", dir, "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0", ...args], env);
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

describe("the real server, hardened", () => {
  it("deletes into --data-dir's trash, lists it, restores it with its index entry, and purges", async () => {
    const text = cliFile(cliSession("aaaaaaaaaaaa"));
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), text);
    await writeFile(path.join(dir, "index.json"), cliFile({ entries: { aaaaaaaaaaaa: { title: "t" } }, updatedAt: "x" }));
    const url = await start();
    const call = (method: string, route: string) => fetch(`${url}${route}`, { method, headers: AUTH });

    expect(await (await call("DELETE", "/admin/sessions/aaaaaaaaaaaa")).json()).toEqual({ deleted: true });
    expect(existsSync(path.join(dir, "aaaaaaaaaaaa.json"))).toBe(false);
    expect(JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")).entries).toEqual({});
    const [item] = ((await (await call("GET", "/admin/trash")).json()) as { items: { id: string }[] }).items;
    expect(await readFile(path.join(dataDir, "trash", `${item?.id}.json`), "utf8")).toBe(text);

    expect(await (await call("POST", `/admin/trash/${item?.id}/restore`)).json()).toEqual({ restored: true, id: "aaaaaaaaaaaa" });
    expect(await readFile(path.join(dir, "aaaaaaaaaaaa.json"), "utf8")).toBe(text);
    expect(JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")).entries).toEqual({ aaaaaaaaaaaa: { title: "t" } });
    expect(await readdir(path.join(dataDir, "trash"))).toEqual([]);

    await call("DELETE", "/admin/sessions/aaaaaaaaaaaa");
    const [again] = ((await (await call("GET", "/admin/trash")).json()) as { items: { id: string }[] }).items;
    expect(await (await call("DELETE", `/admin/trash/${again?.id}`)).json()).toEqual({ purged: true });
    expect(await readdir(path.join(dataDir, "trash"))).toEqual([]);
  });

  it("refuses to start when the trash cannot be made in --data-dir", async () => {
    await writeFile(path.join(root, "a-file"), "");
    const bad = startProcess(["--dir", dir, "--data-dir", path.join(root, "a-file", "data"), "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/error: cannot create the trash in the data directory .*a-file\/data: ENOTDIR \(set --data-dir\)/);
  });

  it("throttles wrong keys by the socket's address, never by a header the client sets", async () => {
    const url = await start();
    const statuses: number[] = [];
    for (let n = 0; n < 11; n++) {
      // A forged X-Forwarded-For per request must not give each guess a fresh address.
      const res = await fetch(`${url}/admin/sessions`, { headers: { "X-Admin-Key": "wrong-key-0123456789", "X-Forwarded-For": `10.0.0.${n}` } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    expect(server?.output()).toMatch(/too many wrong admin keys from (::ffff:)?127\.0\.0\.1: refusing it for 60 s/);
    expect(server?.output()).not.toContain("wrong-key-0123456789");
  });

  it("cuts off a client that sends its headers too slowly (--request-timeout)", async () => {
    const url = new URL(await start(["--request-timeout", "1"]));
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const startedAt = Date.now();
      const socket = connect(Number(url.port), url.hostname, () => socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
      socket.on("error", reject);
      socket.on("close", () => resolve(Date.now() - startedAt));
      socket.resume();
      setTimeout(() => reject(new Error("still open after 5 s")), 5000).unref();
    });
    expect(closedAfter).toBeLessThan(4000);
  });

  it("reads the key from OPTA_ADMIN_KEY_FILE, and refuses to start with a short key", async () => {
    const keyFile = path.join(root, "key");
    await writeFile(keyFile, `${ADMIN_KEY}\n`, { mode: 0o600 });
    const url = await start([], { OPTA_ADMIN_KEY_FILE: keyFile });
    expect((await fetch(`${url}/admin/sessions`, { headers: AUTH })).status).toBe(200);
    server?.child.kill("SIGKILL");
    await server?.exited;

    const short = startProcess(["--dir", dir, "--port", "0"], { OPTA_ADMIN_KEY: "hunter2" });
    expect(await short.exited).toBe(2);
    expect(short.output()).toMatch(/OPTA_ADMIN_KEY: the key has 7 characters; use at least 16/);
    expect(short.output()).not.toContain("hunter2");
  });
});
