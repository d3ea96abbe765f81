import type { MiddlewareHandler } from "hono";
import type { RequestIdVariables } from "hono/request-id";

/** What ties a log line to one request; the Node edge prints it in text or JSON. */
export interface LogFields {
  requestId?: string;
}

/** Where the app writes its lines; the Node entry prints them, tests collect or drop them. */
export interface Logger {
  info(line: string, fields?: LogFields): void;
  warn(line: string, fields?: LogFields): void;
  error(line: string, error?: unknown, fields?: LogFields): void;
}

/** The caller's `X-Request-Id` when well formed (the rule hono/request-id applies), else a new one: for the Node edge. */
export function requestIdFor(offered: string | undefined): string {
  return offered && /^[\w\-=]{1,255}$/.test(offered) ? offered : crypto.randomUUID();
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** One line per request: method, path (never the query string, which may hold secrets), status, time, request id. */
export function requestLog(logger: Logger, now: () => number): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async (c, next) => {
    const startedAt = now();
    await next();
    logger.info(`${c.req.method} ${c.req.path} ${c.res.status} ${Math.round(now() - startedAt)}ms`, { requestId: c.var.requestId });
  };
}

/** For the Worker: console lines, which `wrangler tail` and the dashboard's logs show (JSON, one object a line). */
export const consoleLogger: Logger = {
  info: (line, fields) => console.log(JSON.stringify({ level: "info", msg: line, ...fields })),
  warn: (line, fields) => console.warn(JSON.stringify({ level: "warn", msg: line, ...fields })),
  error: (line, error, fields) =>
    console.error(JSON.stringify({ level: "error", msg: line, err: error instanceof Error ? `${error.name}: ${error.message}` : String(error), ...fields })),
};
