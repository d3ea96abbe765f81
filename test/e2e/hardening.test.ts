import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { expectError, SESSION_CORRUPT } from "../fixtures/errors.js";
import { ADMIN_KEY, AUTH, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ProcessLimits, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

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
  await killProcess(server);
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(args: string[] = [], env: Record<string, string> = { OPTA_ADMIN_KEY: ADMIN_KEY }, limits: ProcessLimits = {}): Promise<string> {
  server = startProcess(["--dir", dir, "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0", ...args], env, limits);
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

const get = (url: string) => fetch(url, { headers: AUTH });

/** The listed ids, sorted, once `ready` holds for them: the server sees a change in the directory within the deadline. */
function listedIds(url: string, ready: (ids: string[]) => boolean, deadlineMs = 3000): Promise<string[]> {
  return vi.waitFor(
    async () => {
      const body = (await (await get(`${url}/admin/sessions?limit=200`)).json()) as { sessions: { id: string }[] };
      const ids = body.sessions.map((s) => s.id).sort();
      expect(ready(ids), `listed: ${ids.join(", ")}`).toBe(true);
      return ids;
    },
    { timeout: deadlineMs, interval: 50 },
  );
}

// Root reads any file whatever its mode, so the server runs as `nobody` when the tests run as root.
const asRoot = process.getuid?.() === 0;
const unprivileged: ProcessLimits = asRoot ? { uid: 65534, gid: 65534 } : {};

describe("the real server, hardened", () => {
  it("deletes into --data-dir's trash, lists it, restores it with its index entry, and purges", async () => {
    const text = cliFile(cliSession("aaaaaaaaaaaa"));
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), text);
    await writeFile(path.join(dir, "index.json"), cliFile({ entries: { aaaaaaaaaaaa: { title: "t" } }, updatedAt: "x" }));
    const url = await start();
    const call = (method: string, route: string) => fetch(`${url}${route}`, { method, headers: AUTH });

    expect(await (await call("DELETE", "/admin/sessions/aaaaaaaaaaaa")).json()).toEqual({ deleted: true, trash_id: expect.stringMatching(/^[\w-]+\.[0-9]+$/) });
    expect(existsSync(path.join(dir, "aaaaaaaaaaaa.json"))).toBe(false);
    expect(JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")).entries).toEqual({});
    const [item] = ((await (await call("GET", "/admin/trash")).json()) as { items: { id: string }[] }).items;
    const [own, ...others] = await readdir(path.join(dataDir, "trash")); // this sessions directory's own trash
    expect(others).toEqual([]);
    const trashDir = path.join(dataDir, "trash", own as string);
    expect(await readFile(path.join(trashDir, `${item?.id}.json`), "utf8")).toBe(text);

    expect(await (await call("POST", `/admin/trash/${item?.id}/restore`)).json()).toEqual({ restored: true, id: "aaaaaaaaaaaa" });
    expect(await readFile(path.join(dir, "aaaaaaaaaaaa.json"), "utf8")).toBe(text);
    expect(JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")).entries).toEqual({ aaaaaaaaaaaa: { title: "t" } });
    expect(await readdir(trashDir)).toEqual([]);

    await call("DELETE", "/admin/sessions/aaaaaaaaaaaa");
    const [again] = ((await (await call("GET", "/admin/trash")).json()) as { items: { id: string }[] }).items;
    expect(await (await call("DELETE", `/admin/trash/${again?.id}`)).json()).toEqual({ purged: true });
    expect(await readdir(trashDir)).toEqual([]);
  });

  it("keeps one trash per sessions directory: another directory's server never lists, restores or purges its items, nor old shared ones", async () => {
    const otherDir = path.join(root, "other-sessions");
    await mkdir(otherDir);
    await writeFile(path.join(dir, "mine00000001.json"), cliFile(cliSession("mine00000001")));
    await writeFile(path.join(otherDir, "theirs000001.json"), cliFile(cliSession("theirs000001")));
    // An item from a version with one trash for every directory: where it came from is unknown.
    await mkdir(path.join(dataDir, "trash"), { recursive: true });
    await writeFile(path.join(dataDir, "trash", "shared000001.1000.json"), "shared: never lost, never restored anywhere");
    const other = startProcess(["--dir", otherDir, "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    try {
      const [, otherUrl] = await waitForOutput(other, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      expect((await fetch(`${otherUrl}/admin/sessions/theirs000001`, { method: "DELETE", headers: AUTH })).status).toBe(200);
      const theirTrash = await readdir(path.join(dataDir, "trash"));

      const url = await start(["--trash-days", "1"]);
      expect(server?.output()).toMatch(/1 deleted session\(s\) in .*trash are from before each sessions directory had its own trash/);
      const call = (method: string, route: string) => fetch(`${url}${route}`, { method, headers: AUTH });
      const deleted = (await (await call("DELETE", "/admin/sessions/mine00000001")).json()) as { trash_id: string };
      const ids = async (base: string) =>
        ((await (await fetch(`${base}/admin/trash`, { headers: AUTH })).json()) as { items: { id: string }[] }).items.map((i) => i.id);
      expect(await ids(url)).toEqual([deleted.trash_id]);
      expect(await ids(otherUrl as string)).toEqual([expect.stringMatching(/^theirs000001\.[0-9]+$/)]);
      expect((await call("POST", "/admin/trash/theirs000001/restore")).status).toBe(404);
      expect((await call("DELETE", "/admin/trash/theirs000001")).status).toBe(404);
      expect((await call("POST", "/admin/trash/shared000001/restore")).status).toBe(404);
      expect((await fetch(`${otherUrl}/admin/trash/mine00000001/restore`, { method: "POST", headers: AUTH })).status).toBe(404);
      expect(existsSync(path.join(otherDir, "mine00000001.json"))).toBe(false);

      // This server's purge (anything deleted over a day ago) reaches only its own trash: an ancient item planted in each.
      const mine = (await readdir(path.join(dataDir, "trash"))).find((name) => !theirTrash.includes(name)) as string;
      const theirs = theirTrash.find((name) => name !== "shared000001.1000.json") as string;
      await writeFile(path.join(dataDir, "trash", mine, "ancient00001.1000.json"), "old");
      await writeFile(path.join(dataDir, "trash", theirs, "ancient00002.1000.json"), "old");
      server?.child.kill("SIGTERM");
      await server?.exited;
      // Started again through a link to the same sessions directory: the same trash.
      await symlink(dir, path.join(root, "sessions-link"));
      await start(["--dir", path.join(root, "sessions-link"), "--trash-days", "1"]);
      await waitForOutput(server as ServerProcess, /purged 1 deleted session\(s\) from the trash/);
      expect(existsSync(path.join(dataDir, "trash", mine, "ancient00001.1000.json"))).toBe(false);
      expect(existsSync(path.join(dataDir, "trash", theirs, "ancient00002.1000.json"))).toBe(true);
      expect(await readFile(path.join(dataDir, "trash", "shared000001.1000.json"), "utf8")).toBe("shared: never lost, never restored anywhere");
    } finally {
      other.child.kill("SIGKILL");
      await other.exited;
    }
  });

  it("finishes at start a delete that a stop interrupted across filesystems: the set-aside session is listed again", async () => {
    const text = cliFile(cliSession("aside0000001"));
    await writeFile(path.join(dir, ".aside0000001.json.0123456789ab.deleting"), text);
    const url = await start();
    expect(await listedIds(url, (ids) => ids.length > 0)).toEqual(["aside0000001"]);
    expect(await readdir(dir)).toEqual(["aside0000001.json"]);
    expect(await readFile(path.join(dir, "aside0000001.json"), "utf8")).toBe(text);
    expect(server?.output()).toMatch(/finished 1 delete\(s\) interrupted by a stop/);
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

  it("keeps answering /healthz and keyed requests under a flood of idle sockets past the open-file limit", async () => {
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa")));
    const url = new URL(await start([], { OPTA_ADMIN_KEY: ADMIN_KEY }, { openFiles: 256 }));
    expect(server?.output()).toContain("at most 192 connections at once");
    const flood: Socket[] = [];
    try {
      const connected = await Promise.all(
        Array.from({ length: 320 }, () => {
          const socket = connect(Number(url.port), url.hostname);
          flood.push(socket);
          socket.on("error", () => {}); // closed by the server to make room: expected
          return new Promise<boolean>((resolve) => socket.once("connect", () => resolve(true)).once("close", () => resolve(false)));
        }),
      );
      expect(connected.filter(Boolean).length).toBeGreaterThan(256);
      const health = await fetch(`${url.origin}/healthz`, { signal: AbortSignal.timeout(5000) });
      expect(health.status).toBe(200);
      const list = await fetch(`${url.origin}/admin/sessions`, { headers: AUTH, signal: AbortSignal.timeout(5000) });
      expect(((await list.json()) as { total: number }).total).toBe(1);
      // The longest idle sockets were closed to make room: the server never held more than its cap.
      expect(flood.filter((socket) => socket.destroyed || socket.readableEnded).length).toBeGreaterThanOrEqual(320 - 192);
      expect(server?.output()).not.toMatch(/EMFILE|error/i);
    } finally {
      for (const socket of flood) socket.destroy();
    }
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

  it("leaves out a file that becomes unreadable, answers 422 for it, says so once, and serves it again once readable", async () => {
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa")));
    await writeFile(path.join(dir, "bbbbbbbbbbbb.json"), cliFile(cliSession("bbbbbbbbbbbb")));
    await chmod(root, 0o755); // let `nobody` in, and let it write its cache and its trash
    await chmod(dir, 0o777);
    for (const own of ["cache", "data"]) await mkdir(path.join(root, own), { mode: 0o777 }).then(() => chmod(path.join(root, own), 0o777));
    const url = await start([], { OPTA_ADMIN_KEY: ADMIN_KEY, XDG_CACHE_HOME: path.join(root, "cache") }, unprivileged);
    expect(await listedIds(url, (ids) => ids.length === 2)).toEqual(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]);

    await chmod(path.join(dir, "aaaaaaaaaaaa.json"), 0o000);
    expect(await listedIds(url, (ids) => ids.length === 1)).toEqual(["bbbbbbbbbbbb"]);
    const res = await get(`${url}/admin/sessions/aaaaaaaaaaaa`);
    await expectError(res, 422, SESSION_CORRUPT);
    for (let n = 0; n < 3; n++) expect((await get(`${url}/admin/sessions`)).status).toBe(200);
    expect(server?.output().match(/skipping aaaaaaaaaaaa\.json: not a readable session/g)).toHaveLength(1);

    await chmod(path.join(dir, "aaaaaaaaaaaa.json"), 0o644);
    expect(await listedIds(url, (ids) => ids.length === 2)).toEqual(["aaaaaaaaaaaa", "bbbbbbbbbbbb"]);
    expect(server?.output()).not.toMatch(/ERROR|internal/);
  });

  it("lists a trash of 200 items under an open-file limit of 128, at once and page by page", async () => {
    const ids = Array.from({ length: 200 }, (_, n) => `t${String(n).padStart(11, "0")}`);
    await Promise.all(ids.map((id) => writeFile(path.join(dir, `${id}.json`), cliFile(cliSession(id, { title: `number ${id}` })))));
    const url = await start([], undefined, { openFiles: 128 });
    for (const id of ids) expect((await fetch(`${url}/admin/sessions/${id}`, { method: "DELETE", headers: AUTH })).status).toBe(200);
    const res = await get(`${url}/admin/trash?limit=200`);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { session_id: string; session: { title: string } | null }[] };
    expect(items.map((item) => item.session_id)).toEqual([...ids].reverse());
    expect(items.every((item) => item.session?.title === `number ${item.session_id}`)).toBe(true);
    const page = (await (await get(`${url}/admin/trash?limit=2&offset=198`)).json()) as { items: { session_id: string }[] };
    expect(page.items.map((item) => item.session_id)).toEqual([ids[1], ids[0]]);
    expect(server?.output()).not.toMatch(/EMFILE|ERROR/);
  });

  it("serves thousands of files under a low open-file limit (macOS shells default to 256; here 128)", async () => {
    const ids = Array.from({ length: 3000 }, (_, n) => `s${String(n).padStart(11, "0")}`);
    await Promise.all(ids.map((id) => writeFile(path.join(dir, `${id}.json`), cliFile(cliSession(id, { title: `number ${id}` })))));
    const url = await start([], undefined, { openFiles: 128 });
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
