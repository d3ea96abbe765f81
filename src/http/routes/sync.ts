import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { isReservedId } from "../../sessions/session-files.js";
import { parseJson } from "../../shared/json.js";
import type { AppEnv } from "../app.js";
import { ApiError, BatchTooLarge, ReservedSessionId, SessionTooLarge } from "../errors.js";
import { errors, json } from "../openapi.js";
import { SessionIdParamSchema, type SyncBatchResult, SyncBatchResultSchema, SyncManifestSchema, SyncMtimesSchema } from "../schemas.js";
import { routeGroup } from "../validate.js";
import { writesEnabled } from "./sessions.js";

/** One batch's bounds: 100 sessions keep a request's work inside the request timeout, 16 MiB its memory (a Worker has 128 MB). */
export const SYNC_BATCH_LIMITS = { sessions: 100, bytes: 16 * 1024 * 1024 };

/** The part that holds the sessions' modification times rather than a session. */
const MTIMES = "mtimes";

const MULTIPART = /^multipart\/form-data\s*;/i;

interface BatchItem {
  id: string;
  file: File;
  mtimeMs?: number;
}

/**
 * The batch's sessions, in the order of their parts, checked whole before any is stored: every refusal here
 * refuses the request (a 4xx, nothing stored). What PUT would refuse of one session alone is left to its outcome.
 */
async function batchOf(c: Context<AppEnv>): Promise<BatchItem[]> {
  const invalid = (param: string, message: string) => new ApiError("invalid_parameter", message, { param });
  if (!MULTIPART.test(c.req.header("content-type") ?? "")) {
    throw invalid("content-type", "send the sessions as multipart/form-data: one file part per session, named by its id");
  }
  const limit = bodyLimit({
    maxSize: SYNC_BATCH_LIMITS.bytes,
    onError: () => {
      throw new BatchTooLarge(`${SYNC_BATCH_LIMITS.bytes} bytes`);
    },
  });
  await limit(c, async () => {});
  const form = await c.req.formData().catch(() => {
    throw invalid("body", "the body is not multipart/form-data as its Content-Type says");
  });
  const items = new Map<string, BatchItem>();
  let mtimes: Record<string, number> = {};
  for (const [name, value] of form) {
    if (name === MTIMES) {
      const text = typeof value === "string" ? value : await value.text();
      const parsed = parseJson(text, SyncMtimesSchema);
      if (parsed === null) throw invalid(MTIMES, 'mtimes must be a JSON object of session ids to ISO 8601 instants, e.g. {"abc":"2026-07-01T08:00:00.000Z"}');
      mtimes = parsed;
      continue;
    }
    const id = SessionIdParamSchema.shape.id.safeParse(name);
    if (!id.success) throw invalid(name, `${name}: ${id.error.issues[0]?.message}`);
    if (isReservedId(name)) throw invalid(name, new ReservedSessionId().message);
    // A file part arrives as the exact bytes sent; a plain field would be decoded as text first.
    if (typeof value === "string") throw invalid(name, `${name}: each session must be a file part (with a filename), so its bytes arrive exactly`);
    if (items.has(name)) throw invalid(name, `${name} is sent more than once`);
    items.set(name, { id: name, file: value });
  }
  if (items.size > SYNC_BATCH_LIMITS.sessions) throw new BatchTooLarge(`${SYNC_BATCH_LIMITS.sessions} sessions`);
  for (const [id, mtimeMs] of Object.entries(mtimes)) {
    const item = items.get(id);
    if (item === undefined) throw invalid(MTIMES, `mtimes names ${id}, which is not a session of this request`);
    item.mtimeMs = mtimeMs;
  }
  return [...items.values()];
}

const manifest = createRoute({
  method: "get",
  path: "/manifest",
  summary: "Every stored session's id and SHA-256 (only where writes are enabled; elsewhere 404): what sync compares",
  middleware: writesEnabled,
  responses: { 200: json("Ids and digests", SyncManifestSchema), ...errors(404) },
});

const store = createRoute({
  method: "post",
  path: "/sessions",
  summary:
    "Store up to 100 sessions (16 MiB) in one request, each exactly as sent and answered as PUT would answer it alone (only where writes are enabled; elsewhere 404): used by opta-sessions sync",
  middleware: writesEnabled,
  request: {
    // A plain JSON Schema, not zod: each part is stored byte for byte, so only the service reads it.
    body: {
      required: true,
      description: "One file part per session, named by its id, holding the session file's exact bytes; optionally a part mtimes",
      content: {
        "multipart/form-data": {
          schema: {
            type: "object",
            properties: {
              [MTIMES]: {
                type: "string",
                description: 'JSON: each session\'s modification time, as PUT takes X-Session-Mtime, e.g. {"abc":"2026-07-01T08:00:00.000Z"}',
              },
            },
            additionalProperties: { type: "string", format: "binary", description: "a session file's bytes, the part named by its id" },
          },
        },
      },
    },
  },
  responses: { 200: json("Each session's outcome by id: what was stored, or the error PUT would answer", SyncBatchResultSchema), ...errors(400, 404, 413) },
});

/** /admin/sync: what `opta-sessions sync` compares against, and stores in batches (only where writes are enabled). */
export const syncRoutes = routeGroup()
  .openapi(manifest, async (c) => {
    return c.json(await c.var.sessions.manifest(), 200);
  })
  .openapi(store, async (c) => {
    const sessions = c.var.sessions;
    const items = await batchOf(c);
    const fits = items.filter((item) => item.file.size <= sessions.maxSessionBytes);
    const stored = await sessions.putMany(
      await Promise.all(fits.map(async ({ id, file, mtimeMs }) => ({ id, bytes: new Uint8Array(await file.arrayBuffer()), mtimeMs }))),
    );
    // fromEntries defines each id as its own key: an id like __proto__ stays a plain key.
    const results: SyncBatchResult["results"] = Object.fromEntries(
      items.map(({ id }) => {
        const outcome = stored.get(id) ?? new SessionTooLarge(sessions.maxSessionBytes);
        return [id, outcome instanceof ApiError ? outcome.toJSON() : { sha256: outcome.sha256, created: outcome.created }];
      }),
    );
    return c.json({ results }, 200);
  });
