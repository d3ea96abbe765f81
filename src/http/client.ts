import { type ClientResponse, hc } from "hono/client";
import type { AppType } from "./app.js";
import { type ErrorEnvelope, ErrorEnvelopeSchema } from "./schemas.js";

export interface SessionsClientOptions {
  /** Sent as `X-Admin-Key` on every request. */
  adminKey: string;
  /** Another fetch, e.g. `app.request` in tests. */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

/**
 * A typed client for opta-sessions: paths, parameters and answers come from the app's own types.
 *
 * @example
 * const client = createSessionsClient("http://127.0.0.1:1235", { adminKey: key });
 * const page = await unwrap(client.admin.sessions.$get({ query: { limit: "20" } }));
 */
export function createSessionsClient(baseUrl: string, options: SessionsClientOptions) {
  return hc<AppType>(baseUrl, {
    fetch: options.fetch,
    headers: { ...options.headers, "X-Admin-Key": options.adminKey },
  });
}

/** A non-2xx answer, with the fields of its error envelope. */
export class SessionsApiError extends Error {
  readonly status: number;
  readonly type: ErrorEnvelope["error"]["type"];
  readonly code: string | null;
  readonly param: string | null;

  constructor(status: number, error: ErrorEnvelope["error"]) {
    super(error.message);
    this.name = "SessionsApiError";
    this.status = status;
    this.type = error.type;
    this.code = error.code;
    this.param = error.param;
  }
}

/** Awaits a client call: its JSON body when it succeeded, else a SessionsApiError built from the envelope. */
export async function unwrap<T>(call: Promise<ClientResponse<T, number, "json">>): Promise<T> {
  const response = await call;
  if (response.ok) return response.json();
  const envelope = ErrorEnvelopeSchema.safeParse(await response.json().catch(() => null));
  throw new SessionsApiError(
    response.status,
    envelope.success ? envelope.data.error : { message: `HTTP ${response.status} without an error envelope`, type: "server_error", param: null, code: null },
  );
}
