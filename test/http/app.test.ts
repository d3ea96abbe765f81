import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { appFor } from "../fixtures/sessions.js";

describe("GET /healthz", () => {
  it("answers ok with the version and nothing else, without a key", async () => {
    const res = await appFor(new MemoryStore()).request("/healthz", { headers: { "Content-Type": "application/json" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: "9.9.9-test" });
  });
});
