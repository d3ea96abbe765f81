import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SessionFullSchema, SessionListSchema, SessionSummarySchema } from "../../../src/http/schemas.js";
import { FsStore } from "../../../src/storage/fs/fs-store.js";
import type { ReadResult } from "../../../src/storage/store.js";
import { expectError, SESSION_CORRUPT, SESSION_NOT_FOUND } from "../../fixtures/errors.js";
import { type AppForOptions, AUTH, appFor, cliFile, cliSession, emptySession, recordingLogger } from "../../fixtures/sessions.js";

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-app-fs-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

type App = ReturnType<typeof appFor>;

function appOverDir(options: AppForOptions = {}): App {
  return appFor(new FsStore(dir), options);
}

/** The real FsStore, counting reads of each name: to see that a GET retried. */
class CountingFsStore extends FsStore {
  readonly reads = new Map<string, number>();
  override async read(name: string): Promise<ReadResult> {
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
    return super.read(name);
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function filePath(name: string): string {
  return path.join(dir, name);
}

async function writeSession(session: Record<string, unknown>, name = `${String(session.id)}.json`): Promise<void> {
  await writeFile(filePath(name), cliFile(session));
}

/** An index.json as the CLI writes it, with an entry per id and a top-level field we do not know. */
function cliIndex(ids: readonly string[]): { entries: Record<string, Record<string, unknown>>; updatedAt: string; version: number } {
  return {
    entries: Object.fromEntries(
      ids.map((id) => [
        id,
        {
          title: `Session ${id}`,
          model: "MiniMax-M2.5-5bit",
          tags: [],
          created: "2026-03-01T10:00:00.000Z",
          messageCount: 3,
          toolCallCount: 0,
          preview: `question from ${id}`,
        },
      ]),
    ),
    updatedAt: "2026-03-04T09:00:00.000Z",
    version: 2,
  };
}

function getSession(app: App, id: string): Promise<Response> {
  return Promise.resolve(app.request(`/admin/sessions/${id}`, { headers: AUTH }));
}

function deleteSession(app: App, id: string): Promise<Response> {
  return Promise.resolve(app.request(`/admin/sessions/${id}`, { method: "DELETE", headers: AUTH }));
}

async function listSessions(app: App) {
  const res = await app.request("/admin/sessions?limit=200", { headers: AUTH });
  expect(res.status).toBe(200);
  return SessionListSchema.parse(await res.json());
}

async function listedIds(app: App): Promise<string[]> {
  return (await listSessions(app)).sessions.map((session) => session.id);
}

async function namesInDir(): Promise<string[]> {
  return (await readdir(dir)).sort();
}

const WRONG_TYPED = {
  id: 42,
  created: 1234,
  updated: null,
  model: ["MiniMax"],
  cwd: false,
  title: { text: "t" },
  tags: "a,b",
  messages: "hello",
  toolCallCount: "3",
  compacted: "yes",
};

/** Session-named files that cannot be read as sessions, by kind of damage. */
const DAMAGED: { kind: string; name: string; make: () => Promise<void> }[] = [
  { kind: "a truncated JSON file", name: "truncated.json", make: () => writeFile(filePath("truncated.json"), cliFile(cliSession("truncated")).slice(0, 120)) },
  { kind: "a file that is not JSON", name: "not-json.json", make: () => writeFile(filePath("not-json.json"), "this is not JSON\n") },
  { kind: "a JSON array", name: "array.json", make: () => writeFile(filePath("array.json"), JSON.stringify([cliSession("array")])) },
  { kind: "a JSON null", name: "null.json", make: () => writeFile(filePath("null.json"), "null") },
  { kind: "an empty file", name: "empty.json", make: () => writeFile(filePath("empty.json"), "") },
  { kind: "a directory named x.json", name: "x.json", make: () => mkdir(filePath("x.json")) },
];

/** Files and directories that are not sessions at all, whatever they hold. */
async function plantForeignFiles(): Promise<void> {
  await writeFile(filePath("notes.txt"), cliFile(cliSession("notes")));
  await writeFile(filePath(".good.json.swp"), cliFile(cliSession("swap")));
  await writeFile(filePath("good.json.swp"), cliFile(cliSession("swap2")));
  await writeFile(filePath(".hidden.json"), cliFile(cliSession("hidden")));
  await mkdir(filePath("sub"));
  await writeFile(path.join(dir, "sub", "inner.json"), cliFile(cliSession("inner")));
}

describe("damaged and foreign files in the sessions directory", () => {
  it("lists only readable sessions, skipping damaged files and ignoring foreign ones", async () => {
    await writeSession(cliSession("good"));
    await writeSession({ ...WRONG_TYPED }, "wrong.json");
    for (const damaged of DAMAGED) await damaged.make();
    await plantForeignFiles();

    const list = await listSessions(appOverDir());
    expect(list.sessions.map((session) => session.id).sort()).toEqual(["good", "wrong"]);
    expect(list.total).toBe(2);
  });

  it("warns once per damaged file across several list requests, and never about foreign files", async () => {
    await writeSession(cliSession("good"));
    for (const damaged of DAMAGED) await damaged.make();
    await plantForeignFiles();
    const logger = recordingLogger();
    const app = appOverDir({ logger });

    for (let i = 0; i < 3; i++) expect(await listedIds(app)).toEqual(["good"]);

    const warnings = logger.lines.filter((line) => line.level === "warn").map((line) => line.line);
    for (const damaged of DAMAGED) {
      expect(
        warnings.filter((line) => line.includes(damaged.name)),
        damaged.name,
      ).toHaveLength(1);
    }
    expect(warnings).toHaveLength(DAMAGED.length);
  });

  it("serves a file with wrong-typed fields, with null, empty strings, empty lists, zero and false", async () => {
    await writeSession({ ...WRONG_TYPED }, "wrong.json");
    await writeSession(cliSession("mixed", { tags: ["a", 1, null, "b", { t: 1 }] }));
    const app = appOverDir();

    const res = await getSession(app, "wrong");
    expect(res.status).toBe(200);
    const expected = emptySession("wrong", (await stat(filePath("wrong.json"))).mtimeMs);
    expect(await res.json()).toEqual(expected);

    const { messages: _m, cwd: _c, tool_call_count: _t, compacted: _x, ...summary } = expected;
    const listed = (await listSessions(app)).sessions;
    expect(listed.find((session) => session.id === "wrong")).toEqual(summary);
    expect(listed.find((session) => session.id === "mixed")?.tags).toEqual(["a", "b"]);
  });

  it.each(DAMAGED.map((damaged) => [damaged.kind, damaged] as const))("answers 422 session_corrupt for GET of %s", async (_kind, damaged) => {
    await damaged.make();
    const res = await getSession(appOverDir(), damaged.name.replace(/\.json$/, ""));
    await expectError(res, 422, SESSION_CORRUPT);
  });

  it("answers 404 session_not_found for GET of a session with no file", async () => {
    await writeSession(cliSession("good"));
    const res = await getSession(appOverDir(), "missing");
    await expectError(res, 404, SESSION_NOT_FOUND);
  });

  it.each(DAMAGED.map((damaged) => [damaged.kind, damaged] as const))("deletes %s like any session", async (_kind, damaged) => {
    await damaged.make();
    const res = await deleteSession(appOverDir(), damaged.name.replace(/\.json$/, ""));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true, trash_id: null });
    expect(await namesInDir()).toEqual([]);
  });
});

describe("index.json is a hint, never the truth", () => {
  it("never lists an index entry whose file is gone", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("b"));
    await writeFile(filePath("index.json"), JSON.stringify(cliIndex(["a", "b", "ghost"]), null, 2));
    const app = appOverDir();

    const list = await listSessions(app);
    expect(list.sessions.map((session) => session.id)).toEqual(["a", "b"]);
    expect(list.total).toBe(2);
    expect((await getSession(app, "ghost")).status).toBe(404);
  });

  it("lists every session file when index.json is missing", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("b"));
    expect(await listedIds(appOverDir())).toEqual(["a", "b"]);
  });

  it("lists every session file when index.json is truncated", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("b"));
    await writeFile(filePath("index.json"), JSON.stringify(cliIndex(["a", "b"]), null, 2).slice(0, 50));
    expect(await listedIds(appOverDir())).toEqual(["a", "b"]);
  });

  it("lists a file that has no index entry", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("unindexed"));
    await writeFile(filePath("index.json"), JSON.stringify(cliIndex(["a"]), null, 2));
    expect(await listedIds(appOverDir())).toEqual(["a", "unindexed"]);
  });
});

describe("changes the CLI makes while the app runs", () => {
  it("lists a file that appears after an earlier answer", async () => {
    await writeSession(cliSession("a"));
    const app = appOverDir();
    expect(await listedIds(app)).toEqual(["a"]);

    await writeSession(cliSession("b", { updated: "2026-03-02T10:00:00.000Z" }));
    expect(await listedIds(app)).toEqual(["b", "a"]);
  });

  it("shows a new message in message_count on the next list", async () => {
    const session = cliSession("a");
    await writeSession(session);
    const app = appOverDir();
    expect((await listSessions(app)).sessions[0]?.message_count).toBe(2); // the system prompt is not counted

    const messages = [...(session.messages as unknown[]), { role: "user", content: "one more" }];
    await writeSession({ ...session, messages });
    expect((await listSessions(app)).sessions[0]?.message_count).toBe(3);
    const res = await getSession(app, "a");
    expect(SessionFullSchema.parse(await res.json()).messages).toEqual(messages);
  });

  it("reorders the list when a session's updated time changes", async () => {
    await writeSession(cliSession("a", { updated: "2026-03-01T10:00:00.000Z" }));
    await writeSession(cliSession("b", { updated: "2026-03-01T11:00:00.000Z" }));
    const app = appOverDir();
    expect(await listedIds(app)).toEqual(["b", "a"]);

    await writeSession(cliSession("a", { updated: "2026-03-01T12:00:00.000Z" }));
    const list = await listSessions(app);
    expect(list.sessions.map((session) => session.id)).toEqual(["a", "b"]);
    expect(list.sessions[0]?.updated).toBe("2026-03-01T12:00:00.000Z");
  });

  it("shows a rewrite that keeps the file's size and modification time (coarse file timestamps)", async () => {
    // A filesystem whose timestamps did not tick between two writes: both get the same whole-second mtime.
    const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
    await writeSession(cliSession("a", { title: "first title" }));
    await utimes(filePath("a.json"), tick, tick);
    const app = appOverDir();
    expect((await listSessions(app)).sessions[0]?.title).toBe("first title");

    const before = await stat(filePath("a.json"));
    await writeSession(cliSession("a", { title: "other title" })); // same length, so the same size
    await utimes(filePath("a.json"), tick, tick);
    const after = await stat(filePath("a.json"));
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);

    expect((await listSessions(app)).sessions[0]?.title).toBe("other title");
  });

  it("follows a rename: the new id is listed and served, the old one is gone", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("b"));
    const app = appOverDir();
    expect(await listedIds(app)).toEqual(["a", "b"]);

    await rename(filePath("a.json"), filePath("renamed.json"));
    expect(await listedIds(app)).toEqual(["b", "renamed"]);
    expect((await getSession(app, "a")).status).toBe(404);
    const res = await getSession(app, "renamed");
    expect(res.status).toBe(200);
    expect(SessionFullSchema.parse(await res.json()).id).toBe("renamed");
  });

  it("drops a file that disappears", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("b"));
    const app = appOverDir();
    expect(await listedIds(app)).toEqual(["a", "b"]);

    await unlink(filePath("a.json"));
    const list = await listSessions(app);
    expect(list.sessions.map((session) => session.id)).toEqual(["b"]);
    expect(list.total).toBe(1);
    expect((await getSession(app, "a")).status).toBe(404);
  });

  it("shows each change within 1 second with the default 500 ms listing cache", async () => {
    const WITHIN_1_S = { timeout: 1000, interval: 10 };
    await writeSession(cliSession("a"));
    const app = appOverDir({ catalog: { maxAgeMs: 500 } });
    expect(await listedIds(app)).toEqual(["a"]);

    await writeSession(cliSession("b"));
    await vi.waitFor(async () => expect(await listedIds(app), "new file listed within 1 s").toContain("b"), WITHIN_1_S);

    const grown = cliSession("b", { messages: [{ role: "user", content: "only one" }] });
    await writeSession(grown);
    const countOfB = async () => (await listSessions(app)).sessions.find((session) => session.id === "b")?.message_count;
    await vi.waitFor(async () => expect(await countOfB(), "changed file shown within 1 s").toBe(1), WITHIN_1_S);

    await unlink(filePath("a.json"));
    await vi.waitFor(async () => expect(await listedIds(app), "removed file dropped within 1 s").not.toContain("a"), WITHIN_1_S);
  });
});

describe("a file caught mid-write", () => {
  it("retries a truncated file and serves it complete once the CLI finishes writing", async () => {
    const session = cliSession("busy", { messages: [{ role: "user", content: "x".repeat(50_000) }] });
    const full = cliFile(session);
    await writeFile(filePath("busy.json"), full.slice(0, Math.floor(full.length / 2)));
    const store = new CountingFsStore(dir);
    // The CLI finishes its write while GET waits to read again (in that wait, rather than some time later).
    const finishWriting = () => writeFile(filePath("busy.json"), full);
    const res = await getSession(appFor(store, { sleep: finishWriting }), "busy");

    expect(res.status).toBe(200);
    const body = SessionFullSchema.parse(await res.json());
    expect(body.id).toBe("busy");
    expect(body.messages).toEqual(session.messages);
    expect(body.first_user_message).toBe("x".repeat(200));
    expect(store.reads.get("busy.json")).toBeGreaterThan(1);
  });

  it("answers 422 session_corrupt for a file that stays truncated, after retrying", async () => {
    await writeFile(filePath("broken.json"), cliFile(cliSession("broken")).slice(0, 100));
    const store = new CountingFsStore(dir);
    const waits: number[] = [];
    const app = appFor(store, {
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    const res = await getSession(app, "broken");
    await expectError(res, 422, SESSION_CORRUPT);
    expect(waits.length).toBeGreaterThan(0);
    expect(store.reads.get("broken.json")).toBe(waits.length + 1);
  });

  it("answers 422 for a permanently truncated file with the real sleep, within a second", async () => {
    await writeFile(filePath("broken.json"), cliFile(cliSession("broken")).slice(0, 100));
    const app = appOverDir({ sleep: realSleep });
    const startedAt = Date.now();
    const res = await getSession(app, "broken");
    expect(res.status).toBe(422);
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });
});

describe("DELETE and index.json", () => {
  const NOW = Date.parse("2026-05-06T07:08:09.010Z");

  it("deletes 20 distinct sessions concurrently; index.json then loses exactly those entries", async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, "0")}`);
    for (const id of ids) await writeSession(cliSession(id));
    const index = cliIndex([...ids, "ghost"]);
    await writeFile(filePath("index.json"), JSON.stringify(index, null, 2));
    const app = appOverDir({ now: () => NOW });
    const doomed = ids.slice(0, 20);

    const responses = await Promise.all(doomed.map((id) => deleteSession(app, id)));
    expect(responses.map((res) => res.status)).toEqual(doomed.map(() => 200));
    for (const res of responses) expect(await res.json()).toEqual({ deleted: true, trash_id: null });

    const kept = ids.slice(20);
    const after: unknown = JSON.parse(await readFile(filePath("index.json"), "utf8"));
    expect(after).toEqual({
      ...index,
      entries: Object.fromEntries(Object.entries(index.entries).filter(([id]) => !doomed.includes(id))),
      updatedAt: new Date(NOW).toISOString(),
    });
    expect(await namesInDir()).toEqual([...kept.map((id) => `${id}.json`), "index.json"].sort());
    expect(await listedIds(app)).toEqual(kept);
  });

  it("of concurrent deletes of one session, exactly one answers 200 and the rest 404", async () => {
    await writeSession(cliSession("once"));
    await writeSession(cliSession("other"));
    await writeFile(filePath("index.json"), JSON.stringify(cliIndex(["once", "other"]), null, 2));
    const app = appOverDir();

    const statuses = (await Promise.all(Array.from({ length: 10 }, () => deleteSession(app, "once")))).map((res) => res.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 404)).toHaveLength(9);
    expect(await namesInDir()).toEqual(["index.json", "other.json"]);
  });

  it("rewrites index.json atomically as the CLI formats it, stamping updatedAt and keeping other fields", async () => {
    await writeSession(cliSession("a"));
    await writeSession(cliSession("b"));
    const index = { version: 3, entries: cliIndex(["a", "b"]).entries, updatedAt: "2026-03-04T09:00:00.000Z", cli: { build: "0.4.1" } };
    await writeFile(filePath("index.json"), JSON.stringify(index, null, 2));
    const inodeBefore = (await stat(filePath("index.json"))).ino;

    const res = await deleteSession(appOverDir({ now: () => NOW }), "a");
    expect(res.status).toBe(200);

    const { a: _gone, ...entries } = index.entries;
    const expected = { ...index, entries, updatedAt: "2026-05-06T07:08:09.010Z" };
    expect(await readFile(filePath("index.json"), "utf8")).toBe(JSON.stringify(expected, null, 2));
    expect((await stat(filePath("index.json"))).ino).not.toBe(inodeBefore); // renamed into place
    expect(await namesInDir()).toEqual(["b.json", "index.json"]);
  });

  it("leaves a missing index.json missing", async () => {
    await writeSession(cliSession("a"));
    const res = await deleteSession(appOverDir({ now: () => NOW }), "a");
    expect(res.status).toBe(200);
    expect(await namesInDir()).toEqual([]);
  });

  it("leaves a truncated index.json exactly as it was", async () => {
    await writeSession(cliSession("a"));
    const truncated = JSON.stringify(cliIndex(["a"]), null, 2).slice(0, 60);
    await writeFile(filePath("index.json"), truncated);
    const res = await deleteSession(appOverDir({ now: () => NOW }), "a");
    expect(res.status).toBe(200);
    expect(await readFile(filePath("index.json"), "utf8")).toBe(truncated);
    expect(await namesInDir()).toEqual(["index.json"]);
  });
});

describe("ids that start with - or _", () => {
  it.each(["-8h6JWRxg1BC", "_abc"])("lists, gets and deletes %s", async (id) => {
    await writeSession(cliSession(id));
    await writeSession(cliSession("plain"));
    const index = cliIndex([id, "plain"]);
    await writeFile(filePath("index.json"), JSON.stringify(index, null, 2));
    const app = appOverDir();

    expect(await listedIds(app)).toContain(id);
    const res = await getSession(app, encodeURIComponent(id));
    expect(res.status).toBe(200);
    expect(SessionFullSchema.parse(await res.json())).toMatchObject({ id, title: `Session ${id}` });

    expect((await deleteSession(app, id)).status).toBe(200);
    expect(await listedIds(app)).toEqual(["plain"]);
    expect(await namesInDir()).toEqual(["index.json", "plain.json"]);
    const after: unknown = JSON.parse(await readFile(filePath("index.json"), "utf8"));
    expect(after).toEqual({ ...index, entries: { plain: index.entries.plain }, updatedAt: expect.any(String) });
  });
});

describe("security: nothing outside the sessions directory", () => {
  const SECRET_TITLE = "TOP SECRET outside the sessions directory";
  const secretText = cliFile(cliSession("secret", { title: SECRET_TITLE }));

  async function plantSecret(): Promise<string> {
    const secret = path.join(root, "secret.json");
    await writeFile(secret, secretText);
    await writeFile(path.join(root, "secret"), secretText);
    return secret;
  }

  const traversals = [
    "/admin/sessions/..%2Fsecret",
    "/admin/sessions/..%2fsecret.json",
    "/admin/sessions/%2e%2e%2Fsecret",
    "/admin/sessions/%2E%2E%2Fsecret",
    "/admin/sessions/..%5Csecret",
    "/admin/sessions/secret%00",
    "/admin/sessions/secret.json",
    "/admin/sessions/%252e%252e%252fsecret",
    "/admin/sessions/..%252Fsecret",
    "/admin/sessions/....//secret",
    "/admin/sessions/../secret",
    "/admin/sessions/.%2e/secret",
    "/admin/sessions/%2e%2e",
    "/admin/sessions/..%2F..%2Fsessions%2F..%2Fsecret",
  ];

  it.each(traversals)("never serves or deletes the outside file through %s", async (url) => {
    const secret = await plantSecret();
    await writeSession(cliSession("inside"));
    const logger = recordingLogger();
    const app = appOverDir({ logger });

    for (const method of ["GET", "DELETE"]) {
      const res = await app.request(url, { method, headers: AUTH });
      const body = await res.text();
      expect(res.status, `${method} ${url}`).not.toBe(200);
      expect(res.status, `${method} ${url}`).toBeLessThan(500);
      expect(body).not.toContain("TOP SECRET");
    }

    expect(await readFile(secret, "utf8")).toBe(secretText);
    expect(await readFile(path.join(root, "secret"), "utf8")).toBe(secretText);
    expect(await namesInDir()).toEqual(["inside.json"]);
    expect(logger.lines.filter((line) => line.level === "error")).toEqual([]);
  });

  it("never serves a symlink pointing outside: GET answers 422, list and search skip it, DELETE removes only the link", async () => {
    const secret = await plantSecret();
    await writeSession(cliSession("inside"));
    await symlink(secret, filePath("evil.json"));
    const app = appOverDir();

    const got = await getSession(app, "evil");
    expect(got.status).toBe(422);
    expect(await got.text()).not.toContain("TOP SECRET");
    expect(await listedIds(app)).toEqual(["inside"]);
    const search = await app.request("/admin/sessions/search?q=secret", { headers: AUTH });
    expect(search.status).toBe(200);
    expect(SessionSummarySchema.array().parse(await search.json())).toEqual([]);

    const deleted = await deleteSession(app, "evil");
    expect(deleted.status).toBe(200);
    await expect(lstat(filePath("evil.json"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(secret, "utf8")).toBe(secretText);
    expect(await namesInDir()).toEqual(["inside.json"]);
  });

  it.each(["index", "INDEX", "Index"])("answers 404 to GET and DELETE of /admin/sessions/%s, leaving index.json byte for byte", async (id) => {
    await writeSession(cliSession("a"));
    const indexText = JSON.stringify(cliIndex(["a"]), null, 2);
    await writeFile(filePath("index.json"), indexText);
    const inodeBefore = (await stat(filePath("index.json"))).ino;
    const app = appOverDir();

    const got = await getSession(app, id);
    await expectError(got, 404, SESSION_NOT_FOUND);
    const deleted = await deleteSession(app, id);
    await expectError(deleted, 404, SESSION_NOT_FOUND);

    expect(await readFile(filePath("index.json"), "utf8")).toBe(indexText);
    expect((await stat(filePath("index.json"))).ino).toBe(inodeBefore);
    expect(await listedIds(app)).toEqual(["a"]);
  });
});
