import { cliSession } from "../fixtures/sessions.js";
import { SEED_MTIME } from "./runtime.js";

/** What the wire carries, written out here from the contract (not derived from src), in the order the server sends the keys. */
export interface Summary {
  id: string;
  title: string | null;
  model: string | null;
  tags: string[];
  created: string;
  updated: string;
  created_at: string;
  updated_at: string;
  message_count: number;
  first_user_message: string | null;
}

export type Full = Summary & { cwd: string; messages: unknown[]; tool_call_count: number; compacted: boolean };

/** The fields of a summary a test may set; `created_at` and `updated_at` follow `created` and `updated` (see atOf). */
export type SummaryFields = Partial<Omit<Summary, "id" | "created_at" | "updated_at">>;

export const CLI_TIME = "2026-03-01T10:00:00.000Z";

/** The summary of `cliSession(id)` with these fields changed. */
export function summaryOf(id: string, fields: SummaryFields = {}): Summary {
  const created = fields.created ?? CLI_TIME;
  const updated = fields.updated ?? created;
  return {
    id,
    title: fields.title === undefined ? `Session ${id}` : fields.title,
    model: fields.model === undefined ? "MiniMax-M2.5-5bit" : fields.model,
    tags: fields.tags ?? [],
    created,
    updated,
    created_at: atOf(created),
    updated_at: atOf(updated),
    message_count: fields.message_count ?? 2, // system messages are not counted
    first_user_message: fields.first_user_message === undefined ? `question from ${id}` : fields.first_user_message,
  };
}

// The instants the sessions here are written with (ISO 8601 in the form every browser reads).
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** `created_at`/`updated_at`: the same string when it is an instant, else the file's modification time. */
export function atOf(time: string, mtime = SEED_MTIME): string {
  return INSTANT.test(time) ? time : mtime;
}

/** GET's answer for `cliSession(id)` with these fields changed. */
export function fullOf(id: string, fields: SummaryFields & Partial<Pick<Full, "cwd" | "messages" | "tool_call_count" | "compacted">> = {}): Full {
  return {
    ...summaryOf(id, fields),
    cwd: fields.cwd ?? "/Users/dev/project",
    messages: fields.messages ?? [
      { role: "system", content: "You are Opta." },
      { role: "user", content: `question from ${id}` },
      { role: "assistant", content: `answer for ${id}` },
    ],
    tool_call_count: fields.tool_call_count ?? 0,
    compacted: fields.compacted ?? false,
  };
}

/** A CLI session and its expected summary from one set of fields: seed and expectation cannot disagree. */
export function pair(id: string, fields: Pick<SummaryFields, "title" | "model" | "tags" | "created" | "updated"> = {}) {
  return { session: cliSession(id, fields), summary: summaryOf(id, fields) };
}

/** A session whose `created` and `updated` are both `time`. */
export function at(id: string, time: string, fields: Pick<SummaryFields, "model" | "tags" | "title"> = {}) {
  return pair(id, { ...fields, created: time, updated: time });
}

export function listBody(summaries: readonly Summary[], page: { total?: number; limit?: number; offset?: number } = {}) {
  return { sessions: summaries, total: page.total ?? summaries.length, limit: page.limit ?? 50, offset: page.offset ?? 0 };
}
