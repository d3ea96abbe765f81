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

/**
 * What the search index keeps of a session: every unit it can hit, and the index's own text of
 * them (made where the file is parsed: in a worker thread on Node, never on the server's thread).
 */
export interface SearchDocument {
  id: string;
  units: TextUnit[];
  /** Each column's text in indexedWords form. */
  columns: Record<Column, string>;
  /** The words a typo may mean (typoWordsOf). */
  vocabulary: string[];
}

/**
 * What is searched of a very large session: the first 256 KiB of each unit (a pasted log or a file a
 * tool read can be megabytes), and its units up to 8 MiB in all. A 50 MiB message is searched by its start.
 */
export const MAX_UNIT_LENGTH = 256 * 1024;
export const MAX_DOCUMENT_LENGTH = 8 * 1024 * 1024;

const SPACES = /\s+/gu;

/** Whitespace runs made one space, trimmed, cut to MAX_UNIT_LENGTH at a space where it can (never inside a pair). */
function squeezed(text: string): string {
  const start = text.length > 2 * MAX_UNIT_LENGTH ? text.slice(0, 2 * MAX_UNIT_LENGTH) : text;
  const squeezedText = start.replace(SPACES, " ").trim();
  if (squeezedText.length <= MAX_UNIT_LENGTH) return squeezedText;
  const space = squeezedText.lastIndexOf(" ", MAX_UNIT_LENGTH);
  let end = space > MAX_UNIT_LENGTH / 2 ? space : MAX_UNIT_LENGTH;
  const code = squeezedText.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return squeezedText.slice(0, end);
}

/**
 * The searchable units of a session (API-CONTRACT.md, "The query language"): id, title, tags and
 * model; user and assistant text; tool calls and tool outputs flagged as tools. System prompts and
 * cwd are not searched as text.
 */
export function searchDocumentOf(session: SessionFull): SearchDocument {
  const units: TextUnit[] = [];
  let length = 0;
  const add = (unit: TextUnit) => {
    if (unit.text === "" || length + unit.text.length > MAX_DOCUMENT_LENGTH) return;
    units.push(unit);
    length += unit.text.length;
  };
  const field = (name: Field, text: string | null) => {
    add({ field: name, messageIndex: null, role: null, tools: false, text: text === null ? "" : squeezed(text) });
  };
  field("id", session.id);
  field("title", session.title);
  field("tags", session.tags.join(" "));
  field("model", session.model);
  session.messages.forEach((message, index) => {
    const role = roleOf(message);
    if (role !== "user" && role !== "assistant" && role !== "tool") return;
    const push = (text: string, tools: boolean) => add({ field: "message", messageIndex: index, role, tools, text: squeezed(text) });
    if (role === "tool") push(messageText(message), true);
    else push(messageText(message), false);
    if (role === "assistant" && isRecord(message) && Array.isArray(message.tool_calls)) push(toolCallsText(message.tool_calls), true);
  });
  const columns: Record<Column, string> = { meta: "", user: "", assistant: "", tools: "" };
  for (const unit of units) columns[columnOf(unit)] += indexedWords(unit.text);
  return { id: session.id, units, columns, vocabulary: typoWordsOf(Object.values(columns).join(" ")) };
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

/** How much text a document holds (UTF-16 code units): what bounds a transaction's size. */
export function textLengthOf(document: SearchDocument): number {
  return document.units.reduce((sum, unit) => sum + unit.text.length, 0);
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

/** The longest word a typo may mean. */
export const MAX_TYPO_WORD_LENGTH = 32;

/** Words a typo may be one edit away from: letters only, 4 to MAX_TYPO_WORD_LENGTH of them (one pass over the indexed text, whose words are apart by spaces). */
export function typoWordsOf(indexed: string): string[] {
  return [...new Set(indexed.match(TYPO_WORD))];
}

const TYPO_WORD = new RegExp(`(?<![^ ])\\p{L}{4,${MAX_TYPO_WORD_LENGTH}}(?![^ ])`, "gu");
