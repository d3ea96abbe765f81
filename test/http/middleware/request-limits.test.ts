import { describe, expect, it } from "vitest";
import { expectError, expectInvalidParameter } from "../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, GatedStore, storeWith } from "../../fixtures/sessions.js";

describe("request timeout", () => {
  it("answers 503 request_timeout when the answer takes longer than the limit", async () => {
    const store = new GatedStore().put("slow.json", cliFile(cliSession("slow")));
    const app = appFor(store, { limits: { requestTimeoutMs: 30 } });
    const res = await app.request("/admin/sessions/slow", { headers: AUTH });
    expect(res.headers.get("X-Request-Id")).toMatch(/\S/);
    await expectError(res, 503, { type: "server_error", code: "request_timeout", message: "the request took too long and was abandoned: try again" });
    store.releaseAll();
  });
});

describe("query string length", () => {
  it("answers 414 query_too_long past the cap, before any parameter is parsed or the key is checked", async () => {
    const app = appFor(storeWith([cliSession("abc")]), { limits: { maxQueryLength: 300 } });
    await expectError(await app.request(`/admin/sessions/search?q=${"a".repeat(300)}`), 414, { type: "invalid_request_error", code: "query_too_long" });
    // Under the cap, the parameters' own limits answer (model: 200 characters).
    await expectInvalidParameter(await app.request(`/admin/sessions?model=${"a".repeat(201)}`, { headers: AUTH }), "model");
    expect((await app.request(`/admin/sessions?model=${"a".repeat(200)}`, { headers: AUTH })).status).toBe(200);
  });
});
