import { describe, expect, it } from "vitest";
import { AUTH, appFor, cliFile, cliSession, storeWith } from "../../fixtures/sessions.js";

const ROUTES = ["/admin/sessions", "/admin/sessions/search?q=question", "/admin/sessions/abc"];

describe("conditional requests", () => {
  it.each(ROUTES)("%s: an ETag, kept out of shared caches, and 304 with no body when nothing changed", async (path) => {
    const app = appFor(storeWith([cliSession("abc")]));
    const first = await app.request(path, { headers: AUTH });
    expect(first.status).toBe(200);
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^W\/".+"$/);
    expect(first.headers.get("Cache-Control")).toBe("private, no-cache");

    const again = await app.request(path, { headers: { ...AUTH, "If-None-Match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("ETag")).toBe(etag);
    expect(again.headers.get("Cache-Control")).toBe("private, no-cache");
    expect(again.headers.get("X-Request-Id")).toMatch(/\S/);
  });

  it.each(ROUTES)("%s: 200 with a new ETag after the CLI writes the session", async (path) => {
    const store = storeWith([cliSession("abc")]);
    const app = appFor(store);
    const etag = (await app.request(path, { headers: AUTH })).headers.get("ETag") ?? "";

    store.put("abc.json", cliFile(cliSession("abc", { title: "Renamed by the CLI", updated: "2026-03-02T00:00:00.000Z" })));
    const changed = await app.request(path, { headers: { ...AUTH, "If-None-Match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
    expect(JSON.stringify(await changed.json())).toContain("Renamed by the CLI");
  });

  it("answers an unknown ETag in full, and never 304s an error", async () => {
    const app = appFor(storeWith([cliSession("abc")]));
    expect((await app.request("/admin/sessions", { headers: { ...AUTH, "If-None-Match": 'W/"stale"' } })).status).toBe(200);
    const missing = await app.request("/admin/sessions/nosuch", { headers: { ...AUTH, "If-None-Match": "*" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("ETag")).toBeNull();
  });

  it("needs the key before it compares ETags", async () => {
    const app = appFor(storeWith([cliSession("abc")]));
    const etag = (await app.request("/admin/sessions", { headers: AUTH })).headers.get("ETag") ?? "";
    expect((await app.request("/admin/sessions", { headers: { "If-None-Match": etag } })).status).toBe(401);
  });

  it("lets the dashboard's page read the ETag and request id across origins", async () => {
    const res = await appFor(storeWith([cliSession("abc")])).request("/admin/sessions", { headers: { ...AUTH, Origin: "http://dashboard.test" } });
    const exposed = (res.headers.get("Access-Control-Expose-Headers") ?? "").toLowerCase();
    expect(exposed).toContain("etag");
    expect(exposed).toContain("x-request-id");
  });
});

describe("request ids", () => {
  it.each([
    ["/healthz", {}],
    ["/admin/sessions", AUTH],
    ["/admin/sessions", {}],
    ["/nosuchroute", {}],
    ["/openapi.json", {}],
  ] as const)("answers %s with an X-Request-Id, logged with the request", async (path, headers) => {
    const lines: { line: string; requestId?: string }[] = [];
    const logger = { info: (line: string, fields?: { requestId?: string }) => lines.push({ line, ...fields }), warn() {}, error() {} };
    const res = await appFor(storeWith([]), { logger }).request(path, { headers });
    const id = res.headers.get("X-Request-Id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toEqual([expect.objectContaining({ requestId: id, line: expect.stringContaining(path) })]);
  });

  it("keeps a caller's well-formed id and replaces a hostile one", async () => {
    const app = appFor(storeWith([]));
    expect((await app.request("/healthz", { headers: { "X-Request-Id": "dash-42" } })).headers.get("X-Request-Id")).toBe("dash-42");
    expect((await app.request("/healthz", { headers: { "X-Request-Id": 'a b"<x>' } })).headers.get("X-Request-Id")).not.toContain("<");
  });
});
