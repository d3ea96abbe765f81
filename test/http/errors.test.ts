import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { type RequestIdVariables, requestId } from "hono/request-id";
import { timeout } from "hono/timeout";
import { validator } from "hono/validator";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type ApiError,
  AuthenticationFailed,
  BatchTooLarge,
  bareErrorResponse,
  ERROR_CODES,
  EventsUnavailable,
  handleError,
  InvalidSessionBody,
  internalError,
  invalidParameter,
  NotASessionFile,
  QueryTooLong,
  RequestTimedOut,
  ReservedSessionId,
  RouteNotFound,
  SessionCorrupt,
  SessionExists,
  SessionNotFound,
  SessionTooLarge,
  TooManyFailedAttempts,
  TooManySubscribers,
  TrashItemNotFound,
  UpstreamUnavailable,
} from "../../src/http/errors.js";
import { ErrorEnvelopeSchema } from "../../src/http/schemas.js";

/**
 * The contract's error codes (API-CONTRACT.md's table: 400, 401, 404 session_not_found and unknown
 * route, 422, 500) and ours beside them (README's table, upstream_unavailable under --upstream,
 * malformed_request from the Node server): status, type, code.
 */
const DOCUMENTED: [number, string, string][] = [
  [400, "invalid_request_error", "invalid_parameter"],
  [400, "invalid_request_error", "invalid_session"],
  [400, "invalid_request_error", "malformed_request"],
  [401, "authentication_error", "invalid_admin_key"],
  [404, "not_found_error", "session_not_found"],
  [404, "not_found_error", "trash_item_not_found"],
  [404, "not_found_error", "route_not_found"],
  [409, "invalid_request_error", "session_exists"],
  [409, "invalid_request_error", "not_a_file"],
  [413, "invalid_request_error", "session_too_large"],
  [413, "invalid_request_error", "batch_too_large"],
  [414, "invalid_request_error", "query_too_long"],
  [422, "invalid_request_error", "session_corrupt"],
  [429, "rate_limit_error", "too_many_failed_attempts"],
  [500, "server_error", "internal_error"],
  [501, "server_error", "events_unavailable"],
  [502, "server_error", "upstream_unavailable"],
  [503, "server_error", "request_timeout"],
  [503, "server_error", "not_configured"],
  [503, "server_error", "too_many_subscribers"],
];

describe("the code-to-status table", () => {
  it("holds exactly the documented codes, each with its status and type", () => {
    const table = Object.entries(ERROR_CODES).map(([code, { status, type }]) => [status, type, code]);
    expect(table).toEqual(DOCUMENTED);
  });

  it("agrees with README's error table, which names every code", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const table = new Map<string, unknown>(Object.entries(ERROR_CODES));
    const documented = [...readme.matchAll(/^\| (\d{3}) \| `(\w+)` \| (.+?) \|/gm)].flatMap(([, status, type, codes = ""]) =>
      [...codes.matchAll(/`(\w+)`/g)].map(([, code]) => ({ code, status: Number(status), type })),
    );
    for (const { code, status, type } of documented) expect(table.get(code ?? ""), code).toEqual({ status, type });
    expect(documented.map(({ code }) => code).sort()).toEqual([...table.keys()].sort());
  });

  it("gives every error the API throws its code's status and type, none its own", () => {
    const errors: ApiError[] = [
      new SessionNotFound(),
      new SessionCorrupt(),
      new InvalidSessionBody(),
      new ReservedSessionId(),
      new NotASessionFile(),
      new AuthenticationFailed(),
      new RouteNotFound(),
      new SessionTooLarge(1000),
      new BatchTooLarge("100 sessions"),
      new TrashItemNotFound(),
      new SessionExists(),
      new QueryTooLong(4096),
      new TooManyFailedAttempts(30),
      new RequestTimedOut(),
      new UpstreamUnavailable(),
      new TooManySubscribers(),
      new EventsUnavailable(),
      invalidParameter(new z.ZodError([]), "limit"),
      internalError(),
    ];
    for (const error of errors) {
      expect({ code: error.code, status: error.status, type: error.type }).toEqual({ code: error.code, ...ERROR_CODES[error.code] });
    }
  });

  it("answers outside a Hono context with the same envelope, its headers and the request id", async () => {
    const res = bareErrorResponse(new TooManyFailedAttempts(30), "req-1");
    expect(res.status).toBe(429);
    expect(Object.fromEntries(res.headers)).toEqual({ "content-type": "application/json", "retry-after": "30", "x-request-id": "req-1" });
    expect(await res.json()).toEqual({
      error: {
        message: "too many requests with a wrong admin key: try again in 30 s",
        type: "rate_limit_error",
        param: null,
        code: "too_many_failed_attempts",
      },
    });
  });
});

describe("an HTTPException from Hono's own middleware", () => {
  function appWith(logged: unknown[] = []) {
    return new Hono<{ Variables: RequestIdVariables }>()
      .use(requestId())
      .onError(handleError((_line, error) => logged.push(error)))
      .get("/slow", timeout(5), () => new Promise<Response>(() => {}))
      .post("/body", bodyLimit({ maxSize: 4 }), async (c) => c.text(await c.req.text()))
      .get("/bearer", bearerAuth({ token: "a-token-of-sixteen" }), (c) => c.text("in"))
      .post(
        "/json",
        validator("json", (value) => value),
        (c) => c.json(c.req.valid("json")),
      )
      .get("/forbidden", () => {
        throw new HTTPException(403, { message: "Forbidden" });
      });
  }

  async function envelopeOf(res: Response) {
    return ErrorEnvelopeSchema.parse(await res.json()).error;
  }

  it("answers the status each one throws with our envelope for it, never Hono's text", async () => {
    const app = appWith();
    const timedOut = await app.request("/slow");
    expect(timedOut.status).toBe(503);
    expect(await envelopeOf(timedOut)).toEqual({
      message: "the request took too long and was abandoned: try again",
      type: "server_error",
      param: null,
      code: "request_timeout",
    });

    const tooLarge = await app.request("/body", { method: "POST", body: "0123456789" });
    expect(tooLarge.status).toBe(413);
    expect(await envelopeOf(tooLarge)).toMatchObject({
      type: "invalid_request_error",
      code: "session_too_large",
      message: expect.stringContaining("--max-session-mb"),
    });

    const unauthenticated = await app.request("/bearer");
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("WWW-Authenticate")).toBe("Bearer");
    expect(await envelopeOf(unauthenticated)).toEqual(new AuthenticationFailed().toJSON().error);

    const malformed = await app.request("/json", { method: "POST", body: "{", headers: { "Content-Type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(await envelopeOf(malformed)).toEqual({ message: "invalid request", type: "invalid_request_error", param: null, code: "invalid_parameter" });
  });

  it("answers a status we never answer as any unexpected failure: 500, logged", async () => {
    const logged: unknown[] = [];
    const res = await appWith(logged).request("/forbidden");
    expect(res.status).toBe(500);
    expect(await envelopeOf(res)).toEqual(internalError().toJSON().error);
    expect(logged).toEqual([expect.any(HTTPException)]);
  });
});
