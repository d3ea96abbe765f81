import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { expectError } from "../../fixtures/errors.js";
import { ADMIN_KEY, appFor, cliSession, recordingLogger, storeWith } from "../../fixtures/sessions.js";

describe("failed-key throttling", () => {
  const clientAddress = (c: Context) => c.req.header("X-Test-Client") ?? "none";
  const as = (client: string, key: string) => ({ headers: { "X-Test-Client": client, "X-Admin-Key": key } });
  const WRONG = "wrong-key-0123456789";

  it("refuses an address with 429 and Retry-After after repeated wrong keys, logs it once, and never throttles others", async () => {
    const clock = { now: 0 };
    const logger = recordingLogger();
    const app = appFor(storeWith([cliSession("abc")]), { clientAddress, logger, now: () => clock.now, throttle: { maxFailures: 5, blockMs: 30_000 } });
    for (let n = 0; n < 5; n++) expect((await app.request("/admin/sessions", as("10.0.0.66", WRONG))).status).toBe(401);
    const refused = await app.request("/admin/sessions", as("10.0.0.66", ADMIN_KEY));
    expect(refused.headers.get("Retry-After")).toBe("30");
    await expectError(refused, 429, { type: "rate_limit_error", code: "too_many_failed_attempts" });
    expect((await app.request("/admin/sessions", as("10.0.0.7", ADMIN_KEY))).status).toBe(200);
    expect((await app.request("/admin/sessions", as("10.0.0.7", WRONG))).status).toBe(401);

    const warnings = logger.lines.filter((line) => line.level === "warn").map((line) => line.line);
    expect(warnings).toEqual(["too many wrong admin keys from 10.0.0.66: refusing it for 30 s"]);
    expect(JSON.stringify(logger.lines)).not.toContain(WRONG);

    clock.now += 30_000;
    expect((await app.request("/admin/sessions", as("10.0.0.66", ADMIN_KEY))).status).toBe(200);
  });

  it("forgets failures once the right key comes, and failures spread beyond the window", async () => {
    const clock = { now: 0 };
    const app = appFor(storeWith([]), { clientAddress, now: () => clock.now, throttle: { maxFailures: 3, windowMs: 1000 } });
    const attempt = async (key: string) => (await app.request("/admin/sessions", as("a", key))).status;
    expect([await attempt(WRONG), await attempt(WRONG), await attempt(ADMIN_KEY), await attempt(WRONG), await attempt(WRONG)]).toEqual([
      401, 401, 200, 401, 401,
    ]);
    clock.now += 1001;
    expect([await attempt(WRONG), await attempt(WRONG), await attempt(ADMIN_KEY)]).toEqual([401, 401, 200]);
  });

  it("never counts a request with no key: the dashboard's EventSource and <img> loads, 100 times each, never lock out the right key", async () => {
    const app = appFor(storeWith([cliSession("abc")]), { clientAddress });
    const keyless = { headers: { "X-Test-Client": "127.0.0.1" } };
    for (let n = 0; n < 100; n++) {
      // An EventSource cannot send headers: its key is in the query, which is not a key offered here (an LMX route).
      await expectError(await app.request(`/admin/events?admin_key=${ADMIN_KEY}`, keyless), 401, { type: "authentication_error", code: "invalid_admin_key" });
      expect((await app.request("/admin/sessions/abc", keyless)).status).toBe(401);
    }
    expect((await app.request("/admin/sessions", as("127.0.0.1", ADMIN_KEY))).status).toBe(200);
    // Wrong keys offered still count: ten, and the eleventh try waits.
    for (let n = 0; n < 10; n++) expect((await app.request("/admin/sessions", as("127.0.0.1", WRONG))).status).toBe(401);
    expect((await app.request("/admin/sessions", as("127.0.0.1", ADMIN_KEY))).status).toBe(429);
  });

  it("counts a request offering two different wrong keys (X-Admin-Key and Bearer) twice, the same wrong key in both once", async () => {
    const app = appFor(storeWith([]), { clientAddress, throttle: { maxFailures: 4 } });
    const both = (client: string, second: string) => ({ headers: { "X-Test-Client": client, "X-Admin-Key": WRONG, Authorization: `Bearer ${second}` } });
    expect((await app.request("/admin/sessions", both("a", `${WRONG}-2`))).status).toBe(401);
    expect((await app.request("/admin/sessions", both("a", `${WRONG}-3`))).status).toBe(401);
    expect((await app.request("/admin/sessions", as("a", ADMIN_KEY))).status).toBe(429);
    for (let n = 0; n < 3; n++) expect((await app.request("/admin/sessions", both("b", WRONG))).status).toBe(401);
    expect((await app.request("/admin/sessions", as("b", ADMIN_KEY))).status).toBe(200);
  });

  it("caps wrong keys across all addresses per window, yet a right key from anywhere still passes", async () => {
    const clock = { now: 0 };
    const logger = recordingLogger();
    const app = appFor(storeWith([]), { clientAddress, logger, now: () => clock.now, throttle: { maxGlobalFailures: 20 } });
    // One guess each from rotating source addresses (127.0.0.0/8): no single address is ever blocked.
    const statuses: number[] = [];
    for (let n = 0; n < 30; n++) statuses.push((await app.request("/admin/sessions", as(`127.0.${n >> 8}.${n & 255}`, WRONG))).status);
    expect(statuses).toEqual([...Array(20).fill(401), ...Array(10).fill(429)]);
    const refused = await app.request("/admin/sessions", as("10.9.9.9", WRONG));
    expect(refused.headers.get("Retry-After")).toBe("60");
    await expectError(refused, 429, { type: "rate_limit_error", code: "too_many_failed_attempts" });
    expect((await app.request("/admin/sessions", as("10.9.9.9", ADMIN_KEY))).status).toBe(200);
    expect((await app.request("/admin/sessions", as("127.0.0.3", ADMIN_KEY))).status).toBe(200);
    expect((await app.request("/admin/sessions", { headers: { "X-Test-Client": "10.1.1.1", Authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(200);
    expect(logger.lines.filter((line) => line.level === "warn").map((line) => line.line)).toEqual([
      "too many wrong admin keys from all addresses: refusing wrong keys for 60 s",
    ]);

    clock.now += 60_000;
    expect((await app.request("/admin/sessions", as("10.9.9.8", WRONG))).status).toBe(401);
  });

  it("refuses to build an app whose key is shorter than 16 characters", () => {
    expect(() => appFor(storeWith([]), { adminKey: "short-key" })).toThrow(/at least 16/);
  });
});
