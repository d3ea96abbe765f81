import { describe, expect, it } from "vitest";
import { expectError, expectInvalidParameter, ROUTE_NOT_FOUND, SESSION_ID_RULES } from "../fixtures/errors.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";
import { fullOf, listBody, summaryOf } from "./expected.js";
import { type ContractRuntime, expectJson, KEY, sha256Of, type Target } from "./runtime.js";

const INVALID_SESSION = {
  message: "the body must be a session: a JSON object, as the Opta CLI writes it",
  type: "invalid_request_error",
  param: "body",
  code: "invalid_session",
} as const;
const CONTENT_TYPE_RULE = "send the session with Content-Type: application/json";
const RESERVED_ID_RULE = "index is reserved for the CLI's index.json and is not a session id";

/** A small limit both runtimes can be given: 0.01 MiB. */
const SMALL_LIMIT_MB = 0.01;
const SMALL_LIMIT_BYTES = Math.floor(SMALL_LIMIT_MB * 1024 * 1024);

function put(target: Target, id: string, body: RequestInit["body"], contentType: string | null = "application/json"): Promise<Response> {
  return target.fetch(`/admin/sessions/${id}`, { method: "PUT", headers: { ...KEY, ...(contentType !== null && { "Content-Type": contentType }) }, body });
}

/** POST /admin/sync/sessions: each session a file part named by its id, and `mtimes` when given. */
function postBatch(target: Target, sessions: Readonly<Record<string, string | Uint8Array>>, mtimes?: unknown): Promise<Response> {
  const form = new FormData();
  for (const [id, bytes] of Object.entries(sessions)) form.append(id, new Blob([bytes]), `${id}.json`);
  if (mtimes !== undefined) form.append("mtimes", typeof mtimes === "string" ? mtimes : JSON.stringify(mtimes));
  return target.fetch("/admin/sync/sessions", { method: "POST", headers: KEY, body: form });
}

/** A CLI session file of exactly `bytes` bytes (ASCII padding in cwd). */
function fileOfSize(id: string, bytes: number): string {
  const padding = bytes - cliFile(cliSession(id, { cwd: "" })).length;
  return cliFile(cliSession(id, { cwd: "x".repeat(padding) }));
}

/** PUT /admin/sessions/:id and GET /admin/sync/manifest: what `opta-sessions sync` uses. */
export function syncCases(runtime: ContractRuntime): void {
  describe("PUT /admin/sessions/:id", () => {
    it("answers 201 for a new session and 200 for a replaced one, with the SHA-256 of the bytes, and serves it at once", async () => {
      const target = await runtime.start({ sessions: [cliSession("other")] });
      const first = cliFile(cliSession("abc", { title: "Été 🌞", updated: "2026-03-09T00:00:00Z" }));
      await expectJson(await put(target, "abc", first), 201, { id: "abc", sha256: await sha256Of(first), created: true });
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc", { title: "Été 🌞", updated: "2026-03-09T00:00:00Z" }));
      await expectJson(
        await target.fetch("/admin/sessions", { headers: KEY }),
        200,
        listBody([summaryOf("abc", { title: "Été 🌞", updated: "2026-03-09T00:00:00Z" }), summaryOf("other")]),
      );
      const second = cliFile(cliSession("abc", { title: "kiwi" }));
      await expectJson(await put(target, "abc", second, "application/json; charset=utf-8"), 200, { id: "abc", sha256: await sha256Of(second), created: false });
      await expectJson(await target.fetch("/admin/sessions/search?q=kiwi", { headers: KEY }), 200, [summaryOf("abc", { title: "kiwi" })]);
    });

    it("stores the session under the path's id, whatever id the body holds", async () => {
      const target = await runtime.start({});
      await put(target, "outer", cliFile(cliSession("inner")));
      await expectJson(await target.fetch("/admin/sessions/outer", { headers: KEY }), 200, { ...fullOf("inner"), id: "outer" });
      await expectError(await target.fetch("/admin/sessions/inner", { headers: KEY }), 404, {
        message: "session not found",
        type: "not_found_error",
        code: "session_not_found",
      });
    });

    it("replaces a damaged file, which is then listed", async () => {
      const target = await runtime.start({ raw: { "abc.json": "{" } });
      const text = cliFile(cliSession("abc"));
      await expectJson(await put(target, "abc", text), 200, { id: "abc", sha256: await sha256Of(text), created: false });
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("abc")]));
    });

    it.each([
      ["not JSON", "{"],
      ["a JSON array", "[]"],
      ["a JSON string", '"session"'],
      ["JSON null", "null"],
      ["empty", ""],
    ])("refuses a body that is %s with 400 invalid_session, storing nothing", async (_label, body) => {
      const target = await runtime.start({});
      await expectError(await put(target, "abc", body), 400, INVALID_SESSION);
      await expectError(await target.fetch("/admin/sessions/abc", { headers: KEY }), 404, {
        message: "session not found",
        type: "not_found_error",
        code: "session_not_found",
      });
    });

    it.each<[string, string | null, RequestInit["body"]]>([
      ["text/plain", "text/plain", cliFile(cliSession("abc"))],
      ["application/jsonx", "application/jsonx", cliFile(cliSession("abc"))],
      ["none", null, new TextEncoder().encode(cliFile(cliSession("abc")))],
    ])("refuses Content-Type %s with 400 naming content-type", async (_label, contentType, body) => {
      const target = await runtime.start({});
      await expectInvalidParameter(await put(target, "abc", body, contentType), "content-type", CONTENT_TYPE_RULE);
    });

    it.each(["index", "INDEX"])("refuses the reserved id %s with 400 naming id", async (id) => {
      const target = await runtime.start({});
      await expectInvalidParameter(await put(target, id, cliFile(cliSession(id))), "id", RESERVED_ID_RULE);
    });

    it.each(["a.b", "a%2Fb", "a".repeat(129)])("refuses the invalid id %s with 400 naming id", async (id) => {
      const target = await runtime.start({});
      await expectInvalidParameter(await put(target, id, cliFile(cliSession("abc"))), "id", SESSION_ID_RULES);
    });

    it("takes a session of exactly the size limit and refuses one byte more with 413, and GET refuses a bigger file likewise", async () => {
      const tooLarge = {
        message: `the session is larger than this deployment's limit of ${SMALL_LIMIT_BYTES} bytes (--max-session-mb, or OPTA_MAX_SESSION_MB)`,
        type: "invalid_request_error",
        code: "session_too_large",
      } as const;
      const target = await runtime.start({ raw: { "huge.json": fileOfSize("huge", SMALL_LIMIT_BYTES + 1) } }, { maxSessionMb: SMALL_LIMIT_MB });
      expect((await put(target, "fits", fileOfSize("fits", SMALL_LIMIT_BYTES))).status).toBe(201);
      await expectError(await put(target, "over", fileOfSize("over", SMALL_LIMIT_BYTES + 1)), 413, tooLarge);
      await expectError(await target.fetch("/admin/sessions/over", { headers: KEY }), 404, {
        message: "session not found",
        type: "not_found_error",
        code: "session_not_found",
      });
      await expectError(await target.fetch("/admin/sessions/huge", { headers: KEY }), 413, tooLarge);
      expect((await target.fetch("/admin/sessions/fits", { headers: KEY })).status).toBe(200);
    });
  });

  describe("POST /admin/sync/sessions", () => {
    it("stores each part's exact bytes under its id and answers each as PUT would, a refused one beside the stored", async () => {
      const target = await runtime.start({ sessions: [cliSession("old")] });
      const bom = `\ufeff${cliFile(cliSession("bom", { title: "Été 🌞" }))}`;
      const replaced = cliFile(cliSession("old", { title: "kiwi" }));
      const res = await postBatch(target, { bom, old: replaced, bad: "[]" });
      await expectJson(res, 200, {
        results: {
          bom: { sha256: await sha256Of(bom), created: true },
          old: { sha256: await sha256Of(replaced), created: false },
          bad: { error: INVALID_SESSION },
        },
      });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, {
        sessions: { bom: await sha256Of(bom), old: await sha256Of(replaced) },
      });
      await expectJson(await target.fetch("/admin/sessions/search?q=kiwi", { headers: KEY }), 200, [summaryOf("old", { title: "kiwi" })]);
      await expectJson(await target.fetch("/admin/sessions/bom", { headers: KEY }), 200, fullOf("bom", { title: "Été 🌞" }));
    });

    it("keeps each session's time from the mtimes part, as PUT keeps X-Session-Mtime", async () => {
      const target = await runtime.start({});
      const text = cliFile(cliSession("synced", { created: "unknown", updated: "" }));
      const res = await postBatch(target, { synced: text }, { synced: "2025-05-06T09:08:09.123+02:00" });
      await expectJson(res, 200, { results: { synced: { sha256: await sha256Of(text), created: true } } });
      const session = await (await target.fetch("/admin/sessions/synced", { headers: KEY })).json();
      expect(session).toMatchObject({ created_at: "2025-05-06T07:08:09.123Z", updated_at: "2025-05-06T07:08:09.123Z" });
    });

    it("answers a session over the size limit with PUT's 413 error, and stores the others", async () => {
      const target = await runtime.start({}, { maxSessionMb: SMALL_LIMIT_MB });
      const fits = fileOfSize("fits", SMALL_LIMIT_BYTES);
      await expectJson(await postBatch(target, { fits, over: fileOfSize("over", SMALL_LIMIT_BYTES + 1) }), 200, {
        results: {
          fits: { sha256: await sha256Of(fits), created: true },
          over: {
            error: {
              message: `the session is larger than this deployment's limit of ${SMALL_LIMIT_BYTES} bytes (--max-session-mb, or OPTA_MAX_SESSION_MB)`,
              type: "invalid_request_error",
              param: null,
              code: "session_too_large",
            },
          },
        },
      });
    });

    it.each<[string, Record<string, string>, unknown, string, string]>([
      ["an invalid id", { ok: "{}", "a.b": "{}" }, undefined, "a.b", `a.b: ${SESSION_ID_RULES}`],
      ["the reserved id index", { ok: "{}", INDEX: "{}" }, undefined, "INDEX", RESERVED_ID_RULE],
      [
        "mtimes that are not instants",
        { ok: "{}" },
        { ok: "yesterday" },
        "mtimes",
        'mtimes must be a JSON object of session ids to ISO 8601 instants, e.g. {"abc":"2026-07-01T08:00:00.000Z"}',
      ],
      [
        "mtimes naming a session it does not send",
        { ok: "{}" },
        { other: "2026-01-01T00:00:00Z" },
        "mtimes",
        "mtimes names other, which is not a session of this request",
      ],
    ])("refuses %s with 400 naming it, storing nothing", async (_label, sessions, mtimes, param, message) => {
      const target = await runtime.start({});
      await expectInvalidParameter(await postBatch(target, sessions, mtimes), param, message);
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, { sessions: {} });
    });

    it("refuses a body that is not multipart/form-data with 400 naming content-type", async () => {
      const target = await runtime.start({});
      const res = await target.fetch("/admin/sync/sessions", { method: "POST", headers: { ...KEY, "Content-Type": "application/json" }, body: "{}" });
      await expectInvalidParameter(res, "content-type");
    });

    it("refuses more than 100 sessions with 413 batch_too_large, storing nothing", async () => {
      const target = await runtime.start({});
      const sessions = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, "{}"]));
      await expectError(await postBatch(target, sessions), 413, {
        message: "one request takes at most 100 sessions: send the rest in another (or one by one with PUT)",
        type: "invalid_request_error",
        code: "batch_too_large",
      });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, { sessions: {} });
    });
  });

  describe("with writes turned off", () => {
    it("has no PUT, no batch and no manifest (404 route_not_found), and still reads and deletes", async () => {
      const seeded = cliFile(cliSession("abc"));
      const target = await runtime.start({ raw: { "abc.json": seeded, "other.json": cliFile(cliSession("other")) } }, { allowWrites: false });
      await expectError(await put(target, "new", cliFile(cliSession("new"))), 404, ROUTE_NOT_FOUND);
      await expectError(await put(target, "abc", cliFile(cliSession("abc", { title: "overwritten" }))), 404, ROUTE_NOT_FOUND);
      await expectError(await target.fetch("/admin/sync/manifest", { headers: KEY }), 404, ROUTE_NOT_FOUND);
      await expectError(await postBatch(target, { new: cliFile(cliSession("new")) }), 404, ROUTE_NOT_FOUND);
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc"));
      const deleted = await target.fetch("/admin/sessions/other", { method: "DELETE", headers: KEY });
      expect({ status: deleted.status, body: await deleted.json() }).toEqual({
        status: 200,
        body: { deleted: true, trash_id: expect.stringMatching(/^other\.[0-9]+$/) },
      });
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("abc")]));
    });
  });

  describe("GET /admin/sync/manifest", () => {
    it("answers the SHA-256 of every stored session file's bytes, damaged ones included, by id", async () => {
      const stored = cliFile(cliSession("stored", { title: "naïve 🌞" }));
      const other = cliFile(cliSession("other", { title: "日本" }));
      const bom = `\ufeff${cliFile(cliSession("bom"))}`;
      const target = await runtime.start({
        sessions: [cliSession("stored", { title: "naïve 🌞" })],
        raw: { "other.json": other, "bom.json": bom, "broken.json": "{", "index.json": "{}", "notes.txt": "x" },
      });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, {
        sessions: { bom: await sha256Of(bom), broken: await sha256Of("{"), other: await sha256Of(other), stored: await sha256Of(stored) },
      });
    });

    it("matches the SHA-256 of the exact bytes a PUT sent, a byte-order mark included", async () => {
      const target = await runtime.start({});
      const text = `\ufeff${cliFile(cliSession("bom", { title: "Été" }))}`;
      await expectJson(await put(target, "bom", text), 201, { id: "bom", sha256: await sha256Of(text), created: true });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, { sessions: { bom: await sha256Of(text) } });
      await expectJson(await target.fetch("/admin/sessions/bom", { headers: KEY }), 200, fullOf("bom", { title: "Été" }));
    });

    it("digests a file that is not UTF-8 by its bytes", async () => {
      const utf8 = new TextEncoder().encode(cliFile(cliSession("latin", { title: "caf\u00e9" })));
      // The same text saved as Latin-1 by some other tool: é is the single byte 0xE9, not valid UTF-8.
      const at = utf8.findIndex((byte, i) => byte === 0xc3 && utf8[i + 1] === 0xa9);
      const latin1 = Uint8Array.from([...utf8.slice(0, at), 0xe9, ...utf8.slice(at + 2)]);
      const target = await runtime.start({ raw: { "latin.json": latin1 } });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, { sessions: { latin: await sha256Of(latin1) } });
    });

    it("follows puts and deletes", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      const text = cliFile(cliSession("new", { title: "fresh" }));
      await put(target, "new", text);
      await target.fetch("/admin/sessions/abc", { method: "DELETE", headers: KEY });
      await expectJson(await target.fetch("/admin/sync/manifest", { headers: KEY }), 200, { sessions: { new: await sha256Of(text) } });
    });
  });
}
