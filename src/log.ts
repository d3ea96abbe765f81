import type { MiddlewareHandler } from "hono";

/** Where the app writes its lines; the Node entry prints them, tests collect or drop them. */
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string, error?: unknown): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** One line per request: method, path (never the query string, which may hold secrets), status, time. */
export function requestLog(logger: Logger, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = now();
    await next();
    logger.info(`${c.req.method} ${c.req.path} ${c.res.status} ${Math.round(now() - startedAt)}ms`);
  };
}
