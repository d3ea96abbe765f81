import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/storage/memory-store.js";
import type { ReadResult, StoreEntry } from "../../src/storage/store.js";
import { type ExpectedError, expectError, ROUTE_NOT_FOUND, SESSION_NOT_FOUND } from "../fixtures/errors.js";
import { ADMIN_KEY, AUTH, appFor, cliSession, DASHBOARD_HEADERS, recordingLogger, storeWith } from "../fixtures/sessions.js";

const ORIGIN = "http://dashboard.test";
const FOREIGN = "http://evil.test";
const WRONG_KEY = "wrong-key-9f8e7d6c5b4a";
const UNAUTHENTICATED: ExpectedError = { type: "authentication_error", code: "invalid_admin_key" };

/** /admin routes and variants of them (query strings, ids that are not sessions, a route that does not exist), as [method, path]. */
const ADMIN_ROUTES: [string, string][] = [
  ["GET", "/admin/sessions"],
  ["GET", "/admin/sessions?limit=5"],
  ["GET", "/admin/sessions/search?q=abc"],
  ["GET", "/admin/sessions/abc"],
  ["DELETE", "/admin/sessions/abc"],
  ["GET", "/admin/sessions/index"],
  ["PUT", "/admin/sessions/abc"],
  ["GET", "/admin/sync/manifest"],
  ["GET", "/admin/trash"],
  ["POST", "/admin/trash/abc.1/restore"],
  ["DELETE", "/admin/trash/abc.1"],
  ["GET", "/admin/nosuchroute"],
];

const BAD_CREDENTIALS: [string, Record<string, string>][] = [
  ["no key", {}],
  ["a wrong X-Admin-Key", { "X-Admin-Key": WRONG_KEY }],
  ["an empty X-Admin-Key", { "X-Admin-Key": "" }],
  ["a wrong Bearer token", { Authorization: `Bearer ${WRONG_KEY}` }],
  ["an empty Bearer token", { Authorization: "Bearer " }],
  ["the key without a scheme", { Authorization: ADMIN_KEY }],
  ["the key under the Basic scheme", { Authorization: `Basic ${ADMIN_KEY}` }],
  ["the key base64-encoded under the Basic scheme", { Authorization: `Basic ${btoa(`admin:${ADMIN_KEY}`)}` }],
  ["a key with an extra character", { "X-Admin-Key": `${ADMIN_KEY}x` }],
  ["a prefix of the key", { "X-Admin-Key": ADMIN_KEY.slice(0, -1) }],
];

const app = () => appFor(storeWith([cliSession("abc")]), { allowWrites: true });

function preflight(path: string, origin: string, method = "GET"): Request {
  return new Request(`http://localhost${path}`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "content-type,x-admin-key",
    },
  });
}

function listOf(header: string | null): string[] {
  return (header ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
}

describe("admin key", () => {
  describe.each(ADMIN_ROUTES)("%s %s", (method, path) => {
    it.each(BAD_CREDENTIALS)("answers 401 with WWW-Authenticate: Bearer for %s", async (_label, headers) => {
      const store = storeWith([cliSession("abc")]);
      const res = await appFor(store).request(path, { method, headers });
      expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
      const text = await res.clone().text();
      await expectError(res, 401, UNAUTHENTICATED);
      expect(text).not.toContain(ADMIN_KEY);
      expect(text).not.toContain(WRONG_KEY);
      expect(store.get("abc.json")).toBeDefined();
    });
  });

  // With an upstream, paths that are not ours go to LMX untouched: every route of ours must still be guarded. The
  // routes are the app's own (each parameter filled in), so a route added later is checked without being listed here.
  const registered = [
    ...new Set(
      appFor(storeWith([]))
        .routes.filter((route) => route.method !== "ALL" && route.path.startsWith("/admin/"))
        .map((route) => `${route.method} ${route.path.replace(/:[a-z]+/gi, "abc")}`),
    ),
  ].map((route) => route.split(" ") as [string, string]);
  it("finds the app's admin routes to check", () => {
    expect(registered.length).toBeGreaterThanOrEqual(10);
  });
  it.each(registered)("with an upstream set, %s %s still needs our key", async (method, path) => {
    const guarded = appFor(storeWith([cliSession("abc")]), { upstream: new URL("http://127.0.0.1:9"), allowWrites: true });
    await expectError(await guarded.request(path, { method }), 401, UNAUTHENTICATED);
  });

  it("never logs the key, right or wrong", async () => {
    const logger = recordingLogger();
    const app = appFor(storeWith([cliSession("abc")]), { logger });
    await app.request("/admin/sessions", { headers: { "X-Admin-Key": WRONG_KEY } });
    await app.request("/admin/sessions", { headers: AUTH });
    await app.request("/admin/sessions", { headers: { Authorization: `Bearer ${ADMIN_KEY}` } });
    expect(logger.lines.length).toBeGreaterThan(0);
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain(ADMIN_KEY);
    expect(logged).not.toContain(WRONG_KEY);
  });

  it.each<[string, Record<string, string>]>([
    ["X-Admin-Key alone", { "X-Admin-Key": ADMIN_KEY }],
    ["Authorization: Bearer", { Authorization: `Bearer ${ADMIN_KEY}` }],
    ["a lower-case bearer scheme", { Authorization: `bearer ${ADMIN_KEY}` }],
    ["an upper-case BEARER scheme", { Authorization: `BEARER ${ADMIN_KEY}` }],
    ["a wrong X-Admin-Key plus the right Bearer token", { "X-Admin-Key": WRONG_KEY, Authorization: `Bearer ${ADMIN_KEY}` }],
    ["the right X-Admin-Key plus a wrong Bearer token", { "X-Admin-Key": ADMIN_KEY, Authorization: `Bearer ${WRONG_KEY}` }],
    ["the right X-Admin-Key plus a Basic header", { "X-Admin-Key": ADMIN_KEY, Authorization: "Basic Zm9vOmJhcg==" }],
  ])("accepts %s", async (_label, headers) => {
    const res = await app().request("/admin/sessions", { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get("WWW-Authenticate")).toBeNull();
  });

  it("does not need a key for /healthz", async () => {
    expect((await app().request("/healthz")).status).toBe(200);
  });
});

describe("CORS", () => {
  describe.each(["/admin/sessions", "/admin/sessions/abc", "/admin/sessions/search", "/healthz"])("preflight of %s", (path) => {
    it.each(["GET", "DELETE"])("allows the dashboard's origin for %s without a key", async (method) => {
      const res = await app().request(preflight(path, ORIGIN, method));
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
      expect(listOf(res.headers.get("Access-Control-Allow-Headers"))).toEqual(expect.arrayContaining(["x-admin-key", "authorization", "content-type"]));
      expect(listOf(res.headers.get("Access-Control-Allow-Methods"))).toEqual(expect.arrayContaining(["get", "delete", "options"]));
      expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
      expect(res.headers.get("WWW-Authenticate")).toBeNull();
    });

    it("gives a foreign origin no Access-Control-Allow-Origin", async () => {
      const res = await app().request(preflight(path, FOREIGN));
      expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
      expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    });
  });

  it("does not delete anything on a DELETE preflight", async () => {
    const store = storeWith([cliSession("abc")]);
    await appFor(store).request(preflight("/admin/sessions/abc", ORIGIN, "DELETE"));
    expect(store.get("abc.json")).toBeDefined();
  });

  it("gives a real request from a foreign origin no Access-Control-Allow-Origin", async () => {
    const res = await app().request("/admin/sessions", { headers: { ...DASHBOARD_HEADERS, Origin: FOREIGN } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("never answers Access-Control-Allow-Origin: *", async () => {
    const answers = [
      await app().request("/admin/sessions", { headers: { ...DASHBOARD_HEADERS, Origin: FOREIGN } }),
      await app().request(preflight("/admin/sessions", FOREIGN)),
      await app().request("/admin/sessions", { headers: DASHBOARD_HEADERS }),
    ];
    for (const res of answers) expect(res.headers.get("Access-Control-Allow-Origin")).not.toBe("*");
  });

  it.each<[string, string, Record<string, string>, number]>([
    ["a 200 list", "/admin/sessions", DASHBOARD_HEADERS, 200],
    ["a 200 healthz", "/healthz", { "Content-Type": "application/json" }, 200],
    ["a 401 without a key", "/admin/sessions", { "Content-Type": "application/json" }, 401],
    ["a 404 for a missing session", "/admin/sessions/nosuch", DASHBOARD_HEADERS, 404],
    ["a 404 for an unknown route", "/admin/nosuchroute", DASHBOARD_HEADERS, 404],
    ["a 400 for a bad parameter", "/admin/sessions?limit=0", DASHBOARD_HEADERS, 400],
  ])("lets the dashboard's origin read %s", async (_label, path, headers, status) => {
    const res = await app().request(path, { headers: { ...headers, Origin: ORIGIN } });
    expect(res.status).toBe(status);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });
});

describe("errors", () => {
  it.each<[string, string]>([
    ["GET", "/admin/nosuchroute"],
    ["GET", "/admin/sessions/abc/attachments"],
    ["GET", "/nosuchroute"],
    ["POST", "/admin/sessions"],
    ["PUT", "/admin/sessions/abc"],
    ["PATCH", "/admin/sessions/abc"],
    ["POST", "/admin/sessions/search"],
  ])("answers %s %s with a 404 not_found_error envelope", async (method, path) => {
    const store = storeWith([cliSession("abc")]);
    const init: RequestInit = { method, headers: DASHBOARD_HEADERS };
    if (method !== "GET") init.body = JSON.stringify({ id: "abc" });
    await expectError(await appFor(store).request(path, init), 404, ROUTE_NOT_FOUND);
    expect(store.get("abc.json")).toBeDefined();
  });

  describe("when the store fails unexpectedly", () => {
    const secretPath = "/Users/alice/.config/opta/sessions";

    class FailingStore extends MemoryStore {
      override async list(): Promise<StoreEntry[]> {
        throw new Error(`EACCES: permission denied, scandir '${secretPath}'`);
      }
      override async read(name: string): Promise<ReadResult> {
        throw new Error(`EIO: i/o error, open '${secretPath}/${name}'`);
      }
    }

    it.each(["/admin/sessions", "/admin/sessions/search?q=abc", "/admin/sessions/abc"])(
      "answers %s with a 500 server_error envelope that reveals no path or stack, and logs the real error",
      async (path) => {
        const logger = recordingLogger();
        const res = await appFor(new FailingStore(), { logger }).request(path, { headers: AUTH });
        const text = await res.clone().text();
        await expectError(res, 500, { type: "server_error", code: "internal_error", message: "internal server error" });
        for (const leak of [secretPath, "/Users", "EACCES", "EIO", "scandir", ".json", "    at ", "Error:"]) {
          expect(text).not.toContain(leak);
        }
        const errors = logger.lines.filter((line) => line.level === "error");
        expect(errors).toHaveLength(1);
      },
    );
  });
});

describe("the dashboard's exact requests", () => {
  it("checks the connection, lists, searches, reads and deletes with its headers", async () => {
    const store = storeWith([cliSession("-8h6JWRxg1BC", { title: "From the CLI" }), cliSession("other")]);
    const app = appFor(store);
    const withOrigin = { ...DASHBOARD_HEADERS, Origin: ORIGIN };

    const health = await app.request("/healthz", { headers: { "Content-Type": "application/json", Origin: ORIGIN } });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", version: "9.9.9-test" });

    const list = await app.request("/admin/sessions?limit=50&offset=0", { headers: withOrigin });
    expect(list.status).toBe(200);
    expect(await list.json()).toMatchObject({ total: 2, limit: 50, offset: 0 });

    const search = await app.request("/admin/sessions/search?q=from%20the%20cli&limit=20", { headers: withOrigin });
    expect(search.status).toBe(200);
    expect(((await search.json()) as { id: string }[]).map((item) => item.id)).toEqual(["-8h6JWRxg1BC"]);

    const read = await app.request(`/admin/sessions/${encodeURIComponent("-8h6JWRxg1BC")}`, { headers: withOrigin });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id: "-8h6JWRxg1BC", title: "From the CLI" });

    const deleted = await app.request("/admin/sessions/-8h6JWRxg1BC", { method: "DELETE", headers: withOrigin });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: true, trash_id: null });
    expect(deleted.headers.get("Access-Control-Allow-Origin")).toBe(ORIGIN);
    expect(store.get("-8h6JWRxg1BC.json")).toBeUndefined();

    const missing = await app.request("/admin/sessions/-8h6JWRxg1BC", { headers: withOrigin });
    await expectError(missing, 404, SESSION_NOT_FOUND);
  });
});
