import { describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import { expectError, ROUTE_NOT_FOUND } from "../fixtures/errors.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";
import { ADMIN_KEY, DASHBOARD_ORIGIN } from "../fixtures/settings.js";
import { type ContractRuntime, expectJson, KEY } from "./runtime.js";

const WRONG_KEY = "wrong-key-0123456789-abcdef";
const FOREIGN_ORIGIN = "http://evil.test";
const AUTHENTICATION_FAILED = {
  message: "missing or invalid admin key: send X-Admin-Key or Authorization: Bearer",
  type: "authentication_error",
  code: "invalid_admin_key",
} as const;

/** Every admin route of ours, with a request that would succeed with the key. */
const ADMIN_ROUTES: [string, string, RequestInit?][] = [
  ["GET", "/admin/sessions"],
  ["GET", "/admin/sessions/search?q=abc"],
  ["GET", "/admin/sessions/abc"],
  ["GET", "/admin/sessions/abc/messages"],
  ["DELETE", "/admin/sessions/abc"],
  ["PUT", "/admin/sessions/new1", { headers: { "Content-Type": "application/json" }, body: cliFile(cliSession("new1")) }],
  ["GET", "/admin/sync/manifest"],
  ["GET", "/admin/trash"],
  ["POST", "/admin/trash/abc.1/restore"],
];

const BAD_CREDENTIALS: [string, Record<string, string>][] = [
  ["no key", {}],
  ["a wrong X-Admin-Key", { "X-Admin-Key": WRONG_KEY }],
  ["a wrong Bearer token", { Authorization: `Bearer ${WRONG_KEY}` }],
  ["the key under another scheme", { Authorization: `Basic ${ADMIN_KEY}` }],
];

const preflight = (origin: string, method = "GET"): RequestInit => ({
  method: "OPTIONS",
  headers: { Origin: origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type,x-admin-key" },
});

const listOf = (header: string | null) => (header ?? "").split(",").map((item) => item.trim().toLowerCase());

/** /healthz, the admin key, CORS, and unknown routes. */
export function accessCases(runtime: ContractRuntime): void {
  describe("GET /healthz", () => {
    it("answers the package version with no key, with CORS for the dashboard", async () => {
      const target = await runtime.start({});
      const res = await target.fetch("/healthz", { headers: { "Content-Type": "application/json", Origin: DASHBOARD_ORIGIN } });
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
      expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
      await expectJson(res, 200, { status: "ok", version: packageJson.version });
    });
  });

  describe("the admin key", () => {
    describe.each(ADMIN_ROUTES)("%s %s", (method, path, init) => {
      it.each(BAD_CREDENTIALS)("answers 401 with WWW-Authenticate: Bearer for %s, echoes no key and changes nothing", async (_label, headers) => {
        const target = await runtime.start({ sessions: [cliSession("abc")] });
        const res = await target.fetch(path, { ...init, method, headers: { ...(init?.headers as Record<string, string>), ...headers } });
        expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
        const text = await res.clone().text();
        expect(text).not.toContain(ADMIN_KEY);
        expect(text).not.toContain(WRONG_KEY);
        await expectError(res, 401, AUTHENTICATION_FAILED);
        expect((await target.fetch("/admin/sessions/abc", { headers: KEY })).status).toBe(200);
        expect((await target.fetch("/admin/sessions/new1", { headers: KEY })).status).toBe(404);
      });
    });

    it.each<[string, Record<string, string>]>([
      ["X-Admin-Key alone", { "X-Admin-Key": ADMIN_KEY }],
      ["Authorization: Bearer alone", { Authorization: `Bearer ${ADMIN_KEY}` }],
      ["a lower-case bearer scheme", { Authorization: `bearer ${ADMIN_KEY}` }],
      ["a wrong X-Admin-Key beside the right Bearer token", { "X-Admin-Key": WRONG_KEY, Authorization: `Bearer ${ADMIN_KEY}` }],
      ["the right X-Admin-Key beside a wrong Bearer token", { "X-Admin-Key": ADMIN_KEY, Authorization: `Bearer ${WRONG_KEY}` }],
    ])("accepts %s", async (_label, headers) => {
      const target = await runtime.start({});
      const res = await target.fetch("/admin/sessions", { headers });
      expect(res.headers.get("WWW-Authenticate")).toBeNull();
      await expectJson(res, 200, { sessions: [], total: 0, limit: 50, offset: 0 });
    });

    it("never counts a request without a key toward the wrong-key throttle (an EventSource, an <img>), only keys offered", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      for (let n = 0; n < 100; n++) {
        await expectError(await target.fetch(`/admin/events?admin_key=${ADMIN_KEY}`), 401, AUTHENTICATION_FAILED);
        await expectError(await target.fetch("/admin/sessions/abc"), 401, AUTHENTICATION_FAILED);
      }
      expect((await target.fetch("/admin/sessions/abc", { headers: KEY })).status).toBe(200);
      for (let n = 0; n < 10; n++) expect((await target.fetch("/admin/sessions", { headers: { "X-Admin-Key": WRONG_KEY } })).status).toBe(401);
      expect((await target.fetch("/admin/sessions", { headers: KEY })).status).toBe(429);
    });

    it("marks admin answers private and never cached unrevalidated", async () => {
      const target = await runtime.start({});
      expect((await target.fetch("/admin/sessions", { headers: KEY })).headers.get("Cache-Control")).toBe("private, no-cache");
    });
  });

  describe("CORS", () => {
    describe.each(["/healthz", "/admin/sessions", "/admin/sessions/search", "/admin/sessions/abc", "/admin/trash"])("a preflight of %s", (path) => {
      it.each(["GET", "DELETE", "PUT"])("allows the dashboard's %s without a key, with the headers it sends", async (method) => {
        const target = await runtime.start({ sessions: [cliSession("abc")] });
        const res = await target.fetch(path, preflight(DASHBOARD_ORIGIN, method));
        expect(res.status).toBe(204);
        expect(res.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
        expect(listOf(res.headers.get("Access-Control-Allow-Headers"))).toEqual(expect.arrayContaining(["x-admin-key", "authorization", "content-type"]));
        expect(listOf(res.headers.get("Access-Control-Allow-Methods"))).toEqual(expect.arrayContaining([method.toLowerCase()]));
        expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
        expect(res.headers.get("WWW-Authenticate")).toBeNull();
        expect(await res.text()).toBe("");
        // A DELETE preflight deletes nothing.
        expect((await target.fetch("/admin/sessions/abc", { headers: KEY })).status).toBe(200);
      });

      it("gives a foreign origin no Access-Control-Allow-Origin", async () => {
        const target = await runtime.start({});
        const res = await target.fetch(path, preflight(FOREIGN_ORIGIN));
        expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
        expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
      });
    });

    it("allows no PUT in a preflight when writes are off (Node without --allow-writes, the Worker with OPTA_ALLOW_WRITES=0)", async () => {
      const target = await runtime.start({}, { allowWrites: false });
      const res = await target.fetch("/admin/sessions/abc", preflight(DASHBOARD_ORIGIN, "PUT"));
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
      expect(listOf(res.headers.get("Access-Control-Allow-Methods"))).toEqual(expect.arrayContaining(["get", "delete"]));
      expect(listOf(res.headers.get("Access-Control-Allow-Methods"))).not.toContain("put");
    });

    it.each<[string, string, Record<string, string>, number]>([
      ["a 200 list", "/admin/sessions", KEY, 200],
      ["a 401 without a key", "/admin/sessions", {}, 401],
      ["a 404 for a missing session", "/admin/sessions/nosuch", KEY, 404],
      ["a 400 for a bad parameter", "/admin/sessions?limit=0", KEY, 400],
    ])("lets the dashboard read %s, and no foreign origin", async (_label, path, headers, status) => {
      const target = await runtime.start({});
      const ours = await target.fetch(path, { headers: { ...headers, "Content-Type": "application/json", Origin: DASHBOARD_ORIGIN } });
      expect(ours.status).toBe(status);
      expect(ours.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
      const foreign = await target.fetch(path, { headers: { ...headers, "Content-Type": "application/json", Origin: FOREIGN_ORIGIN } });
      expect(foreign.status).toBe(status);
      expect(foreign.headers.get("Access-Control-Allow-Origin")).toBeNull();
      expect(foreign.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    });
  });

  describe("unknown routes", () => {
    it.each<[string, string, Record<string, string>]>([
      ["GET", "/admin/nosuch", KEY],
      ["GET", "/nosuch", {}],
      ["POST", "/admin/sessions", KEY],
      ["PATCH", "/admin/sessions/abc", KEY],
      ["GET", "/admin/sessions/abc/nosuch", KEY],
    ])("%s %s answers 404 route_not_found", async (method, path, headers) => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectError(await target.fetch(path, { method, headers }), 404, ROUTE_NOT_FOUND);
    });

    it("refuses a query string over 4,096 characters with 414 before reading any parameter", async () => {
      const target = await runtime.start({});
      await expectError(await target.fetch(`/admin/sessions/search?q=${"a".repeat(4097)}`, { headers: KEY }), 414, {
        message: "the query string is longer than 4096 characters",
        type: "invalid_request_error",
        code: "query_too_long",
      });
    });

    it("asks for the key before saying an admin route is unknown", async () => {
      const target = await runtime.start({});
      await expectError(await target.fetch("/admin/nosuch"), 401, AUTHENTICATION_FAILED);
    });
  });
}
