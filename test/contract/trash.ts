import { describe, expect, it, vi } from "vitest";
import { expectError, expectInvalidParameter, SESSION_EXISTS, SESSION_NOT_FOUND, TRASH_ITEM_NOT_FOUND } from "../fixtures/errors.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";
import { fullOf, listBody, summaryOf } from "./expected.js";
import { type ContractRuntime, expectJson, KEY, sha256Of, type Target, VISIBLE_WITHIN_MS } from "./runtime.js";

const DAY_MS = 86_400_000;
/** Both runtimes keep deleted sessions 30 days by default (Node: --trash-days; the Worker: OPTA_TRASH_DAYS). */
const TRASH_DAYS = 30;
const TRASH_ID_RULES = "id must be a trash item's id as GET /admin/trash lists it (<session id>.<digits>), or a session id";

interface TrashItem {
  id: string;
  session_id: string;
  deleted_at: string;
  purge_at: string;
  size: number;
  session: unknown;
}

async function trashItems(target: Target, query = ""): Promise<TrashItem[]> {
  const res = await target.fetch(`/admin/trash${query}`, { headers: KEY });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: TrashItem[] }).items;
}

const del = (target: Target, id: string) => target.fetch(`/admin/sessions/${id}`, { method: "DELETE", headers: KEY });

/** DELETE /admin/sessions/:id, and the trash it moves sessions into. */
export function trashCases(runtime: ContractRuntime): void {
  describe("DELETE /admin/sessions/:id", () => {
    it("answers {deleted: true}, then the session is gone from get, list and search, and a second delete is 404", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { title: "kiwi" }), cliSession("other", { title: "kiwi too" })] });
      await expectJson(await target.fetch("/admin/sessions/search?q=kiwi", { headers: KEY }), 200, [
        summaryOf("abc", { title: "kiwi" }),
        summaryOf("other", { title: "kiwi too" }),
      ]);
      const deleted = await del(target, "abc");
      const [item] = await trashItems(target);
      await expectJson(deleted, 200, { deleted: true, trash_id: item?.id });
      expect(item?.id).toMatch(/^abc\.[0-9]+$/);
      await expectError(await target.fetch("/admin/sessions/abc", { headers: KEY }), 404, SESSION_NOT_FOUND);
      await expectError(await del(target, "abc"), 404, SESSION_NOT_FOUND);
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("other", { title: "kiwi too" })]));
      await expectJson(await target.fetch("/admin/sessions/search?q=kiwi", { headers: KEY }), 200, [summaryOf("other", { title: "kiwi too" })]);
    });

    it("answers 404 for an id with no session, and for index in any case", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")], raw: { "index.json": cliFile(cliSession("index")) } });
      for (const id of ["nosuch", "index", "INDEX"]) await expectError(await del(target, id), 404, SESSION_NOT_FOUND);
      expect(await trashItems(target)).toEqual([]);
    });

    it("removes a damaged file like any session", async () => {
      const target = await runtime.start({ raw: { "broken.json": "{" } });
      expect(await (await del(target, "broken")).json()).toEqual({ deleted: true, trash_id: expect.stringMatching(/^broken\.[0-9]+$/) });
      await expectError(await target.fetch("/admin/sessions/broken", { headers: KEY }), 404, SESSION_NOT_FOUND);
      expect(await trashItems(target)).toEqual([expect.objectContaining({ session_id: "broken", size: 1, session: null })]);
    });

    it("answers one 200 and 404 for the rest to concurrent deletes of one id", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      const answers = await Promise.all(Array.from({ length: 5 }, () => del(target, "abc")));
      expect(answers.map((res) => res.status).sort()).toEqual([200, 404, 404, 404, 404]);
      expect(await trashItems(target)).toHaveLength(1);
    });
  });

  describe("the trash", () => {
    it("lists a deleted session with its summary, size, deletion and purge times", async () => {
      const session = cliSession("abc", { title: "Été 🌞" });
      const target = await runtime.start({ sessions: [session] });
      const before = Date.now();
      await del(target, "abc");
      const [item, ...rest] = await trashItems(target);
      expect(rest).toEqual([]);
      const deletedAt = Date.parse(item!.deleted_at);
      expect(deletedAt).toBeGreaterThanOrEqual(before - 1000);
      expect(deletedAt).toBeLessThanOrEqual(Date.now() + 1000);
      expect(item).toEqual({
        id: `abc.${deletedAt}`,
        session_id: "abc",
        deleted_at: new Date(deletedAt).toISOString(),
        purge_at: new Date(deletedAt + TRASH_DAYS * DAY_MS).toISOString(),
        size: new TextEncoder().encode(cliFile(session)).length,
        session: summaryOf("abc", { title: "Été 🌞" }),
      });
    });

    it("restores a deleted session as it was: read, listed and searchable again", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { title: "kiwi" })] });
      await del(target, "abc");
      const [item] = await trashItems(target);
      await expectJson(await target.fetch(`/admin/trash/${item!.id}/restore`, { method: "POST", headers: KEY }), 200, { restored: true, id: "abc" });
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc", { title: "kiwi" }));
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("abc", { title: "kiwi" })]));
      await expectJson(await target.fetch("/admin/sessions/search?q=kiwi", { headers: KEY }), 200, [summaryOf("abc", { title: "kiwi" })]);
      expect(await trashItems(target)).toEqual([]);
      await expectError(await target.fetch(`/admin/trash/${item!.id}/restore`, { method: "POST", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
    });

    it("keeps a file's exact bytes through delete and restore, a byte-order mark included", async () => {
      const text = `\ufeff${cliFile(cliSession("bom", { title: "Été" }))}`;
      const target = await runtime.start({ raw: { "bom.json": text } });
      const manifest = { sessions: { bom: await sha256Of(text) } };
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, manifest);
      await del(target, "bom");
      const [item] = await trashItems(target);
      expect(item).toMatchObject({ size: new TextEncoder().encode(text).length, session: summaryOf("bom", { title: "Été" }) });
      await target.fetch(`/admin/trash/${item!.id}/restore`, { method: "POST", headers: KEY });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, manifest);
      await expectJson(await target.fetch("/admin/sessions/bom", { headers: KEY }), 200, fullOf("bom", { title: "Été" }));
    });

    it("never restores over a session made again since the delete (409 session_exists)", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await del(target, "abc");
      const [item] = await trashItems(target);
      await target.writeBehind("abc.json", cliFile(cliSession("abc", { title: "made again" })));
      await expectError(await target.fetch(`/admin/trash/${item!.id}/restore`, { method: "POST", headers: KEY }), 409, SESSION_EXISTS);
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc", { title: "made again" }));
    });

    it("purges an item for good", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await del(target, "abc");
      const [item] = await trashItems(target);
      await expectJson(await target.fetch(`/admin/trash/${item!.id}`, { method: "DELETE", headers: KEY }), 200, { purged: true });
      expect(await trashItems(target)).toEqual([]);
      await expectError(await target.fetch(`/admin/trash/${item!.id}`, { method: "DELETE", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
      await expectError(await target.fetch(`/admin/trash/${item!.id}/restore`, { method: "POST", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
    });

    it("takes a session id for its most recently deleted item: restore, then purge", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { title: "first" }), cliSession("other")] });
      const first = (await (await del(target, "abc")).json()) as { trash_id: string };
      await target.writeBehind("abc.json", cliFile(cliSession("abc", { title: "second" })));
      await vi.waitFor(async () => expect((await target.fetch("/admin/sessions/abc", { headers: KEY })).status).toBe(200), VISIBLE_WITHIN_MS);
      const second = (await (await del(target, "abc")).json()) as { trash_id: string };
      await del(target, "other");
      expect(second.trash_id).not.toBe(first.trash_id);
      await expectJson(await target.fetch("/admin/trash/abc/restore", { method: "POST", headers: KEY }), 200, { restored: true, id: "abc" });
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc", { title: "second" }));
      await expectError(await target.fetch("/admin/trash/abc/restore", { method: "POST", headers: KEY }), 409, SESSION_EXISTS);
      expect((await trashItems(target, "?session_id=abc")).map((item) => item.id)).toEqual([first.trash_id]);
      await expectJson(await target.fetch("/admin/trash/abc", { method: "DELETE", headers: KEY }), 200, { purged: true });
      expect((await trashItems(target)).map((item) => item.session_id)).toEqual(["other"]);
      await expectError(await target.fetch("/admin/trash/abc", { method: "DELETE", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
      await expectError(await target.fetch("/admin/trash/abc/restore", { method: "POST", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
    });

    it("pages newest deletion first with limit and offset, and filters by session_id", async () => {
      const ids = ["s1", "s2", "s3", "s4", "s5"];
      const target = await runtime.start({ sessions: ids.map((id) => cliSession(id)) });
      for (const id of ids) await del(target, id);
      const newestFirst = [...ids].reverse();
      expect((await trashItems(target)).map((item) => item.session_id)).toEqual(newestFirst);
      expect((await trashItems(target, "?limit=2")).map((item) => item.session_id)).toEqual(["s5", "s4"]);
      expect((await trashItems(target, "?limit=2&offset=2")).map((item) => item.session_id)).toEqual(["s3", "s2"]);
      expect((await trashItems(target, "?offset=4")).map((item) => item.session_id)).toEqual(["s1"]);
      expect(await trashItems(target, "?offset=5")).toEqual([]);
      expect((await trashItems(target, "?session_id=s2")).map((item) => item.session_id)).toEqual(["s2"]);
      expect(await trashItems(target, "?session_id=nosuch")).toEqual([]);
    });

    it.each([
      ["limit=0", "limit", "limit must be an integer between 1 and 200"],
      ["limit=201", "limit", "limit must be an integer between 1 and 200"],
      ["offset=-1", "offset", `offset must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}`],
      ["session_id=a.b", "session_id", "session_id must be 1 to 128 characters of A-Z, a-z, 0-9, _ or -"],
    ])("answers 400 naming the parameter for %s", async (query, param, message) => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectInvalidParameter(await target.fetch(`/admin/trash?${query}`, { headers: KEY }), param, message);
    });

    it.each(["abc.1", "index.1", "abc", "index"])("answers 404 trash_item_not_found for the well-formed id %s with no item", async (id) => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectError(await target.fetch(`/admin/trash/${id}/restore`, { method: "POST", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
      await expectError(await target.fetch(`/admin/trash/${id}`, { method: "DELETE", headers: KEY }), 404, TRASH_ITEM_NOT_FOUND);
    });

    it.each(["abc.x", "a.b.1", "abc.", `abc.${"9".repeat(16)}`])("answers 400 naming id for the malformed item id %s", async (id) => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectInvalidParameter(await target.fetch(`/admin/trash/${id}/restore`, { method: "POST", headers: KEY }), "id", TRASH_ID_RULES);
    });
  });
}
