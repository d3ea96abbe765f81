import type { Context, MiddlewareHandler } from "hono";
import { AuthenticationFailed, TooManyFailedAttempts } from "../errors.js";
import type { FailedAuthThrottle } from "./wrong-key-throttle.js";

/** Shorter keys are refused at start: a 16-character key of random characters cannot be guessed at 10 tries a minute. */
export const MIN_ADMIN_KEY_LENGTH = 16;

interface AdminKeyOptions {
  /** The admin key every request must carry. */
  key: string;
  /** Wrong keys counted per client address; none: no throttling. */
  throttle?: FailedAuthThrottle;
  /** The address a request came from (the Node edge knows it; Web-standard requests do not). */
  clientAddress?: (c: Context) => string;
  /** Where the line about an address being refused goes. */
  warn?: (line: string) => void;
  /**
   * Requests that may carry the key as `?admin_key=` too (the live feed: a browser EventSource cannot
   * send headers). The request log prints paths without their query, so the key reaches no log line.
   */
  acceptsQueryKey?: (c: Context) => boolean;
}

/**
 * Lets a request through when `X-Admin-Key: <key>` or `Authorization: Bearer <key>` (or, where
 * allowed, `?admin_key=<key>`) carries the admin key (any one is enough); otherwise 401 with `WWW-Authenticate: Bearer`. Keys are compared
 * in constant time: the work depends only on the configured key's length, never on the offer.
 */
export function adminKeyAuth(options: AdminKeyOptions): MiddlewareHandler {
  if (options.key.length < MIN_ADMIN_KEY_LENGTH) throw new Error(`adminKeyAuth needs a key of at least ${MIN_ADMIN_KEY_LENGTH} characters`);
  const expected = encoder.encode(options.key);
  const { throttle, clientAddress = () => "unknown", warn = () => {}, acceptsQueryKey = () => false } = options;
  return async (c, next) => {
    const queryKey = acceptsQueryKey(c) ? c.req.query("admin_key") : undefined;
    // Only keys offered count: a request with none (an EventSource, an <img>) is refused but never locks anyone out.
    const offered = [
      ...new Set([c.req.header("X-Admin-Key"), bearerToken(c.req.header("Authorization")), queryKey].filter((key): key is string => Boolean(key))),
    ];
    if (offered.length === 0) throw new AuthenticationFailed();
    const address = clientAddress(c);
    const wait = throttle?.retryAfter(address) ?? 0;
    if (wait > 0) throw new TooManyFailedAttempts(wait);
    let accepted = false;
    for (const candidate of offered) accepted = equalInConstantTime(encoder.encode(candidate), expected) || accepted;
    if (accepted) {
      throttle?.succeed(address);
      await next();
      return;
    }
    if (!throttle) throw new AuthenticationFailed();
    // Checked after the key: a spent global budget refuses wrong keys from everywhere, never the right one.
    const globalWait = throttle.globalRetryAfter();
    const started = throttle.fail(address, offered.length);
    if (started === "address") warn(`too many wrong admin keys from ${address}: refusing it for ${throttle.retryAfter(address)} s`);
    if (started === "global") warn(`too many wrong admin keys from all addresses: refusing wrong keys for ${throttle.globalRetryAfter()} s`);
    if (globalWait > 0) throw new TooManyFailedAttempts(globalWait);
    throw new AuthenticationFailed();
  };
}

const encoder = new TextEncoder();

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return match?.[1];
}

/** Walks every byte of `expected` whatever `offered` is, so timing tells nothing about where they differ. */
function equalInConstantTime(offered: Uint8Array, expected: Uint8Array): boolean {
  let difference = offered.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= (offered[i % Math.max(offered.length, 1)] ?? 0) ^ (expected[i] ?? 0);
  return difference === 0;
}
