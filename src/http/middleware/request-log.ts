import type { MiddlewareHandler } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import type { Logger } from "../../shared/log.js";

/** The caller's `X-Request-Id` when well formed (the rule hono/request-id applies), else a new one: for the Node edge. */
export function requestIdFor(offered: string | undefined): string {
  return offered && /^[\w\-=]{1,255}$/.test(offered) ? offered : crypto.randomUUID();
}

/** One line per request: method, path (never the query string, which may hold secrets), status, time, request id. */
export function requestLog(logger: Logger, now: () => number): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async (c, next) => {
    const startedAt = now();
    await next();
    logger.info(`${c.req.method} ${c.req.path} ${c.res.status} ${Math.round(now() - startedAt)}ms`, { requestId: c.var.requestId });
  };
}
