import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { describe, expect, it } from "vitest";
import { requestIdFor, requestLog } from "../../../src/http/middleware/request-log.js";
import type { LogFields } from "../../../src/shared/log.js";

describe("requestIdFor", () => {
  it("keeps a well-formed X-Request-Id and replaces a missing or malformed one with a new UUID", () => {
    expect(requestIdFor("abc-123_=")).toBe("abc-123_=");
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const offered of [undefined, "", "has space", "line\nbreak", "x".repeat(256)]) expect(requestIdFor(offered)).toMatch(uuid);
    expect(requestIdFor(undefined)).not.toBe(requestIdFor(undefined));
  });
});

describe("requestLog", () => {
  it("logs one line per request: method, path without the query string, status and time, with the request id", async () => {
    const lines: unknown[] = [];
    const logger = { info: (line: string, fields?: LogFields) => lines.push({ line, fields }), warn() {}, error() {} };
    let clock = 1000;
    const app = new Hono()
      .use(requestId())
      .use(requestLog(logger, () => clock))
      .get("/admin/x", (c) => {
        clock += 12;
        return c.text("ok", 200);
      });
    const res = await app.request("/admin/x?admin_key=secret-secret-secret", { headers: { "X-Request-Id": "req-1" } });
    expect(res.status).toBe(200);
    expect(lines).toEqual([{ line: "GET /admin/x 200 12ms", fields: { requestId: "req-1" } }]);
  });
});
