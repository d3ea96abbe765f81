import { describe, expect, it } from "vitest";
import { TrashListSchema } from "../../../src/http/schemas.js";
import { MemoryTrash } from "../../../src/storage/memory-trash.js";
import { expectError, expectInvalidParameter, SESSION_EXISTS, TRASH_ITEM_NOT_FOUND } from "../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, storeWith } from "../../fixtures/sessions.js";

const DAY = 86_400_000;
const START = Date.parse("2026-07-01T12:00:00.000Z");

/** An app with a trash over a memory store, and a clock the test moves. */
function setup(sessions = [cliSession("abc"), cliSession("other")], index: Record<string, unknown> | null = null) {
  const store = storeWith(sessions, index ? { "index.json": cliFile(index) } : {});
  const clock = { now: START };
  const app = appFor(store, { trash: new MemoryTrash(store), now: () => clock.now, trashMaxAgeMs: 30 * DAY });
  const call = (method: string, path: string) => app.request(path, { method, headers: AUTH });
  const trash = async () => TrashListSchema.parse(await (await call("GET", "/admin/trash")).json()).items;
  return { store, clock, app, call, trash };
}

const index = (ids: string[]) => ({
  entries: Object.fromEntries(ids.map((id) => [id, { title: `Session ${id}`, messageCount: 3 }])),
  updatedAt: "2026-06-01T00:00:00.000Z",
  cliField: [1, 2],
});

describe("DELETE /admin/sessions/:id with a trash", () => {
  it("moves the session into the trash, drops its index entry, and still answers {deleted: true}", async () => {
    const { store, call, trash } = setup(undefined, index(["abc", "other"]));
    const res = await call("DELETE", "/admin/sessions/abc");
    expect(await res.json()).toEqual({ deleted: true, trash_id: expect.stringMatching(/^[\w-]+\.[0-9]+$/) });
    expect(store.get("abc.json")).toBeUndefined();
    expect(Object.keys(JSON.parse(store.get("index.json") ?? "").entries)).toEqual(["other"]);
    expect(await trash()).toEqual([
      {
        id: `abc.${START}`,
        session_id: "abc",
        deleted_at: "2026-07-01T12:00:00.000Z",
        purge_at: "2026-07-31T12:00:00.000Z",
        size: cliFile(cliSession("abc")).length,
        session: expect.objectContaining({ id: "abc", title: "Session abc", message_count: 2 }),
      },
    ]);
    expect((await call("GET", "/admin/sessions/abc")).status).toBe(404);
  });

  it("keeps both copies when one id is deleted twice (the CLI made it again in between)", async () => {
    const { store, call, trash } = setup();
    await call("DELETE", "/admin/sessions/abc");
    store.put("abc.json", cliFile(cliSession("abc", { title: "second life" })));
    await call("DELETE", "/admin/sessions/abc");
    const items = await trash();
    expect(items.map((item) => item.session?.title)).toEqual(["second life", "Session abc"]);
    expect(new Set(items.map((item) => item.id)).size).toBe(2);
  });

  it("lists an empty trash, and answers 404 for unknown trash items", async () => {
    const { call, trash } = setup();
    expect(await trash()).toEqual([]);
    await expectError(await call("POST", `/admin/trash/abc.${START}/restore`), 404, TRASH_ITEM_NOT_FOUND);
    await expectError(await call("DELETE", `/admin/trash/abc.${START}`), 404, TRASH_ITEM_NOT_FOUND);
  });
});

describe("POST /admin/trash/:id/restore", () => {
  it("puts the file back as it was and re-adds its index entry", async () => {
    const { store, call, trash } = setup(undefined, index(["abc", "other"]));
    const before = store.get("abc.json");
    await call("DELETE", "/admin/sessions/abc");
    const res = await call("POST", `/admin/trash/abc.${START}/restore`);
    expect(await res.json()).toEqual({ restored: true, id: "abc" });
    expect(store.get("abc.json")).toBe(before);
    const restoredIndex = JSON.parse(store.get("index.json") ?? "");
    expect(restoredIndex.entries).toEqual(index(["other", "abc"]).entries);
    expect(restoredIndex.cliField).toEqual([1, 2]);
    expect(await trash()).toEqual([]);
    expect((await call("GET", "/admin/sessions/abc")).status).toBe(200);
  });

  it("answers 409 and changes nothing when a session with that id exists again", async () => {
    const { store, call, trash } = setup();
    await call("DELETE", "/admin/sessions/abc");
    store.put("abc.json", cliFile(cliSession("abc", { title: "new one" })));
    await expectError(await call("POST", `/admin/trash/abc.${START}/restore`), 409, SESSION_EXISTS);
    expect(JSON.parse(store.get("abc.json") ?? "").title).toBe("new one");
    expect((await trash()).map((item) => item.id)).toEqual([`abc.${START}`]);
  });

  it("does not add an index entry when the index has none to put back, or has a newer one", async () => {
    const { store, call } = setup(undefined, index(["other"]));
    await call("DELETE", "/admin/sessions/abc");
    await call("POST", `/admin/trash/abc.${START}/restore`);
    expect(Object.keys(JSON.parse(store.get("index.json") ?? "").entries)).toEqual(["other"]);
  });

  it.each(["abc.", "../abc.1", "abc.1.json", `abc.${"9".repeat(16)}`])("answers 400 for the malformed trash id %j", async (id) => {
    const { call } = setup();
    await expectInvalidParameter(await call("POST", `/admin/trash/${encodeURIComponent(id)}/restore`), "id");
  });
});

describe("DELETE /admin/trash/:id", () => {
  it("purges an item for good", async () => {
    const { call, trash } = setup();
    await call("DELETE", "/admin/sessions/abc");
    expect(await (await call("DELETE", `/admin/trash/abc.${START}`)).json()).toEqual({ purged: true });
    expect(await trash()).toEqual([]);
    await expectError(await call("POST", `/admin/trash/abc.${START}/restore`), 404, TRASH_ITEM_NOT_FOUND);
  });
});
