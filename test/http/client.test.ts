import { describe, expect, expectTypeOf, it, vi } from "vitest";
import type { AppType } from "../../src/http/app.js";
import { createSessionsClient, SessionsApiError, unwrap, watch } from "../../src/http/client.js";
import type { SessionFull, SessionList, SessionSummary } from "../../src/http/schemas.js";
import { MemoryTrash } from "../../src/storage/memory-trash.js";
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

describe("watch() (src/http/client.ts)", () => {
  /** A fetch into the app whose current stream the test can break, as a dropped connection would; `requests`: the headers of each answered one. */
  function flakyFetch(app: AppType) {
    const requests: Headers[] = [];
    let breakCurrent = () => {};
    const fetcher = (async (input: string | URL | Request, init?: RequestInit) => {
      const res = await app.request(input instanceof URL ? input.href : input, init);
      requests.push(new Headers(init?.headers)); // once answered: subscribed
      if (!res.body) return res;
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          breakCurrent = () => {
            controller.error(new Error("connection reset"));
            void reader.cancel();
          };
        },
        async pull(controller) {
          const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
          if (done) controller.close();
          else controller.enqueue(value);
        },
      });
      return new Response(body, res);
    }) as typeof fetch;
    return { fetcher, requests, breakConnection: () => breakCurrent() };
  }

  it("yields each change with its id, and after a dropped connection resumes with Last-Event-ID, losing nothing", async () => {
    const store = storeWith([cliSession("abc"), cliSession("def")]);
    const app = appFor(store, { trash: new MemoryTrash(store), changeFeed: { coalesceMs: 5 } });
    await app.request("/admin/sessions", { headers: { "X-Admin-Key": ADMIN_KEY } }); // the first scan: where the feed starts
    const { fetcher, requests, breakConnection } = flakyFetch(app);
    const controller = new AbortController();
    const changes = watch("http://opta.test", { adminKey: ADMIN_KEY, fetch: fetcher, retryMs: 20, signal: controller.signal });
    const first = changes.next();
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    await vi.waitFor(async () =>
      expect((await app.request("/admin/sessions/abc", { method: "DELETE", headers: { "X-Admin-Key": ADMIN_KEY } })).status).toBe(200),
    );
    const deleted = (await first).value;
    expect(deleted?.event).toEqual({ type: "session.deleted", id: "abc" });
    breakConnection();
    await app.request("/admin/sessions/def", { method: "DELETE", headers: { "X-Admin-Key": ADMIN_KEY } }); // while it is away
    const second = (await changes.next()).value;
    expect(second?.event).toEqual({ type: "session.deleted", id: "def" });
    expect(Number(second?.id)).toBe(Number(deleted?.id) + 1);
    expect(requests.map((headers) => headers.get("Last-Event-ID"))).toEqual([null, deleted?.id]);
    controller.abort();
    expect(await changes.next()).toEqual({ done: true, value: undefined });
  });

  it("asks again while the feed is full (503), and follows it once there is room", async () => {
    const store = storeWith([cliSession("abc")]);
    const app = appFor(store, { trash: new MemoryTrash(store), changeFeed: { coalesceMs: 5, maxSubscribers: 1 } });
    await app.request("/admin/sessions", { headers: { "X-Admin-Key": ADMIN_KEY } });
    const holder = await app.request("/admin/sessions/events", { headers: { "X-Admin-Key": ADMIN_KEY } });
    const { fetcher, requests } = flakyFetch(app);
    const controller = new AbortController();
    const changes = watch("http://opta.test", { adminKey: ADMIN_KEY, fetch: fetcher, retryMs: 10, signal: controller.signal });
    const first = changes.next();
    await vi.waitFor(() => expect(requests.length).toBeGreaterThanOrEqual(2)); // refused, and asked again
    await holder.body?.cancel();
    await vi.waitFor(async () => {
      const last = requests.length;
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(requests.length).toBe(last); // subscribed: no more asking
    });
    await app.request("/admin/sessions/abc", { method: "DELETE", headers: { "X-Admin-Key": ADMIN_KEY } });
    expect((await first).value?.event).toEqual({ type: "session.deleted", id: "abc" });
    controller.abort();
  });

  it("throws a SessionsApiError for an answer that asking again would not change (a wrong key, 501 on the Worker)", async () => {
    const app = appFor(storeWith([]));
    const fetcher = ((input: string | URL | Request, init?: RequestInit) => app.request(input instanceof URL ? input.href : input, init)) as typeof fetch;
    await expect(watch("http://opta.test", { adminKey: ADMIN_KEY, fetch: fetcher }).next()).rejects.toMatchObject({ status: 501, code: "events_unavailable" });
    await expect(watch("http://opta.test", { adminKey: "wrong-key-0123456789", fetch: fetcher }).next()).rejects.toMatchObject({
      status: 401,
      code: "invalid_admin_key",
    });
  });
});
