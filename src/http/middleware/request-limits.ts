import type { MiddlewareHandler } from "hono";
import { QueryTooLong } from "../errors.js";

/** What a request may cost us, whoever sends it. Each is a default the caller of createApp can change. */
export interface Limits {
  /** Longest query string (after `?`) we parse; every parameter is far shorter (q: 200 code points). */
  maxQueryLength: number;
  /** A request still unanswered after this is abandoned with 503 (a slow disk, a huge file): hono/timeout, in app.ts. */
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
