import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/storage/memory-store.js";
import type { ReadResult } from "../../../src/storage/store.js";
import { expectError, expectInvalidParameter } from "../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, storeWith } from "../../fixtures/sessions.js";

/** Reads wait until released, counting how many are in flight at once. */
class GatedStore extends MemoryStore {
  inFlight = 0;
  maxInFlight = 0;
  #release: (() => void)[] = [];
  override async read(name: string): Promise<ReadResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.#release.push(resolve));
    this.inFlight--;
    return super.read(name);
  }
  releaseAll(): number {
    const waiting = this.#release.splice(0);
    for (const release of waiting) release();
    return waiting.length;
  }
}

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
