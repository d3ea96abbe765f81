import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { RequestIdVariables } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import type { LogFields } from "../shared/log.js";
import type { ErrorEnvelope } from "./schemas.js";

type ErrorType = ErrorEnvelope["error"]["type"];

/**
 * Every `code` the API answers with, and the status and type that go with it: the one place they
 * are decided (README's error table documents the same rows; test/http/errors.test.ts holds them to it).
 */
export const ERROR_CODES = {
  invalid_parameter: { status: 400, type: "invalid_request_error" },
  invalid_session: { status: 400, type: "invalid_request_error" },
  /** Node only: a request Node cannot turn into a Request (a raw backslash in the path, a bad Host). */
  malformed_request: { status: 400, type: "invalid_request_error" },
  invalid_admin_key: { status: 401, type: "authentication_error" },
  session_not_found: { status: 404, type: "not_found_error" },
  trash_item_not_found: { status: 404, type: "not_found_error" },
  route_not_found: { status: 404, type: "not_found_error" },
  session_exists: { status: 409, type: "invalid_request_error" },
  not_a_file: { status: 409, type: "invalid_request_error" },
  session_too_large: { status: 413, type: "invalid_request_error" },
  batch_too_large: { status: 413, type: "invalid_request_error" },
  query_too_long: { status: 414, type: "invalid_request_error" },
  session_corrupt: { status: 422, type: "invalid_request_error" },
  too_many_failed_attempts: { status: 429, type: "rate_limit_error" },
  internal_error: { status: 500, type: "server_error" },
  /** Worker only: the live feed (GET /admin/sessions/events) runs on the Node server. */
  events_unavailable: { status: 501, type: "server_error" },
  upstream_unavailable: { status: 502, type: "server_error" },
  request_timeout: { status: 503, type: "server_error" },
  /** Worker only: a required setting is missing or wrong. */
  not_configured: { status: 503, type: "server_error" },
  too_many_subscribers: { status: 503, type: "server_error" },
} as const satisfies Record<string, { status: ContentfulStatusCode; type: ErrorType }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error the client should see as it is: one envelope, its status and type from ERROR_CODES,
 * optional headers. An HTTPException, so Hono's own middleware (timeout) can throw ours.
 */
export class ApiError extends HTTPException {
  readonly type: ErrorType;
  readonly param: string | null;
  readonly headers: Record<string, string>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { param?: string; headers?: Record<string, string> } = {},
  ) {
    super(ERROR_CODES[code].status, { message });
    this.type = ERROR_CODES[code].type;
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  toJSON(): ErrorEnvelope {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** The envelope as a Response, where no context answers it (bareErrorResponse; Hono's default handler calls this too). */
  override getResponse(): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { "Content-Type": "application/json", ...this.headers },
    });
  }
}

export class SessionNotFound extends ApiError {
  constructor() {
    super("session_not_found", "session not found");
  }
}

export class SessionCorrupt extends ApiError {
  constructor() {
    super("session_corrupt", "the session file cannot be read as a session");
  }
}

/** A PUT body that is not what the CLI writes: a JSON object. */
export class InvalidSessionBody extends ApiError {
  constructor() {
    super("invalid_session", "the body must be a session: a JSON object, as the Opta CLI writes it", { param: "body" });
  }
}

export class ReservedSessionId extends ApiError {
  constructor() {
    super("invalid_parameter", "index is reserved for the CLI's index.json and is not a session id", { param: "id" });
  }
}

/** Something that is not a regular file (a directory, say) has the session's name: a write would not replace it. */
export class NotASessionFile extends ApiError {
  constructor() {
    super("not_a_file", "an entry with this id exists and is not a session file: remove it first");
  }
}

export class AuthenticationFailed extends ApiError {
  constructor() {
    super("invalid_admin_key", "missing or invalid admin key: send X-Admin-Key or Authorization: Bearer", {
      headers: { "WWW-Authenticate": "Bearer" },
    });
  }
}

export class RouteNotFound extends ApiError {
  constructor() {
    super("route_not_found", "no such route");
  }
}

export class SessionTooLarge extends ApiError {
  /** `maxBytes` unknown: the limit is named by its setting alone. */
  constructor(maxBytes?: number) {
    // The limit is the operator's; naming its setting (Node flag, Worker var) tells them what to raise.
    const limit = maxBytes === undefined ? "limit" : `limit of ${maxBytes} bytes`;
    super("session_too_large", `the session is larger than this deployment's ${limit} (--max-session-mb, or OPTA_MAX_SESSION_MB)`);
  }
}

/** POST /admin/sync/sessions with more sessions, or more bytes, than one request takes: nothing of it is stored. */
export class BatchTooLarge extends ApiError {
  constructor(limit: string) {
    super("batch_too_large", `one request takes at most ${limit}: send the rest in another (or one by one with PUT)`);
  }
}

export class TrashItemNotFound extends ApiError {
  constructor() {
    super("trash_item_not_found", "no such item in the trash");
  }
}

/** A restore would overwrite a session the CLI (or a restore) has made again since the delete. */
export class SessionExists extends ApiError {
  constructor() {
    super("session_exists", "a session with this id exists again: delete or rename it first");
  }
}

export class QueryTooLong extends ApiError {
  constructor(maxLength: number) {
    super("query_too_long", `the query string is longer than ${maxLength} characters`);
  }
}

/** Too many wrong keys from this address: it must wait before trying again. */
export class TooManyFailedAttempts extends ApiError {
  constructor(retryAfterSeconds: number) {
    super("too_many_failed_attempts", `too many requests with a wrong admin key: try again in ${retryAfterSeconds} s`, {
      headers: { "Retry-After": String(retryAfterSeconds) },
    });
  }
}

export class RequestTimedOut extends ApiError {
  constructor() {
    super("request_timeout", "the request took too long and was abandoned: try again");
  }
}

/** The LMX server we forward to did not answer (down, refused, reset). */
export class UpstreamUnavailable extends ApiError {
  constructor() {
    super("upstream_unavailable", "the upstream LMX server is not answering");
  }
}

/** The live feed has as many subscribers as it takes. */
export class TooManySubscribers extends ApiError {
  constructor() {
    super("too_many_subscribers", "the live feed has as many subscribers as it takes: try again later", { headers: { "Retry-After": "5" } });
  }
}

/** Where no live feed is kept (the Worker): said plainly, not a 404 that looks like a typo. */
export class EventsUnavailable extends ApiError {
  constructor() {
    super("events_unavailable", "the live feed runs on the Node server only: on this deployment, poll GET /admin/sessions instead");
  }
}

/** The first problem zod found, named by the parameter it concerns. */
export function invalidParameter(error: z.core.$ZodError, name?: string): ApiError {
  const issue = error.issues[0];
  const param = name ?? (typeof issue?.path[0] === "string" ? issue.path[0] : undefined);
  return new ApiError("invalid_parameter", issue?.message ?? "invalid request", { param });
}

export const internalError = () => new ApiError("internal_error", "internal server error");

/**
 * What an HTTPException thrown by Hono's own middleware (not one of ours) answers, by the statuses
 * that middleware throws: what we answer for the same failure. Hono's message is not passed on.
 * Any other status (403: CSRF, IP restriction, neither used here) is a failure we do not expect.
 */
const honoExceptionAnswers: Readonly<Partial<Record<ContentfulStatusCode, () => ApiError>>> = {
  400: () => new ApiError("invalid_parameter", "invalid request"), // validator: a body that does not parse
  401: () => new AuthenticationFailed(), // bearerAuth, basicAuth, jwt
  404: () => new RouteNotFound(), // what Hono itself means by 404: no route answered
  413: () => new SessionTooLarge(), // bodyLimit: the only bodies we take are sessions
  504: () => new RequestTimedOut(), // timeout() without an exception of ours
};

export function errorResponse(c: Context, error: ApiError): Response {
  return c.json(error.toJSON(), error.status, error.headers);
}

/** The envelope outside any Hono context: for a request the server could not even turn into a Request. */
export function bareErrorResponse(error: ApiError, requestId: string): Response {
  const response = error.getResponse();
  response.headers.set("X-Request-Id", requestId);
  return response;
}

/**
 * The one place an error becomes a response. Anything unexpected is logged in full here and
 * answered with a fixed message: no path, no stack, no library text reaches the client.
 */
export function handleError<E extends { Variables: RequestIdVariables }>(logError: (message: string, error: unknown, fields: LogFields) => void) {
  return (error: Error, c: Context<E>): Response => {
    if (error instanceof ApiError) return errorResponse(c, error);
    const answer = error instanceof HTTPException ? honoExceptionAnswers[error.status] : undefined;
    if (answer) return errorResponse(c, answer());
    logError(`${c.req.method} ${c.req.path} failed`, error, { requestId: c.var.requestId });
    return errorResponse(c, internalError());
  };
}
