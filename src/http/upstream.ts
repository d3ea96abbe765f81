import type { Context, Handler } from "hono";
import { proxy } from "hono/proxy";
import type { RequestIdVariables } from "hono/request-id";
import type { Logger } from "../shared/log.js";
import { RouteNotFound, UpstreamUnavailable } from "./errors.js";

/** Who answers a path: us, or (with an upstream) LMX. Derived from the app's own routes, never kept by hand. */
export type OwnsPath = (path: string) => boolean;

/**
 * The route groups of ours under /admin (`/admin/<first segment>`), from the app's registered routes: a
 * group exists by having a route, so with an upstream no route of ours can skip our key check by being
 * left off a list.
 */
export function adminRouteGroups(routes: readonly { path: string }[]): string[] {
  const groups = routes.map(({ path }) => /^\/admin\/([^/*:][^/]*)/.exec(path)?.[0]).filter((group) => group !== undefined);
  return [...new Set(groups)].sort();
}

/** The paths this service answers itself: every path under one of its /admin route groups, and each of its other plain routes (`/healthz`, `/openapi.json`). */
export function ownedPathsOf(routes: readonly { method: string; path: string }[]): OwnsPath {
  // Fail closed: a route whose first segment under /admin is a parameter or wildcard names no group, so with an upstream it would answer without our key check.
  const unnamed = routes.find(({ method, path }) => method !== "ALL" && /^\/admin\/[*:]/.test(path));
  if (unnamed) throw new Error(`${unnamed.method} ${unnamed.path}: a route under /admin must start with a fixed segment (its group)`);
  const groups = adminRouteGroups(routes);
  const exact = new Set(routes.map(({ path }) => path).filter((path) => !path.startsWith("/admin/") && !/[*:]/.test(path)));
  return (path) => exact.has(path) || groups.some((group) => path === group || path.startsWith(`${group}/`));
}

/** Where a request for `incoming` goes on the upstream: its path (after any base path) and query, unchanged. */
export function upstreamUrl(upstream: URL, incoming: URL): URL {
  const base = upstream.pathname.replace(/\/+$/, "");
  return new URL(`${upstream.origin}${base}${incoming.pathname}${incoming.search}`);
}

/** What a proxy tells the upstream about the client: set from the connection, never taken from the client (who could say anything). */
export const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host", "x-forwarded-proto"] as const;

/** The values of FORWARDING_HEADERS for a client at `address` that asked for `host` over `proto` (http or https). */
export function forwardingHeaders(address: string, host: string, proto: string): Record<(typeof FORWARDING_HEADERS)[number], string> {
  const quoted = (value: string) => `"${value.replace(/["\\]/g, "\\$&")}"`;
  // RFC 7239: an IPv6 node is bracketed and quoted; "unknown" is a valid token.
  const node = address.includes(":") ? quoted(`[${address}]`) : address;
  return {
    forwarded: `for=${node};host=${quoted(host)};proto=${proto}`,
    "x-forwarded-for": address,
    "x-real-ip": address,
    "x-forwarded-host": host,
    "x-forwarded-proto": proto,
  };
}

/**
 * Forwards the request to LMX as a reverse proxy: method, path, query, headers and body as they
 * came (the body streamed), the answer streamed back with its status. Hono's proxy drops the
 * hop-by-hop headers both ways. `Host` becomes the upstream's (as nginx does), the original goes
 * in `X-Forwarded-Host`, and the client's address (the socket's) in `X-Forwarded-For`, `X-Real-IP` and
 * `Forwarded`, replacing whatever the client sent there. LMX authenticates these requests, not us.
 */
export function forwardTo(
  upstream: URL,
  logger: Logger,
  clientAddress: (c: Context) => string,
  ownsPath: OwnsPath,
): Handler<{ Variables: RequestIdVariables }> {
  return async (c) => {
    if (ownsPath(c.req.path)) throw new RouteNotFound(); // ours, but no route of ours matched: never LMX's
    const incoming = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    headers.delete("host");
    const forwarding = forwardingHeaders(clientAddress(c), c.req.header("host") ?? incoming.host, incoming.protocol.replace(":", ""));
    for (const [name, value] of Object.entries(forwarding)) headers.set(name, value);
    headers.set("x-request-id", c.var.requestId);
    try {
      // Passed as `raw` so Hono's proxy keeps method, body and signal and strips the hop-by-hop headers.
      const response = await proxy(upstreamUrl(upstream, incoming), { raw: new Request(c.req.raw, { headers }) });
      // A Response returned as is skips the headers set through `c`: give it our request id here.
      response.headers.set("x-request-id", c.var.requestId);
      return response;
    } catch (error) {
      if (c.req.raw.signal.aborted) throw error; // the client left: nobody to answer
      logger.warn(`upstream ${upstream.origin} did not answer ${c.req.method} ${incoming.pathname}: ${causeOf(error)}`, {
        requestId: c.var.requestId,
      });
      throw new UpstreamUnavailable();
    }
  };
}

function causeOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = cause && typeof cause === "object" && "code" in cause ? String(cause.code) : undefined;
  return code ?? (error instanceof Error ? error.message : String(error));
}
