import { describe, expect, it, vi } from "vitest";
import { expectError } from "../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, GatedStore, storeWith } from "../fixtures/sessions.js";

describe("maximum session size", () => {
  it("answers 413 session_too_large for a file over the limit, on GET and on its messages, without reading it", async () => {
    const big = cliSession("big", { messages: [{ role: "user", content: "x".repeat(2000) }] });
    const store = storeWith([big, cliSession("small")]);
    const app = appFor(store, { maxSessionBytes: 1000 });
    await expectError(await app.request("/admin/sessions/big", { headers: AUTH }), 413, { type: "invalid_request_error", code: "session_too_large" });
    await expectError(await app.request("/admin/sessions/big/messages", { headers: AUTH }), 413, { type: "invalid_request_error", code: "session_too_large" });
    expect((await app.request("/admin/sessions/small", { headers: AUTH })).status).toBe(200);
    expect(store.get("big.json")).toBe(cliFile(big));
  });
});

describe("bounded reads", () => {
  it("reads at most readConcurrency session files at once; the rest queue and are all answered", async () => {
    const ids = Array.from({ length: 12 }, (_, n) => `s${n}`);
    const store = new GatedStore();
    for (const id of ids) store.put(`${id}.json`, cliFile(cliSession(id)));
    const app = appFor(store, { readConcurrency: 3 });
    const answers = Promise.all(ids.map((id) => app.request(`/admin/sessions/${id}`, { headers: AUTH })));
    let released = 0;
    await vi.waitFor(
      () => {
        released += store.releaseAll();
        expect(released).toBe(ids.length);
      },
      { interval: 1 },
    );
    expect((await answers).map((res) => res.status)).toEqual(ids.map(() => 200));
    expect(store.maxInFlight).toBe(3);
  });
});
