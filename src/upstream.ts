import type { Handler } from "hono";
import { proxy } from "hono/proxy";
import type { RequestIdVariables } from "hono/request-id";
import { RouteNotFound, UpstreamUnavailable } from "./errors.js";
import type { Logger } from "./log.js";

/** The paths this service answers itself; with an upstream, every other request goes to LMX. */
export function ownsPath(path: string): boolean {
  return path === "/healthz" || path === "/openapi.json" || OWNED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/** Every route group of ours under /admin: each must be here, or with an upstream it would skip our key check. */
export const OWNED_PREFIXES = ["/admin/sessions", "/admin/trash", "/admin/sync"];

/** Where a request for `incoming` goes on the upstream: its path (after any base path) and query, unchanged. */
export function upstreamUrl(upstream: URL, incoming: URL): URL {
  const base = upstream.pathname.replace(/\/+$/, "");
  return new URL(`${upstream.origin}${base}${incoming.pathname}${incoming.search}`);
}

/**
 * Forwards the request to LMX as a reverse proxy: method, path, query, headers and body as they
 * came (the body streamed), the answer streamed back with its status. Hono's proxy drops the
 * hop-by-hop headers both ways. `Host` becomes the upstream's (as nginx does), the original goes
 * in `X-Forwarded-Host`. LMX authenticates these requests, not us.
 */
export function forwardTo(upstream: URL, logger: Logger): Handler<{ Variables: RequestIdVariables }> {
  return async (c) => {
    if (ownsPath(c.req.path)) throw new RouteNotFound(); // ours, but no route of ours matched: never LMX's
    const incoming = new URL(c.req.url);
    const headers = new Headers(c.req.raw.headers);
    headers.delete("host");
    headers.set("x-forwarded-host", c.req.header("host") ?? incoming.host);
    headers.set("x-forwarded-proto", incoming.protocol.replace(":", ""));
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
