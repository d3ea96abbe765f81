import { describe, expect, it } from "vitest";
import { SessionListSchema } from "../../../../src/http/schemas.js";
import { MemoryStore } from "../../../../src/storage/memory-store.js";
import type { ReadResult, StoreEntry } from "../../../../src/storage/store.js";
import { expectError, expectInvalidParameter, ROUTE_NOT_FOUND, SESSION_CORRUPT, SESSION_ID_RULES, SESSION_NOT_FOUND } from "../../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, emptySession, MESSAGES_OF_EVERY_SHAPE, storeWith } from "../../../fixtures/sessions.js";

type App = ReturnType<typeof appFor>;

const NOW = Date.parse("2030-01-01T00:00:00Z");
const clock = { now: () => NOW };

/** A MemoryStore that records every call, to prove a request never reached it. */
class RecordingStore extends MemoryStore {
  readonly calls: string[] = [];
  override async list(): Promise<StoreEntry[]> {
    this.calls.push("list");
    return super.list();
  }
  override async read(name: string): Promise<ReadResult> {
    this.calls.push(`read ${name}`);
    return super.read(name);
  }
  override async remove(name: string): Promise<boolean> {
    this.calls.push(`remove ${name}`);
    return super.remove(name);
  }
  override async replace(name: string, text: string, expected?: string): Promise<boolean> {
    this.calls.push(`replace ${name}`);
    return super.replace(name, text, expected);
  }
}

/** A MemoryStore that lets the event loop turn on every call, as a filesystem does, so concurrent requests interleave. */
class InterleavingStore extends MemoryStore {
  override async read(name: string): Promise<ReadResult> {
    await turn();
    return super.read(name);
  }
  override async remove(name: string): Promise<boolean> {
    await turn();
    return super.remove(name);
  }
  override async replace(name: string, text: string, expected?: string): Promise<boolean> {
    await turn();
    return super.replace(name, text, expected);
  }
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function get(app: App, id: string): Promise<Response> {
  return app.request(`/admin/sessions/${id}`, { headers: AUTH });
}

async function del(app: App, id: string): Promise<Response> {
  return app.request(`/admin/sessions/${id}`, { method: "DELETE", headers: AUTH });
}

async function listIds(app: App): Promise<string[]> {
  const res = await app.request("/admin/sessions", { headers: AUTH });
  expect(res.status).toBe(200);
  return SessionListSchema.parse(await res.json()).sessions.map((session) => session.id);
}

function indexFile(ids: string[]): Record<string, unknown> {
  return {
    version: 2,
    entries: Object.fromEntries(
      ids.map((id) => [
        id,
        {
          title: `Session ${id}`,
          model: "MiniMax-M2.5-5bit",
          tags: ["t"],
          created: "2026-03-01T10:00:00.000Z",
          messageCount: 3,
          toolCallCount: 1,
          preview: `question from ${id}`,
        },
      ]),
    ),
    updatedAt: "2026-03-04T09:00:00.000Z",
    cliExtra: { keep: ["me", 1, null] },
  };
}

/** The index as the service should write it after removing `removed`. */
function indexWithout(index: Record<string, unknown>, removed: string[]): string {
  const copy = structuredClone(index) as { entries: Record<string, unknown>; updatedAt: string };
  for (const id of removed) delete copy.entries[id];
  copy.updatedAt = "2030-01-01T00:00:00.000Z";
  return JSON.stringify(copy, null, 2);
}

describe("GET /admin/sessions/:id", () => {
  it("answers every summary field plus cwd, messages exactly as stored, tool_call_count and compacted", async () => {
    const messages = MESSAGES_OF_EVERY_SHAPE;
    const store = storeWith([
      cliSession("abc123", {
        created: "2026-03-01T10:22:31.123Z",
        updated: "2026-03-02T08:00:00.000Z",
        model: "mlx-community/Llama-3.3-70B-4bit",
        cwd: "/Users/dev/opta",
        title: "Read a file",
        tags: ["files", 3],
        messages,
        toolCallCount: 1,
        compacted: true,
      }),
    ]);
    const res = await get(appFor(store), "abc123");
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({
      id: "abc123",
      title: "Read a file",
      model: "mlx-community/Llama-3.3-70B-4bit",
      tags: ["files"],
      created: "2026-03-01T10:22:31.123Z",
      updated: "2026-03-02T08:00:00.000Z",
      created_at: "2026-03-01T10:22:31.123Z",
      updated_at: "2026-03-02T08:00:00.000Z",
      message_count: 10,
      first_user_message: "look at this",
      cwd: "/Users/dev/opta",
      messages,
      tool_call_count: 1,
      compacted: true,
    });
  });

  it("answers the same summary fields as the list for the same session", async () => {
    const store = storeWith([cliSession("abc", { title: " ", tags: ["x"], updated: "" })]);
    const app = appFor(store);
    const listed = SessionListSchema.parse(await (await app.request("/admin/sessions", { headers: AUTH })).json()).sessions;
    expect(listed).toHaveLength(1);
    const full = (await (await get(app, "abc")).json()) as Record<string, unknown>;
    expect(full).toMatchObject({ ...listed[0], title: null, updated: "2026-03-01T10:00:00.000Z" });
  });

  it.each([
    ["a string", "3", 0],
    ["a negative number", -2, 0],
    ["a fraction", 1.5, 0],
    ["null", null, 0],
    ["a count", 7, 7],
  ])("answers tool_call_count from toolCallCount when it is %s", async (_label, value, expected) => {
    const res = await get(appFor(storeWith([cliSession("abc", { toolCallCount: value })])), "abc");
    expect(((await res.json()) as { tool_call_count: unknown }).tool_call_count).toBe(expected);
  });

  it.each([
    ["a string", "yes", false],
    ["a number", 1, false],
    ["true", true, true],
    ["false", false, false],
  ])("answers compacted from the file when it is %s", async (_label, value, expected) => {
    const res = await get(appFor(storeWith([cliSession("abc", { compacted: value })])), "abc");
    expect(((await res.json()) as { compacted: unknown }).compacted).toBe(expected);
  });

  it("fills missing or wrong-typed fields with their empty values and still serves the session", async () => {
    const store = storeWith([], { "bare.json": cliFile({ cwd: 5, messages: "nope", tags: null }) });
    const res = await get(appFor(store), "bare");
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual(emptySession("bare", (await store.stat("bare.json"))?.mtimeMs ?? Number.NaN));
  });

  it("answers under the requested id when the inner id differs", async () => {
    const app = appFor(storeWith([], { "outer.json": cliFile(cliSession("inner")) }));
    const res = await get(app, "outer");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: unknown }).id).toBe("outer");
    await expectError(await get(app, "inner"), 404, SESSION_NOT_FOUND);
  });

  it("answers 404 session_not_found for an id with no file", async () => {
    await expectError(await get(appFor(storeWith([cliSession("abc")])), "nosuch"), 404, SESSION_NOT_FOUND);
  });

  it.each([
    ["not JSON (truncated)", '{\n  "id": "bad",\n  "messages": ['],
    ["a JSON array", "[]"],
    ["JSON null", "null"],
    ["a JSON string", '"bad"'],
    ["empty", ""],
  ])("answers 422 session_corrupt for a file that is %s", async (_label, text) => {
    await expectError(await get(appFor(storeWith([], { "bad.json": text })), "bad"), 422, SESSION_CORRUPT);
  });

  it("answers 422 session_corrupt for a directory named like a session", async () => {
    const store = new MemoryStore().putDirectory("dir.json");
    await expectError(await get(appFor(store), "dir"), 422, SESSION_CORRUPT);
  });

  it.each(["-8h6JWRxg1BC", "_8h6JWRxg1BC", "--", "_"])("serves and deletes id %j, which starts with - or _", async (id) => {
    const app = appFor(storeWith([cliSession(id)]));
    const res = await get(app, id);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: unknown }).id).toBe(id);
    expect((await del(app, id)).status).toBe(200);
    await expectError(await get(app, id), 404, SESSION_NOT_FOUND);
  });

  it("accepts an id of 128 characters", async () => {
    const id = "a".repeat(128);
    const app = appFor(storeWith([cliSession(id)]));
    expect((await get(app, id)).status).toBe(200);
    await expectError(await get(app, "b".repeat(128)), 404, SESSION_NOT_FOUND);
  });
});

describe("/admin/sessions/:id with an invalid id", () => {
  const invalid = [
    ["129 characters", "a".repeat(129)],
    ["a dot", "a.b"],
    ["an encoded slash", "a%2Fb"],
    ["an encoded path traversal", "..%2F..%2Fetc"],
    ["encoded dots and a slash", "%2e%2e%2Findex"],
    ["an encoded backslash", "a%5Cb"],
    ["an encoded NUL", "a%00b"],
    ["a double-encoded slash", "a%252Fb"],
    ["a space", "a%20b"],
    ["a plus", "a+b"],
    ["a non-ASCII letter", encodeURIComponent("café")],
    ["an emoji", encodeURIComponent("😀")],
    ["a .json suffix", "abc.json"],
  ];

  it.each(invalid)("GET answers 400 naming id for %s, without touching the store", async (_label, raw) => {
    const store = new RecordingStore();
    store.put("abc.json", cliFile(cliSession("abc")));
    await expectInvalidParameter(await get(appFor(store), raw), "id", SESSION_ID_RULES);
    expect(store.calls).toEqual([]);
  });

  it.each(invalid)("DELETE answers 400 naming id for %s, without touching the store", async (_label, raw) => {
    const store = new RecordingStore();
    store.put("abc.json", cliFile(cliSession("abc")));
    await expectInvalidParameter(await del(appFor(store), raw), "id", SESSION_ID_RULES);
    expect(store.calls).toEqual([]);
    expect(store.get("abc.json")).toBeDefined();
  });

  it("never reaches the session routes for %2e%2e, which URL parsing resolves to /admin/", async () => {
    const store = new RecordingStore();
    const res = await get(appFor(store), "%2e%2e");
    await expectError(res, 404, ROUTE_NOT_FOUND);
    expect(store.calls).toEqual([]);
  });
});

describe("/admin/sessions/index", () => {
  const indexText = cliFile(indexFile(["abc"]));

  it.each(["index", "INDEX", "Index"])("GET %s answers 404 and leaves index.json alone", async (id) => {
    const store = storeWith([cliSession("abc")], { "index.json": indexText });
    await expectError(await get(appFor(store, clock), id), 404, SESSION_NOT_FOUND);
    expect(store.get("index.json")).toBe(indexText);
  });

  it.each(["index", "INDEX", "Index"])("DELETE %s answers 404 and leaves index.json alone", async (id) => {
    const store = storeWith([cliSession("abc")], { "index.json": indexText });
    await expectError(await del(appFor(store, clock), id), 404, SESSION_NOT_FOUND);
    expect(store.get("index.json")).toBe(indexText);
  });
});

describe("DELETE /admin/sessions/:id", () => {
  it("answers {deleted:true} and the session is gone from get and list", async () => {
    const app = appFor(storeWith([cliSession("keep"), cliSession("gone")]), clock);
    expect(await listIds(app)).toEqual(["gone", "keep"]);
    const res = await del(app, "gone");
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ deleted: true, trash_id: null });
    await expectError(await get(app, "gone"), 404, SESSION_NOT_FOUND);
    expect(await listIds(app)).toEqual(["keep"]);
    expect((await get(app, "keep")).status).toBe(200);
  });

  it("answers 404 session_not_found on a second delete", async () => {
    const app = appFor(storeWith([cliSession("gone")]), clock);
    expect((await del(app, "gone")).status).toBe(200);
    await expectError(await del(app, "gone"), 404, SESSION_NOT_FOUND);
  });

  it("answers 404 session_not_found for an id with no file", async () => {
    await expectError(await del(appFor(storeWith([cliSession("abc")]), clock), "nosuch"), 404, SESSION_NOT_FOUND);
  });

  it("removes the index entry, keeps every other entry and field, stamps updatedAt and writes the CLI's format", async () => {
    const index = indexFile(["a1", "b2", "c3"]);
    const store = storeWith([cliSession("a1"), cliSession("b2"), cliSession("c3")], { "index.json": JSON.stringify(index, null, 2) });
    expect((await del(appFor(store, clock), "b2")).status).toBe(200);
    expect(store.get("index.json")).toBe(indexWithout(index, ["b2"]));
    expect(store.get("b2.json")).toBeUndefined();
  });

  it("leaves a missing index missing", async () => {
    const store = storeWith([cliSession("abc")]);
    expect((await del(appFor(store, clock), "abc")).status).toBe(200);
    expect(store.get("index.json")).toBeUndefined();
    expect(await store.list()).toEqual([]);
  });

  it.each([
    ["truncated JSON", '{\n  "entries": {\n    "abc": { "title": "x"'],
    ["a JSON array", '["abc"]'],
    ["without entries", '{ "updatedAt": "2026-03-04T09:00:00.000Z" }'],
  ])("leaves an unreadable index (%s) exactly as it was", async (_label, text) => {
    const store = storeWith([cliSession("abc")], { "index.json": text });
    expect((await del(appFor(store, clock), "abc")).status).toBe(200);
    expect(store.get("index.json")).toBe(text);
    expect(store.get("abc.json")).toBeUndefined();
  });

  it.each([
    ["not JSON", "{ truncated"],
    ["a JSON array", "[1, 2]"],
  ])("removes a corrupt session file (%s) and its index entry", async (_label, text) => {
    const index = indexFile(["bad", "ok"]);
    const store = storeWith([cliSession("ok")], { "bad.json": text, "index.json": JSON.stringify(index, null, 2) });
    const app = appFor(store, clock);
    expect((await del(app, "bad")).status).toBe(200);
    expect(store.get("bad.json")).toBeUndefined();
    await expectError(await get(app, "bad"), 404, SESSION_NOT_FOUND);
    expect(store.get("index.json")).toBe(indexWithout(index, ["bad"]));
    expect(await listIds(app)).toEqual(["ok"]);
  });

  it("removes a directory named like a session", async () => {
    const store = storeWith([cliSession("ok")]).putDirectory("dir.json");
    const app = appFor(store, clock);
    expect((await del(app, "dir")).status).toBe(200);
    await expectError(await get(app, "dir"), 404, SESSION_NOT_FOUND);
    expect((await store.list()).map((entry) => entry.name)).toEqual(["ok.json"]);
  });

  it("lets concurrent deletes of distinct ids all succeed, and the index loses exactly those entries", async () => {
    const ids = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
    const index = indexFile(ids);
    const store = new InterleavingStore({ "index.json": JSON.stringify(index, null, 2) });
    for (const id of ids) store.put(`${id}.json`, cliFile(cliSession(id)));
    const app = appFor(store, clock);
    const doomed = ["s2", "s3", "s5", "s6", "s8"];
    const answers = await Promise.all(doomed.map((id) => del(app, id)));
    expect(answers.map((res) => res.status)).toEqual(doomed.map(() => 200));
    expect(store.get("index.json")).toBe(indexWithout(index, doomed));
    expect(await listIds(app)).toEqual(["s1", "s4", "s7"]);
  });

  it("answers exactly one 200 and 404 for the rest to concurrent deletes of one id", async () => {
    const index = indexFile(["abc", "other"]);
    const store = new InterleavingStore({ "index.json": JSON.stringify(index, null, 2) });
    for (const id of ["abc", "other"]) store.put(`${id}.json`, cliFile(cliSession(id)));
    const app = appFor(store, clock);
    const answers = await Promise.all(Array.from({ length: 6 }, () => del(app, "abc")));
    const statuses = answers.map((res) => res.status).sort();
    expect(statuses).toEqual([200, 404, 404, 404, 404, 404]);
    for (const res of answers.filter((answer) => answer.status === 404)) await expectError(res, 404, SESSION_NOT_FOUND);
    expect(store.get("index.json")).toBe(indexWithout(index, ["abc"]));
  });
});
