import { type ClientResponse, hc } from "hono/client";
import type { FeedEvent } from "../sessions/change-feed.js";
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
  throw await apiErrorOf(response);
}

async function apiErrorOf(response: { status: number; json(): Promise<unknown> }): Promise<SessionsApiError> {
  const envelope = ErrorEnvelopeSchema.safeParse(await response.json().catch(() => null));
  return new SessionsApiError(
    response.status,
    envelope.success ? envelope.data.error : { message: `HTTP ${response.status} without an error envelope`, type: "server_error", param: null, code: null },
  );
}

export type { FeedEvent } from "../sessions/change-feed.js";

export interface WatchOptions {
  /** Sent as `X-Admin-Key`. */
  adminKey: string;
  /** Another fetch, e.g. `app.request` in tests. */
  fetch?: typeof fetch;
  /** Resume after this event: the `id` of the last change a previous watch gave. */
  lastEventId?: string;
  /** Stops watching (the loop ends; a `for await` over it simply finishes). */
  signal?: AbortSignal;
  /** The wait before reconnecting; default: what the server says (`retry:`), else 5 s. */
  retryMs?: number;
}

/** One change, with the id to resume after it. */
export interface WatchedChange {
  id: string;
  event: FeedEvent;
}

/**
 * The listing's changes, live (GET /admin/sessions/events), as an async iterator. A dropped
 * connection (or a busy server's 503) is retried by itself, resuming with Last-Event-ID, so
 * nothing inside the server's history is lost; past it, the next event is `{type: "reset"}`: list
 * again. Any other refusal (a wrong key, 501 on the Worker) throws a SessionsApiError.
 *
 * @example
 * for await (const { event } of watch("http://127.0.0.1:1235", { adminKey: key })) console.log(event.type);
 */
export async function* watch(baseUrl: string, options: WatchOptions): AsyncGenerator<WatchedChange, void, undefined> {
  const fetcher = options.fetch ?? fetch;
  const { signal } = options;
  const url = new URL("admin/sessions/events", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  let lastEventId = options.lastEventId;
  let retryMs = options.retryMs ?? 5000;
  const serverSaysRetry = options.retryMs === undefined;
  while (!signal?.aborted) {
    const headers: Record<string, string> = { "X-Admin-Key": options.adminKey, Accept: "text/event-stream" };
    if (lastEventId !== undefined) headers["Last-Event-ID"] = lastEventId;
    const response = await fetcher(url, { headers, signal }).catch(() => null);
    if (response && !response.ok) {
      const error = await apiErrorOf(response);
      if (response.status < 500 || response.status === 501) throw error; // asking again would get the same answer
    }
    if (response?.ok && response.body) {
      try {
        for await (const message of eventStreamMessages(response.body, signal)) {
          if (message.retry !== undefined && serverSaysRetry) retryMs = message.retry;
          if (message.id !== undefined) lastEventId = message.id;
          if (message.data !== undefined && lastEventId !== undefined) yield { id: lastEventId, event: JSON.parse(message.data) as FeedEvent };
        }
      } catch {
        // The connection broke: resume below.
      }
    }
    await pause(retryMs, signal);
  }
}

interface StreamMessage {
  id?: string;
  data?: string;
  retry?: number;
}

/** The messages of a text/event-stream body (an id alone included: it moves the resume point), until it ends or `signal` aborts. */
async function* eventStreamMessages(body: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<StreamMessage, void, undefined> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  // Not every fetch ends a body when its request is aborted (app.request does not): stop reading ourselves.
  const stop = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", stop, { once: true });
  let buffer = "";
  let message: StreamMessage = {};
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf("\n");
      while (end !== -1) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        end = buffer.indexOf("\n");
        if (line === "") {
          if (message.id !== undefined || message.data !== undefined || message.retry !== undefined) yield message;
          message = {};
          continue;
        }
        if (line.startsWith(":")) continue; // a comment: the heartbeat
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") message.data = message.data === undefined ? value : `${message.data}\n${value}`;
        else if (field === "id") message.id = value;
        else if (field === "retry" && /^[0-9]+$/.test(value)) message.retry = Number(value);
      }
    }
  } finally {
    signal?.removeEventListener("abort", stop);
    await reader.cancel().catch(() => undefined);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
