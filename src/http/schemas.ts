import { z } from "zod";
import { parseQuery } from "../sessions/search/query.js";
import { SESSION_ID_PATTERN, TRASH_ID_PATTERN } from "../sessions/session-files.js";
import { parseInstant } from "../sessions/time.js";

/** The one definition of every wire type and request parameter; TypeScript types come from here. */

// ---- wire types (compat: snake_case, exactly these keys) ----

export const SessionSummarySchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  model: z.string().nullable(),
  tags: z.array(z.string()),
  created: z.string(),
  updated: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  message_count: z.number().int().nonnegative(),
  first_user_message: z.string().nullable(),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

/** A message exactly as the file stores it: any JSON value, unknown keys kept. */
export const SessionMessageSchema = z.json();
export type SessionMessage = z.infer<typeof SessionMessageSchema>;

export const SessionFullSchema = SessionSummarySchema.extend({
  cwd: z.string(),
  messages: z.array(SessionMessageSchema),
  tool_call_count: z.number().int().nonnegative(),
  compacted: z.boolean(),
});
export type SessionFull = z.infer<typeof SessionFullSchema>;

export const SessionListSchema = z.object({
  sessions: z.array(SessionSummarySchema),
  total: z.number().int().nonnegative(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type SessionList = z.infer<typeof SessionListSchema>;

/** One page of a session's messages, for sessions too big to fetch whole. */
export const MessagePageSchema = z.object({
  messages: z.array(SessionMessageSchema),
  total: z.number().int().nonnegative(),
  offset: z.number().int(),
});
export type MessagePage = z.infer<typeof MessagePageSchema>;

export const DeletedSchema = z.object({
  deleted: z.literal(true),
  /** The trash item the session became (restore or purge it by this id); null where there is no trash (removed for good). */
  trash_id: z.string().nullable(),
});

/** A deleted session waiting in the trash. `id` names the trash item: the session's id, a dot, and the deletion time in ms. */
const TrashItemSchema = z.object({
  id: z.string(),
  session_id: z.string(),
  deleted_at: z.string(),
  /** When the scheduled purge removes it for good. */
  purge_at: z.string(),
  size: z.number().int().nonnegative(),
  /** The session as it was when deleted; null if it was not a readable session. */
  session: SessionSummarySchema.nullable(),
});
export type TrashItem = z.infer<typeof TrashItemSchema>;

export const TrashListSchema = z.object({ items: z.array(TrashItemSchema) });

export const RestoredSchema = z.object({ restored: z.literal(true), id: z.string() });
export const PurgedSchema = z.object({ purged: z.literal(true) });

/** The answer to PUT /admin/sessions/:id: what was stored, and whether it is new. */
export const StoredSchema = z.object({ id: z.string(), sha256: z.string(), created: z.boolean() });
export type Stored = z.infer<typeof StoredSchema>;

/** Every stored session's id and the SHA-256 (hex) of its bytes: what sync compares against. */
export const SyncManifestSchema = z.object({ sessions: z.record(z.string(), z.string()) });
export type SyncManifest = z.infer<typeof SyncManifestSchema>;

export const HealthSchema = z.object({ status: z.literal("ok"), version: z.string() });

const ErrorTypeSchema = z.enum(["invalid_request_error", "authentication_error", "not_found_error", "rate_limit_error", "server_error"]);
export const ErrorEnvelopeSchema = z.object({
  error: z.object({
    message: z.string(),
    type: ErrorTypeSchema,
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/**
 * POST /admin/sync/sessions's answer: each session's outcome by id, as PUT would have answered it alone (what was
 * stored, or its error envelope); one session's refusal leaves the others stored.
 */
export const SyncBatchResultSchema = z.object({
  results: z.record(z.string(), z.union([StoredSchema.pick({ sha256: true, created: true }), ErrorEnvelopeSchema])),
});
export type SyncBatchResult = z.infer<typeof SyncBatchResultSchema>;

// ---- request parameters ----

/** A query parameter given at most once: `?a=1&a=2` arrives as an array and is refused by name. */
function single(name: string) {
  return z.string({
    error: (issue) => (Array.isArray(issue.input) ? `${name} must be given only once` : `${name} is required`),
  });
}

function integer(name: string, min: number, max: number, fallback: number) {
  const message = `${name} must be an integer between ${min} and ${max}`;
  return single(name)
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined) return fallback;
      const value = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
      if (!(value >= min && value <= max)) {
        ctx.addIssue({ code: "custom", message, input: raw });
        return z.NEVER;
      }
      return value;
    })
    .meta({ type: "integer", minimum: min, maximum: max, description: `an integer from ${min} to ${max}; ${fallback} when absent` });
}

/** An optional text filter; an empty value (`?model=`) means "no filter", as web forms send it. */
function filterText(name: string, maxLength: number) {
  return single(name)
    .max(maxLength, `${name} must be at most ${maxLength} characters`)
    .optional()
    .transform((raw) => (raw === "" ? undefined : raw));
}

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** An optional instant filter: an ISO 8601 date or date-time, no offset meaning UTC, compared as an instant. */
function instantFilter(name: string, description: string) {
  return filterText(name, 64)
    .transform((raw, ctx) => {
      if (raw === undefined) return undefined;
      const instant = parseInstant(raw);
      if (instant === null) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be an ISO 8601 date or date-time, e.g. 2026-07-01 or 2026-07-01T12:00:00Z`,
          input: raw,
        });
        return z.NEVER;
      }
      return instant;
    })
    .meta({ description: `ISO 8601 date or date-time (no offset means UTC): ${description}`, examples: ["2026-07-01"] });
}

export const ListQuerySchema = z.object({
  limit: integer("limit", 1, 200, 50),
  offset: integer("offset", 0, MAX_OFFSET, 0),
  model: filterText("model", 200),
  tag: filterText("tag", 200),
  since: instantFilter("since", "sessions updated at or after it"),
  until: instantFilter("until", "sessions updated before it"),
  cwd: filterText("cwd", 1000).meta({ description: "sessions whose working directory contains this text, ignoring case" }),
});
export type ListQuery = z.output<typeof ListQuerySchema>;

const MAX_QUERY_CODE_POINTS = 200;

/** q: trimmed, 1 to 200 code points, parsed in the query language (its own 400 message when it is not one). */
const queryText = single("q")
  .transform((raw, ctx) => {
    const q = raw.trim();
    const length = [...q].length;
    if (length < 1 || length > MAX_QUERY_CODE_POINTS) {
      ctx.addIssue({ code: "custom", message: `q must be between 1 and ${MAX_QUERY_CODE_POINTS} characters after trimming`, input: raw });
      return z.NEVER;
    }
    const parsed = parseQuery(q);
    if (!parsed.ok) {
      ctx.addIssue({ code: "custom", message: parsed.message, input: raw });
      return z.NEVER;
    }
    return parsed.query;
  })
  .meta({
    minLength: 1,
    maxLength: MAX_QUERY_CODE_POINTS,
    description:
      'the query language: words (all must match, inside words from 3 letters), "phrases", -exclusions, and operators model: tag: cwd: since: until: session: role: in:tools; 1 to 200 characters after trimming',
  });

export const SearchQuerySchema = z.object({
  q: queryText,
  limit: integer("limit", 1, 100, 20),
  model: ListQuerySchema.shape.model,
  tag: ListQuerySchema.shape.tag,
  since: ListQuerySchema.shape.since,
  until: ListQuerySchema.shape.until,
  cwd: ListQuerySchema.shape.cwd,
  sort: single("sort")
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === "" || raw === "relevance") return "relevance" as const;
      if (raw === "recent") return "recent" as const;
      ctx.addIssue({ code: "custom", message: "sort must be relevance or recent", input: raw });
      return z.NEVER;
    })
    .meta({ type: "string", enum: ["relevance", "recent"], description: "relevance (the default): best first; recent: the list's order" }),
});
export type SearchQuery = z.output<typeof SearchQuerySchema>;

export const RankedSearchQuerySchema = SearchQuerySchema.extend({
  offset: integer("offset", 0, MAX_OFFSET, 0),
  hits: integer("hits", 0, 50, 3),
});
export type RankedSearchQuery = z.output<typeof RankedSearchQuerySchema>;

export const SearchHitSchema = z.object({
  field: z.enum(["message", "title", "tags", "id", "model"]),
  message_index: z.number().int().nullable(),
  role: z.string().nullable(),
  snippet: z.string(),
  highlights: z.array(z.tuple([z.number().int(), z.number().int()])),
});

export const SearchResultsSchema = z.object({
  results: z.array(z.object({ session: SessionSummarySchema, score: z.number(), hits: z.array(SearchHitSchema) })),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type SearchResults = z.output<typeof SearchResultsSchema>;

export const MessagesQuerySchema = z.object({
  offset: integer("offset", 0, MAX_OFFSET, 0),
  limit: integer("limit", 1, 500, 100),
});

export const SessionIdParamSchema = z.object({
  id: z.string().regex(SESSION_ID_PATTERN, "id must be 1 to 128 characters of A-Z, a-z, 0-9, _ or -"),
});

/** A PUT body is a session file's text: JSON, said so. */
export const JsonContentTypeSchema = z.object({
  "content-type": z
    .string({ error: "send the session with Content-Type: application/json" })
    .regex(/^application\/json\s*(;|$)/i, "send the session with Content-Type: application/json"),
});

/** A file's modification time where sync read it: an ISO 8601 instant, in ms; `name` is what the message calls it. */
function mtime(name: string) {
  return z.string().transform((raw, ctx) => {
    const instant = parseInstant(raw);
    if (instant === null) {
      ctx.addIssue({ code: "custom", message: `${name} must be an ISO 8601 instant, e.g. 2026-07-01T08:00:00.000Z`, input: raw });
      return z.NEVER;
    }
    return instant;
  });
}

/** What PUT /admin/sessions/:id may say besides the body: the file's modification time where sync read it. */
export const SessionMtimeHeaderSchema = z.object({
  "x-session-mtime": mtime("X-Session-Mtime")
    .optional()
    .meta({ description: "the file's modification time (ISO 8601), kept as the session's: its times fall back to it", examples: ["2026-07-01T08:00:00.000Z"] }),
});

/** POST /admin/sync/sessions's optional `mtimes` part: what PUT takes as X-Session-Mtime, for each session of the request. */
export const SyncMtimesSchema = z.record(z.string(), mtime("each of mtimes"));

/** A trash item's id, or a session's id meaning that session's most recently deleted item. */
export const TrashIdParamSchema = z.object({
  id: z
    .string()
    .refine(
      (id) => TRASH_ID_PATTERN.test(id) || SESSION_ID_PATTERN.test(id),
      "id must be a trash item's id as GET /admin/trash lists it (<session id>.<digits>), or a session id",
    ),
});

export const TrashQuerySchema = z.object({
  session_id: single("session_id")
    .regex(SESSION_ID_PATTERN, "session_id must be 1 to 128 characters of A-Z, a-z, 0-9, _ or -")
    .optional()
    .meta({ description: "only this session's deleted items" }),
  limit: integer("limit", 1, 200, 50),
  offset: integer("offset", 0, MAX_OFFSET, 0),
});
export type TrashQuery = z.output<typeof TrashQuerySchema>;
