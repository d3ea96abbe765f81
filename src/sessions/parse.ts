import type { SessionFull, SessionMessage, SessionSummary } from "../http/schemas.js";
import { browserInstant } from "./time.js";

const FIRST_USER_MESSAGE_CODE_POINTS = 200;

/**
 * Deeper than this (the file's object is level 0) is not a session: JSON.stringify recurses and
 * would fail serving it (~5,000 levels in Node), while real sessions nest about 6 deep.
 */
export const MAX_NESTING = 500;

/** A session file read leniently; `trailing`: bytes followed the leading object (two overlapping CLI saves) and were left out. */
interface ParsedSession {
  session: SessionFull;
  trailing: boolean;
}

/**
 * Reads a session file's text leniently: wrong-typed or missing fields get their empty value,
 * messages pass through untouched. Null when the text is not a JSON object (not a session), or
 * nests deeper than MAX_NESTING. `id` is the file name's stem, which wins over any `id` inside the
 * file. `mtimeMs` (the file's modification time) stands in for times that are not instants;
 * unknown (a caller without one), the time of reading does.
 */
export function parseSessionFile(id: string, text: string, mtimeMs: number = Date.now()): ParsedSession | null {
  const json = parseLeadingObject(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  if (json === null || !isRecord(json.value)) return null;
  const data = json.value;

  const created = typeof data.created === "string" ? data.created : "";
  const updated = typeof data.updated === "string" && data.updated !== "" ? data.updated : created;
  const messages: SessionMessage[] = Array.isArray(data.messages) ? data.messages : [];
  if (nestsDeeperThan(messages, MAX_NESTING - 1)) return null;
  const session: SessionFull = {
    id,
    title: nonBlankString(data.title),
    model: nonBlankString(data.model),
    tags: Array.isArray(data.tags) ? data.tags.filter((tag): tag is string => typeof tag === "string") : [],
    created,
    updated,
    created_at: browserInstant(created, mtimeMs),
    updated_at: browserInstant(updated, mtimeMs),
    message_count: messages.filter((message) => roleOf(message) !== "system").length,
    first_user_message: firstUserMessage(messages),
    cwd: typeof data.cwd === "string" ? data.cwd : "",
    messages,
    tool_call_count: isCount(data.toolCallCount) ? data.toolCallCount : 0,
    compacted: typeof data.compacted === "boolean" ? data.compacted : false,
  };
  return { session, trailing: json.trailing };
}

/** parseSessionFile's session alone, for callers with no use for the rest. */
export function parseSession(id: string, text: string, mtimeMs?: number): SessionFull | null {
  return parseSessionFile(id, text, mtimeMs)?.session ?? null;
}

/**
 * The JSON value of `text`, or, when `text` is one complete JSON object followed by other bytes
 * (what two overlapping CLI saves leave), that leading object. Null for anything else (truncated too).
 */
function parseLeadingObject(text: string): { value: unknown; trailing: boolean } | null {
  try {
    return { value: JSON.parse(text), trailing: false };
  } catch {
    const end = leadingObjectEnd(text);
    if (end === -1) return null;
    try {
      return { value: JSON.parse(text.slice(0, end)), trailing: true };
    } catch {
      return null;
    }
  }
}

const STRUCTURE = /["{}[\]]/g;
const STRING_END = /["\\]/g;

/** Where the object that `text` starts with ends (just past its `}`), or -1; JSON.parse checks the rest. Only damaged files get here. */
function leadingObjectEnd(text: string): number {
  const start = /^\s*\{/.exec(text);
  if (start === null) return -1;
  let depth = 0;
  let at = start[0].length - 1;
  for (;;) {
    STRUCTURE.lastIndex = at;
    const found = STRUCTURE.exec(text);
    if (found === null) return -1;
    at = found.index + 1;
    if (found[0] === '"') {
      for (;;) {
        STRING_END.lastIndex = at;
        const end = STRING_END.exec(text);
        if (end === null) return -1;
        at = end.index + (end[0] === '"' ? 1 : 2); // a backslash escapes the next character
        if (end[0] === '"') break;
      }
    } else if (found[0] === "{" || found[0] === "[") depth++;
    else if (--depth === 0) return at;
  }
}

/** Whether a value nests deeper than `limit` levels below itself; iterative, so any depth is safe to ask about. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const next = values.pop();
    const depth = depths.pop() as number;
    if (typeof next !== "object" || next === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(next) ? next : Object.values(next)) {
      if (typeof child === "object" && child !== null) {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** Exactly the SessionSummary keys of a session, in wire order. */
export function summarize(session: SessionFull): SessionSummary {
  return {
    id: session.id,
    title: session.title,
    model: session.model,
    tags: session.tags,
    created: session.created,
    updated: session.updated,
    created_at: session.created_at,
    updated_at: session.updated_at,
    message_count: session.message_count,
    first_user_message: session.first_user_message,
  };
}

/** The text a message shows a reader: string content, or its text parts joined by a space. */
export function messageText(message: unknown): string {
  return isRecord(message) ? textPiecesOf(message.content).join(" ") : "";
}

export function roleOf(message: unknown): unknown {
  return isRecord(message) ? message.role : undefined;
}

// A run of characters kept as they are (not whitespace, not a control character), at most what the summary can hold.
const KEPT_RUN = new RegExp(`[^\\s\\p{Cc}]{1,${FIRST_USER_MESSAGE_CODE_POINTS}}`, "gu");
const WHITESPACE = /\s/u;

/**
 * The first user message's text (string content, or text parts joined by a space), control
 * characters other than whitespace removed, whitespace runs made one space, trimmed, cut to 200
 * code points. Reads only as far as those need: a 50 MiB message costs what its start costs.
 */
function firstUserMessage(messages: readonly unknown[]): string | null {
  const first = messages.find((message) => roleOf(message) === "user");
  if (!isRecord(first)) return null;
  let summary = "";
  let length = 0;
  let space = false;
  for (const [index, text] of textPiecesOf(first.content).entries()) {
    if (index > 0) space = true; // the space that joins text parts
    for (let at = 0; ; ) {
      KEPT_RUN.lastIndex = at;
      const run = KEPT_RUN.exec(text);
      if (run === null) break;
      if (run.index > at && WHITESPACE.test(text.slice(at, run.index))) space = true;
      if (space && summary !== "") {
        summary += " ";
        if (++length === FIRST_USER_MESSAGE_CODE_POINTS) return summary;
      }
      space = false;
      for (const char of run[0]) {
        summary += char;
        if (++length === FIRST_USER_MESSAGE_CODE_POINTS) return summary;
      }
      at = run.index + run[0].length;
    }
  }
  return summary === "" ? null : summary;
}

/** The text pieces of a message's content that messageText joins: the string, or each text part's text. */
function textPiecesOf(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content
    .filter((part): part is { type: "text"; text: string } => isRecord(part) && part.type === "text" && typeof part.text === "string")
    .map((part) => part.text);
}

function nonBlankString(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
