import type { SessionFull } from "../../http/schemas.js";
import { isRecord, messageText, roleOf } from "../parse.js";
import { foldText, wordsOf } from "./query.js";

/** Where a piece of searchable text sits: a hit's `field`. */
export type Field = "id" | "title" | "tags" | "model" | "message";

/**
 * One piece of a session's searchable text: a field, or one message's text, or (tools) the tool-call
 * names and arguments of an assistant message, or a tool message's output. Whitespace runs are one
 * space already, as snippets show them.
 */
export interface TextUnit {
  field: Field;
  /** The message's index in the file's `messages` (message units), else null. */
  messageIndex: number | null;
  /** user, assistant or tool (message units), else null. */
  role: string | null;
  /** Tool-call names and arguments, or tool output: searched only with in:tools. */
  tools: boolean;
  text: string;
}

/** What the search index keeps of a session: every unit it can hit, and what the filters read. */
export interface SearchDocument {
  id: string;
  units: TextUnit[];
}

const SPACES = /\s+/gu;

function squeezed(text: string): string {
  return text.replace(SPACES, " ").trim();
}

/**
 * The searchable units of a session (API-CONTRACT.md, "The query language"): id, title, tags and
 * model; user and assistant text; tool calls and tool outputs flagged as tools. System prompts and
 * cwd are not searched as text.
 */
export function searchDocumentOf(session: SessionFull): SearchDocument {
  const units: TextUnit[] = [];
  const field = (name: Field, text: string | null) => {
    const squeezedText = text === null ? "" : squeezed(text);
    if (squeezedText !== "") units.push({ field: name, messageIndex: null, role: null, tools: false, text: squeezedText });
  };
  field("id", session.id);
  field("title", session.title);
  field("tags", session.tags.join(" "));
  field("model", session.model);
  session.messages.forEach((message, index) => {
    const role = roleOf(message);
    if (role !== "user" && role !== "assistant" && role !== "tool") return;
    const push = (text: string, tools: boolean) => {
      const squeezedText = squeezed(text);
      if (squeezedText !== "") units.push({ field: "message", messageIndex: index, role, tools, text: squeezedText });
    };
    if (role === "tool") push(messageText(message), true);
    else push(messageText(message), false);
    if (role === "assistant" && isRecord(message) && Array.isArray(message.tool_calls)) push(toolCallsText(message.tool_calls), true);
  });
  return { id: session.id, units };
}

/** Each call's name and arguments (the arguments' JSON text as the CLI stored it), one after another. */
function toolCallsText(calls: unknown[]): string {
  const pieces: string[] = [];
  for (const call of calls) {
    if (!isRecord(call) || !isRecord(call.function)) continue;
    const { name, arguments: args } = call.function;
    if (typeof name === "string") pieces.push(name);
    if (typeof args === "string") pieces.push(args);
    else if (args !== undefined) pieces.push(JSON.stringify(args));
  }
  return pieces.join(" ");
}

/** What stands between words in the index's text: two spaces, so that even one letter after it is three characters to look up. */
export const GAP = "  ";

/**
 * The form the full-text index holds: folded (no case, no accents), its words apart by GAP and
 * GAP at both ends, so "  word  " is a whole word and "  w" the start of one; units put one after
 * another have two GAPs between them, so no phrase runs from one into the next.
 */
export function indexedWords(text: string): string {
  const words = wordsOf(foldText(text));
  return words.length === 0 ? "" : `${GAP}${words.join(GAP)}${GAP}`;
}

/** The index's columns: which units each holds. */
export const COLUMNS = ["meta", "user", "assistant", "tools"] as const;
export type Column = (typeof COLUMNS)[number];

export function columnOf(unit: TextUnit): Column {
  if (unit.tools) return "tools";
  if (unit.field !== "message") return "meta";
  return unit.role === "user" ? "user" : "assistant";
}

/** Words a typo may be one edit away from: letters only, 4 to 32 of them. */
export function typoWordsOf(indexed: string): string[] {
  const words = new Set<string>();
  for (const word of indexed.split(" ")) if (word.length >= 4 && word.length <= 32 && /^\p{L}+$/u.test(word)) words.add(word);
  return [...words];
}
