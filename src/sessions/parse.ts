import type { SessionFull, SessionMessage, SessionSummary } from "../schemas.js";

const FIRST_USER_MESSAGE_CODE_POINTS = 200;

/**
 * Reads a session file's text leniently: wrong-typed or missing fields get their empty value,
 * messages pass through untouched. Null when the text is not a JSON object (not a session).
 * `id` is the file name's stem, which wins over any `id` inside the file.
 */
export function parseSession(id: string, text: string): SessionFull | null {
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return null;
  }
  if (!isRecord(data)) return null;

  const created = typeof data.created === "string" ? data.created : "";
  const updated = typeof data.updated === "string" && data.updated !== "" ? data.updated : created;
  const messages: SessionMessage[] = Array.isArray(data.messages) ? data.messages : [];
  return {
    id,
    title: nonBlankString(data.title),
    model: nonBlankString(data.model),
    tags: Array.isArray(data.tags) ? data.tags.filter((tag): tag is string => typeof tag === "string") : [],
    created,
    updated,
    created_at: created,
    updated_at: updated,
    message_count: messages.length,
    first_user_message: firstUserMessage(messages),
    cwd: typeof data.cwd === "string" ? data.cwd : "",
    messages,
    tool_call_count: isCount(data.toolCallCount) ? data.toolCallCount : 0,
    compacted: typeof data.compacted === "boolean" ? data.compacted : false,
  };
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
  if (!isRecord(message)) return "";
  const { content } = message;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((part): part is { type: "text"; text: string } => isRecord(part) && part.type === "text" && typeof part.text === "string")
    .map((part) => part.text)
    .join(" ");
}

export function roleOf(message: unknown): unknown {
  return isRecord(message) ? message.role : undefined;
}

function firstUserMessage(messages: readonly unknown[]): string | null {
  const first = messages.find((message) => roleOf(message) === "user");
  if (first === undefined) return null;
  const text = messageText(first).replace(/\s+/g, " ").trim();
  if (text === "") return null;
  return Array.from(text).slice(0, FIRST_USER_MESSAGE_CODE_POINTS).join("");
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
