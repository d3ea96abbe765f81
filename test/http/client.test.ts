import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../../src/http/app.js";
import { createSessionsClient, SessionsApiError, unwrap } from "../../src/http/client.js";
import type { SessionFull, SessionList, SessionSummary } from "../../src/http/schemas.js";
import { ADMIN_KEY, appFor, cliSession, storeWith } from "../fixtures/sessions.js";

function clientFor(app: AppType, adminKey = ADMIN_KEY) {
  return createSessionsClient("http://opta.test", { adminKey, fetch: ((input, init) => app.request(input, init)) as typeof fetch });
}

describe("typed client (src/http/client.ts)", () => {
  it("infers the wire types from the zod schemas and round-trips through the app", async () => {
    const client = clientFor(appFor(storeWith([cliSession("abc"), cliSession("def", { updated: "2026-04-01T00:00:00Z" })])));

    const list = await unwrap(client.admin.sessions.$get({ query: { limit: "1" } }));
    expectTypeOf(list).toEqualTypeOf<SessionList>();
    expect(list.sessions.map((s) => s.id)).toEqual(["def"]);

    const hits = await unwrap(client.admin.sessions.search.$get({ query: { q: "abc" } }));
    expectTypeOf(hits).toEqualTypeOf<SessionSummary[]>();
    expect(hits.map((s) => s.id)).toEqual(["abc"]);

    const session = await unwrap(client.admin.sessions[":id"].$get({ param: { id: "abc" } }));
    expectTypeOf(session.cwd).toEqualTypeOf<SessionFull["cwd"]>();
    expectTypeOf(session.compacted).toEqualTypeOf<boolean>();
    expectTypeOf(session.title).toEqualTypeOf<string | null>();
    expect(session.messages).toHaveLength(3);

    expect(await unwrap(client.admin.sessions[":id"].$delete({ param: { id: "abc" } }))).toEqual({
      deleted: true,
      trash_id: null,
    });
    const health = await unwrap(client.healthz.$get());
    expectTypeOf(health.version).toEqualTypeOf<string>();
  });

  it("turns error envelopes into a typed SessionsApiError", async () => {
    const client = clientFor(appFor(storeWith([])));
    const missing = await unwrap(client.admin.sessions[":id"].$get({ param: { id: "nosuch" } })).catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(SessionsApiError);
    expect(missing).toMatchObject({ status: 404, type: "not_found_error", code: "session_not_found", param: null, message: "session not found" });

    const invalid = await unwrap(client.admin.sessions.$get({ query: { limit: "0" } })).catch((caught: unknown) => caught);
    expect(invalid).toMatchObject({ status: 400, type: "invalid_request_error", code: "invalid_parameter", param: "limit" });
  });

  it("sends the key it was given (a wrong one is a 401 authentication_error)", async () => {
    const error = await unwrap(clientFor(appFor(storeWith([])), "wrong-key").admin.sessions.$get({ query: {} })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 401, type: "authentication_error" });
    expectTypeOf<SessionsApiError["type"]>().toEqualTypeOf<
      "invalid_request_error" | "authentication_error" | "not_found_error" | "rate_limit_error" | "server_error"
    >();
  });
});
