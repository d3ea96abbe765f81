import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../../src/app.js";
import type { SessionFull, SessionList, SessionSummary } from "../../src/schemas.js";
import { ADMIN_KEY, appFor, cliSession, storeWith } from "../fixtures/sessions.js";

function clientFor(app: AppType) {
  return hc<AppType>("http://opta.test", {
    fetch: ((input, init) => app.request(input, init)) as typeof fetch,
    headers: { "X-Admin-Key": ADMIN_KEY },
  });
}

describe("typed client (hc<AppType>)", () => {
  it("infers the wire types from the zod schemas and round-trips through the app", async () => {
    const client = clientFor(appFor(storeWith([cliSession("abc"), cliSession("def", { updated: "2026-04-01T00:00:00Z" })])));

    const listed = await client.admin.sessions.$get({ query: { limit: "1" } });
    expect(listed.status).toBe(200);
    if (listed.status !== 200) return;
    const list = await listed.json();
    expectTypeOf(list).toEqualTypeOf<SessionList>();
    expect(list.sessions.map((s) => s.id)).toEqual(["def"]);

    const found = await client.admin.sessions.search.$get({ query: { q: "abc" } });
    if (found.status !== 200) throw new Error(`search answered ${found.status}`);
    const hits = await found.json();
    expectTypeOf(hits).toEqualTypeOf<SessionSummary[]>();
    expect(hits.map((s) => s.id)).toEqual(["abc"]);

    const one = await client.admin.sessions[":id"].$get({ param: { id: "abc" } });
    if (one.status !== 200) throw new Error(`get answered ${one.status}`);
    const session = await one.json();
    expectTypeOf(session.cwd).toEqualTypeOf<SessionFull["cwd"]>();
    expectTypeOf(session.title).toEqualTypeOf<string | null>();
    expect(session.messages).toHaveLength(3);

    const deleted = await client.admin.sessions[":id"].$delete({ param: { id: "abc" } });
    expect(await deleted.json()).toEqual({ deleted: true });
  });
});
