import type { MiddlewareHandler } from "hono";
import { etag, RETAINED_304_HEADERS } from "hono/etag";

/**
 * Admin answers may be kept by the browser but never by a shared cache (they need the key),
 * and must be revalidated before every reuse, so a change is never served stale.
 */
const ADMIN_CACHE_CONTROL = "private, no-cache";

export function privateNoCache(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("Cache-Control", ADMIN_CACHE_CONTROL);
  };
}

/**
 * ETag from a digest of the body, so it changes exactly when the answer does (a CLI write included)
 * and a poll that changed nothing gets `304` with no body. Weak, because the same answer may be
 * sent gzip- or brotli-encoded. A 304 keeps the request id and the CORS headers the browser checks.
 */
export function conditionalGet(): MiddlewareHandler {
  return etag({
    weak: true,
    retainedHeaders: [
      ...RETAINED_304_HEADERS,
      "x-request-id",
      "access-control-allow-origin",
      "access-control-allow-credentials",
      "access-control-expose-headers",
    ],
  });
}
