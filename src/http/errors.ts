import type { Context } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { LogFields } from "../shared/log.js";
import type { ErrorEnvelope } from "./schemas.js";

type ErrorType = ErrorEnvelope["error"]["type"];

const statusOf: Record<ErrorType, ContentfulStatusCode> = {
  invalid_request_error: 400,
  authentication_error: 401,
  not_found_error: 404,
  rate_limit_error: 429,
  server_error: 500,
};

/** An error the client should see as it is: one envelope, one status, optional headers. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    options: { param?: string; status?: ContentfulStatusCode; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = options.status ?? statusOf[type];
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }
  readonly param: string | null;
  readonly headers: Record<string, string>;

  toJSON(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export class SessionNotFound extends ApiError {
  constructor() {
    super("not_found_error", "session_not_found", "session not found");
  }
}

export class SessionCorrupt extends ApiError {
  constructor() {
    super("invalid_request_error", "session_corrupt", "the session file cannot be read as a session", { status: 422 });
  }
}

/** A PUT body that is not what the CLI writes: a JSON object. */
export class InvalidSessionBody extends ApiError {
  constructor() {
    super("invalid_request_error", "invalid_session", "the body must be a session: a JSON object, as the Opta CLI writes it", { param: "body" });
  }
}

export class ReservedSessionId extends ApiError {
  constructor() {
    super("invalid_request_error", "invalid_parameter", "index is reserved for the CLI's index.json and is not a session id", { param: "id" });
  }
}

/** Something that is not a regular file (a directory, say) has the session's name: a write would not replace it. */
export class NotASessionFile extends ApiError {
  constructor() {
    super("invalid_request_error", "not_a_file", "an entry with this id exists and is not a session file: remove it first", { status: 409 });
  }
}

export class AuthenticationFailed extends ApiError {
  constructor() {
    super("authentication_error", "invalid_admin_key", "missing or invalid admin key: send X-Admin-Key or Authorization: Bearer", {
      headers: { "WWW-Authenticate": "Bearer" },
    });
  }
}

export class RouteNotFound extends ApiError {
  constructor() {
    super("not_found_error", "route_not_found", "no such route");
  }
}

export class SessionTooLarge extends ApiError {
  constructor(maxBytes: number) {
    // The limit is the operator's; naming its setting (Node flag, Worker var) tells them what to raise.
    super(
      "invalid_request_error",
      "session_too_large",
      `the session is larger than this deployment's limit of ${maxBytes} bytes (--max-session-mb, or OPTA_MAX_SESSION_MB)`,
      {
        status: 413,
      },
    );
  }
}

export class TrashItemNotFound extends ApiError {
  constructor() {
    super("not_found_error", "trash_item_not_found", "no such item in the trash");
  }
}

/** A restore would overwrite a session the CLI (or a restore) has made again since the delete. */
export class SessionExists extends ApiError {
  constructor() {
    super("invalid_request_error", "session_exists", "a session with this id exists again: delete or rename it first", { status: 409 });
  }
}

export class QueryTooLong extends ApiError {
  constructor(maxLength: number) {
    super("invalid_request_error", "query_too_long", `the query string is longer than ${maxLength} characters`, { status: 414 });
  }
}

/** Too many wrong keys from this address: it must wait before trying again. */
export class TooManyFailedAttempts extends ApiError {
  constructor(retryAfterSeconds: number) {
    super("rate_limit_error", "too_many_failed_attempts", `too many requests with a wrong admin key: try again in ${retryAfterSeconds} s`, {
      headers: { "Retry-After": String(retryAfterSeconds) },
    });
  }
}

export class RequestTimedOut extends ApiError {
  constructor() {
    super("server_error", "request_timeout", "the request took too long and was abandoned: try again", { status: 503 });
  }
}

/** The LMX server we forward to did not answer (down, refused, reset). */
export class UpstreamUnavailable extends ApiError {
  constructor() {
    super("server_error", "upstream_unavailable", "the upstream LMX server is not answering", { status: 502 });
  }
}

/** The first problem zod found, named by the parameter it concerns. */
export function invalidParameter(error: z.core.$ZodError, name?: string): ApiError {
  const issue = error.issues[0];
  const param = name ?? (typeof issue?.path[0] === "string" ? issue.path[0] : undefined);
  return new ApiError("invalid_request_error", "invalid_parameter", issue?.message ?? "invalid request", { param });
}

export function errorResponse(c: Context, error: ApiError): Response {
  return c.json(error.toJSON(), error.status, error.headers);
}

/** The envelope outside any Hono context: for a request the server could not even turn into a Request. */
export function bareErrorResponse(error: ApiError, requestId: string): Response {
  return new Response(JSON.stringify(error.toJSON()), {
    status: error.status,
    headers: { "Content-Type": "application/json", "X-Request-Id": requestId, ...error.headers },
  });
}

export const internalError = () => new ApiError("server_error", "internal_error", "internal server error");

/**
 * The one place an error becomes a response. Anything unexpected is logged in full here and
 * answered with a fixed message: no path, no stack, no library text reaches the client.
 */
export function handleError<E extends { Variables: RequestIdVariables }>(logError: (message: string, error: unknown, fields: LogFields) => void) {
  return (error: Error, c: Context<E>): Response => {
    if (error instanceof ApiError) return errorResponse(c, error);
    logError(`${c.req.method} ${c.req.path} failed`, error, { requestId: c.var.requestId });
    return errorResponse(c, internalError());
  };
}
