import { z } from "zod";
import { ERROR_CODES } from "../http/errors.js";
import { ErrorEnvelopeSchema, StoredSchema, SyncManifestSchema } from "../http/schemas.js";
import { isReservedId, SESSION_ID_PATTERN } from "../sessions/session-files.js";
import { parseJson } from "../shared/json.js";
import { RefusedContent, type RemoteSessions, SyncError, type Upload } from "./round.js";

/**
 * The deployment sync pushes to, over its admin API (Web-standard: fetch, URL, AbortSignal). Plain fetch, not
 * the typed client (http/client.ts): every answer is read through readCapped (the manifest bounded before it is
 * parsed, where hc's json() reads all), PUT sends the file's exact bytes rather than a JSON value, and redirects
 * are refused, so hc would build only the URL, and its types would describe nothing that is read.
 */

interface RemoteOptions {
  /** The deployment's base URL, ending in "/" (config.ts makes it so). */
  baseUrl: URL;
  adminKey: string;
  fetch?: typeof fetch;
  /** Waits between retries; must end early (resolve) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** The first retry's delay; doubled for each next one. */
  retryDelayMs?: number;
  /** The most one attempt may take, sending included. */
  timeoutMs?: number;
  /** Aborts every request in flight (stopping a watch). */
  signal?: AbortSignal;
  /** The largest manifest read, in bytes and in sessions (tests lower them). */
  manifestLimits?: { bytes: number; entries: number };
}

/**
 * The largest manifest sync reads: a deployment (hostile, or broken) could otherwise send gigabytes and then have
 * sync DELETE every id it named. 200,000 sessions is 40x a heavy CLI user's directory; 64 MiB holds that many
 * entries even with 128-character ids (about 200 bytes each).
 */
export const MANIFEST_LIMITS = { bytes: 64 * 1024 * 1024, entries: 200_000 };
/** Of any other answer only the start is read: its message, or the digest of what was stored. */
const ANSWER_BYTES = 64 * 1024;
/** A batch's answer: 100 outcomes, each an id and a digest or a message, fit many times over. */
const BATCH_ANSWER_BYTES = 1024 * 1024;
/** The batch's part that holds the modification times: a session of that id cannot be one of its parts. */
const MTIMES_PART = "mtimes";

/** Retries after a network error, 429 or 5xx: a deployment restarting or briefly overloaded gets another chance. */
const RETRIES = 3;
const MAX_RETRY_AFTER_MS = 10_000;

/** The wire's schemas (http/schemas.ts), held to what sync relies on: digests it can compare, the stored digest, the message. */
const SHA256_HEX = /^[0-9a-f]{64}$/;
const ManifestSchema = SyncManifestSchema.refine((manifest) => Object.values(manifest.sessions).every((digest) => SHA256_HEX.test(digest)));
const StoredDigestSchema = StoredSchema.pick({ sha256: true });
// Only the message: a deployment of another version may send types we do not know.
const MessageSchema = z.object({ error: ErrorEnvelopeSchema.shape.error.pick({ message: true }) });
const BatchAnswerSchema = z.object({
  results: z.record(z.string(), z.union([StoredDigestSchema, z.object({ error: ErrorEnvelopeSchema.shape.error.pick({ message: true, code: true }) })])),
});

export class Remote implements RemoteSessions {
  /** The base URL as people write it (no trailing slash), for messages. */
  readonly display: string;
  readonly #base: URL;
  readonly #key: string;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #retryDelayMs: number;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal;
  readonly #manifestLimits: { bytes: number; entries: number };
  /** False once the deployment showed it has no batch route (an older version): single PUTs from then on. */
  #batches = true;

  constructor(options: RemoteOptions) {
    this.#base = options.baseUrl;
    this.display = options.baseUrl.href.replace(/\/$/, "");
    this.#key = options.adminKey;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#retryDelayMs = options.retryDelayMs ?? 250;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#signal = options.signal ?? new AbortController().signal;
    this.#manifestLimits = options.manifestLimits ?? MANIFEST_LIMITS;
  }

  /** Every session the deployment holds: id to the SHA-256 (hex) of its stored bytes. */
  async manifest(): Promise<Map<string, string>> {
    const where = `${this.display}/admin/sync/manifest`;
    const { bytes, entries } = this.#manifestLimits;
    const { status, text, complete } = await this.#request("GET", "admin/sync/manifest", { limit: bytes });
    if (status === 404) {
      throw new SyncError(
        `${this.display} does not accept writes (no /admin/sync/manifest): start that server with --allow-writes (a Worker: OPTA_ALLOW_WRITES=1), or check the URL`,
        true,
      );
    }
    if (status !== 200) throw new SyncError(`${where} answered ${status}: ${messageOf(text, status)}`, true);
    // Out of bounds, nothing of it is used: no session is compared, sent or deleted on its word.
    if (!complete)
      throw new SyncError(`${where} is larger than ${bytes / 1024 / 1024} MiB, the most sync reads: nothing synced (is --to the right deployment?)`, true);
    const manifest = parseJson(text, ManifestSchema);
    if (!manifest) throw new SyncError(`${where} answered something that is not a sync manifest`, true);
    const count = Object.keys(manifest.sessions).length;
    if (count > entries) {
      throw new SyncError(
        `${where} lists ${count.toLocaleString("en")} sessions, more than ${entries.toLocaleString("en")}, the most sync takes: nothing synced (is --to the right deployment?)`,
        true,
      );
    }
    // Ids we could never name as a local file can be neither compared nor deleted: leave them be.
    return new Map(Object.entries(manifest.sessions).filter(([id]) => SESSION_ID_PATTERN.test(id) && !isReservedId(id)));
  }

  /** Stores the session's exact bytes under its id, with the file's modification time; checks the deployment kept exactly those bytes. */
  async put(id: string, bytes: Uint8Array, sha256: string, mtimeMs: number): Promise<void> {
    const mtime = isoMtime(mtimeMs);
    // A deployment without files dates a session that has no parseable times by this (contract: "Rules").
    const headers: Record<string, string> = mtime === null ? {} : { "X-Session-Mtime": mtime };
    const { status, text } = await this.#request("PUT", sessionPath(id), { body: bytes, headers });
    if (status === 200 || status === 201) {
      const stored = parseJson(text, StoredDigestSchema);
      if (stored && stored.sha256 !== sha256) throw otherBytes();
      return;
    }
    if (status === 404) throw new SyncError(`${this.display} does not accept writes (PUT answered 404)`, true);
    if (status === 413) throw new RefusedContent(`too large for the deployment (413: ${messageOf(text, status)})`);
    throw refused(status, text);
  }

  /**
   * Stores the sessions in one POST /admin/sync/sessions; one by one with PUT where the deployment has no such
   * route (404 or 405: an older version, remembered) or takes no batch this large (413).
   */
  async putMany(uploads: readonly Upload[]): Promise<Map<string, SyncError>> {
    let singly = uploads;
    let failures = new Map<string, SyncError>();
    const batched = this.#batches ? uploads.filter((upload) => upload.id !== MTIMES_PART) : [];
    const answered = batched.length > 0 ? await this.#postBatch(batched) : null;
    if (answered !== null) {
      failures = answered;
      singly = uploads.filter((upload) => !batched.includes(upload));
    }
    for (const { id, bytes, sha256, mtimeMs } of singly) {
      try {
        await this.put(id, bytes, sha256, mtimeMs);
      } catch (error) {
        if (!(error instanceof SyncError) || error.fatal) throw error;
        failures.set(id, error);
      }
    }
    return failures;
  }

  /** One POST of the batch: each session's failure by id; null when the deployment takes no such batch (then each goes by PUT). */
  async #postBatch(uploads: readonly Upload[]): Promise<Map<string, SyncError> | null> {
    const form = new FormData();
    for (const { id, bytes } of uploads) form.append(id, new Blob([bytes]), `${id}.json`);
    // fromEntries: an id like __proto__ stays a key of its own.
    const mtimes = Object.fromEntries(uploads.map(({ id, mtimeMs }) => [id, isoMtime(mtimeMs)]).filter(([, mtime]) => mtime !== null));
    form.append(MTIMES_PART, JSON.stringify(mtimes));
    const { status, text, complete } = await this.#request("POST", "admin/sync/sessions", { body: form, limit: BATCH_ANSWER_BYTES });
    if (status === 404 || status === 405) {
      this.#batches = false;
      return null;
    }
    if (status === 413) return null;
    if (status !== 200) throw new SyncError(`refused by the deployment (${status}: ${messageOf(text, status)})`, false);
    const answer = complete ? parseJson(text, BatchAnswerSchema) : null;
    if (answer === null) throw new SyncError("the deployment answered something that is not the outcome of each session sent", false);
    const failures = new Map<string, SyncError>();
    for (const { id, sha256 } of uploads) {
      const outcome = Object.hasOwn(answer.results, id) ? answer.results[id] : undefined;
      if (outcome === undefined) failures.set(id, new SyncError("the deployment's answer leaves this session out", false));
      else if ("error" in outcome) failures.set(id, refusedIn(outcome.error));
      else if (outcome.sha256 !== sha256) failures.set(id, otherBytes());
    }
    return failures;
  }

  /** Deletes a session; one that is already gone counts as deleted. */
  async remove(id: string): Promise<void> {
    const { status, text } = await this.#request("DELETE", sessionPath(id));
    if (status !== 200 && status !== 404) throw refused(status, text);
  }

  /** Sends one request, retrying network errors, 429 and 5xx; answers 401 and redirects stop everything. */
  async #request(
    method: string,
    path: string,
    { body, headers = {}, limit = ANSWER_BYTES }: { body?: Uint8Array | FormData; headers?: Record<string, string>; limit?: number } = {},
  ): Promise<{ status: number; text: string; complete: boolean }> {
    const url = new URL(path, this.#base);
    for (let attempt = 0; ; attempt++) {
      let problem: string;
      let delay = this.#retryDelayMs * 2 ** attempt;
      try {
        const response = await this.#fetch(url, {
          method,
          // Authorization, never X-Admin-Key: fetch drops it on a cross-origin redirect (and we follow none anyway).
          headers: { Authorization: `Bearer ${this.#key}`, ...(body instanceof Uint8Array ? { "Content-Type": "application/json" } : {}), ...headers },
          body,
          redirect: "manual",
          signal: AbortSignal.any([this.#signal, AbortSignal.timeout(this.#timeoutMs)]),
        });
        const { text, complete } = await readCapped(response, limit);
        if (response.status === 401) throw new SyncError("the deployment refused the admin key (401): check OPTA_ADMIN_KEY", true);
        if (response.status >= 300 && response.status < 400) {
          const location = clean(response.headers.get("location") ?? "elsewhere");
          throw new SyncError(`${this.display} redirects to ${location} (${response.status}): pass the URL it redirects to with --to`, true);
        }
        if (response.status !== 429 && response.status < 500) return { status: response.status, text, complete };
        problem = `${response.status}: ${messageOf(text, response.status)}`;
        delay = retryAfterMs(response.headers.get("retry-after")) ?? delay;
      } catch (error) {
        if (error instanceof SyncError) throw error;
        if (this.#signal.aborted) throw new SyncError("stopped", true);
        problem = networkProblem(error);
        if (attempt === RETRIES) throw new SyncError(`cannot reach ${this.display}: ${problem} (tried ${RETRIES + 1} times)`, true);
      }
      if (attempt === RETRIES) {
        // The manifest stops the round (nothing can be compared without it); one session's failure does not.
        const where = method === "GET" ? `${this.display}/${path}` : "the deployment";
        throw new SyncError(`${where} answered ${problem} (tried ${RETRIES + 1} times)`, method === "GET");
      }
      await this.#sleep(delay, this.#signal);
      if (this.#signal.aborted) throw new SyncError("stopped", true);
    }
  }
}

/**
 * A 4xx answer: this session failed, the others go on. Only answers about the content itself (too large, not a
 * session: 413, 400, 422) refuse it for good; others (a 403 from an access proxy in front, 409, 408, ...) may pass.
 */
function refused(status: number, text: string): SyncError {
  const message = `refused by the deployment (${status}: ${messageOf(text, status)})`;
  return CONTENT_REFUSALS.has(status) ? new RefusedContent(message) : new SyncError(message, false);
}

const CONTENT_REFUSALS = new Set([400, 413, 422]);

/** Each code's status, for the errors a batch's answer names by code (a code of another version: none). */
const STATUS_OF_CODE = new Map<string, number>(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));

/** A session's error in a batch's answer, taken as PUT's answer with the same error would be. */
function refusedIn(error: { message: string; code: string | null }): SyncError {
  const status = STATUS_OF_CODE.get(error.code ?? "");
  const message = clean(error.message);
  if (status === 413) return new RefusedContent(`too large for the deployment (413: ${message})`);
  const text = `refused by the deployment (${status ?? error.code ?? "error"}: ${message})`;
  return status !== undefined && CONTENT_REFUSALS.has(status) ? new RefusedContent(text) : new SyncError(text, false);
}

function otherBytes(): SyncError {
  return new SyncError("the deployment stored other bytes than were sent (its SHA-256 differs)", false);
}

/** The file's modification time as ISO 8601, rounded as Node's Stats.mtime is (so both runtimes date it alike); null if none. */
function isoMtime(mtimeMs: number): string | null {
  const mtime = new Date(Math.round(mtimeMs));
  return Number.isNaN(mtime.getTime()) ? null : mtime.toISOString();
}

function sessionPath(id: string): string {
  return `admin/sessions/${encodeURIComponent(id)}`;
}

/** The envelope's message, else the start of the body: the deployment's words, made safe to print. */
function messageOf(text: string, status: number): string {
  const envelope = parseJson(text, MessageSchema);
  const message = envelope ? envelope.error.message : text.trim() || `HTTP ${status}`;
  return clean(message);
}

/** No control characters (a hostile answer must not drive the terminal), and not too long for one line. */
function clean(text: string): string {
  const flat = text.replace(/\p{Cc}+/gu, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

/** The answer's text, reading at most `limit` bytes of it; `complete` false when there was more (then left unread). */
async function readCapped(response: Response, limit: number): Promise<{ text: string; complete: boolean }> {
  if (Number(response.headers.get("content-length")) > limit) {
    await response.body?.cancel();
    return { text: "", complete: false };
  }
  const reader = response.body?.getReader();
  if (!reader) return { text: "", complete: true };
  // Decoded as it arrives: no second copy of the bytes.
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), complete: true };
    text += decoder.decode(value.subarray(0, Math.max(limit - size, 0)), { stream: true });
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { text: text + decoder.decode(), complete: false };
    }
  }
}

/** Retry-After as seconds or an HTTP date, at most 10 s; null when absent or unreadable. */
function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const ms = /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  return Number.isNaN(ms) ? null : Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** fetch's own message is "fetch failed": the cause (ECONNREFUSED, a timeout) says what happened. */
function networkProblem(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return "no answer in time";
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined;
  const message = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return clean(code && !message.includes(code) ? `${code}: ${message}` : message);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
