import type { MiddlewareHandler } from "hono";
import { QueryTooLong, RequestTimedOut } from "../errors.js";

/** What a request may cost us, whoever sends it. Each is a default the caller of createApp can change. */
export interface Limits {
  /** Longest query string (after `?`) we parse; every parameter is far shorter (q: 200 code points). */
  maxQueryLength: number;
  /** A request still unanswered after this is abandoned with 503 (a slow disk, a huge file). */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = { maxQueryLength: 4096, requestTimeoutMs: 30_000 };

/** 414 before any parameter is parsed when the query string is longer than `maxLength` characters. */
export function queryLengthCap(maxLength: number): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("?");
    if (start !== -1 && url.length - start - 1 > maxLength) throw new QueryTooLong(maxLength);
    await next();
  };
}

/**
 * Answers 503 once `ms` have passed without an answer. The work itself cannot be cancelled, so it
 * finishes in the background; the client is not kept waiting on it.
 */
export function requestTimeout(ms: number): MiddlewareHandler {
  return async (_c, next) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimedOut()), ms);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
