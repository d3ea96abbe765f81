import { describe, expect, it } from "vitest";
import { ownedPathsOf } from "../../src/http/upstream.js";
import { appFor, storeWith } from "../fixtures/sessions.js";

describe("which paths are ours under --upstream (derived from the app's routes)", () => {
  const ownsPath = ownedPathsOf(appFor(storeWith([])).routes);

  it.each([
    "/healthz",
    "/openapi.json",
    "/admin/sessions",
    "/admin/sessions/abc/messages",
    "/admin/sessions/nosuchroute/x",
    "/admin/trash",
    "/admin/sync/other",
  ])("answers %s here", (path) => expect(ownsPath(path)).toBe(true));

  it("refuses to build from a route under /admin with no fixed first segment (it would have no group, so no key check under an upstream)", () => {
    expect(() => ownedPathsOf([{ method: "GET", path: "/admin/:anything" }])).toThrow(/must start with a fixed segment/);
    expect(ownedPathsOf([{ method: "ALL", path: "/admin/*" }])("/admin/x")).toBe(false); // middleware is no route
  });

  it.each(["/", "/v1/models", "/admin/models", "/admin/events", "/admin/sessionsX", "/healthz/x", "/admin"])("leaves %s to LMX", (path) =>
    expect(ownsPath(path)).toBe(false),
  );
});
