import type { SessionFull, SessionSummary } from "../schemas.js";
import { messageText, roleOf } from "./parse.js";
import { mayContain, signatureOf, type Signature } from "./trigrams.js";

/** The searchable message text of a session: user and assistant text only (no system prompts, no tool output). */
export interface SearchText {
  /** lower-cased, one message per line */
  messages: string;
  signature: Signature;
}

/** The small, always-present fields a term can hit, lower-cased. */
export interface SearchNames {
  /** id, title and tags: the best place to hit */
  names: string;
  model: string;
}

// Fields are joined with "\n": a term never holds whitespace, so it never matches across fields.
export function searchNamesOf(summary: SessionSummary): SearchNames {
  return {
    names: [summary.id, summary.title ?? "", ...summary.tags].join("\n").toLowerCase(),
    model: (summary.model ?? "").toLowerCase(),
  };
}

export function searchTextOf(session: SessionFull): SearchText {
  const messages = session.messages
    .filter((message) => {
      const role = roleOf(message);
      return role === "user" || role === "assistant";
    })
    .map(messageText)
    .join("\n")
    .toLowerCase();
  return { messages, signature: signatureOf(messages) };
}

export function searchTerms(q: string): string[] {
  return q.toLowerCase().split(/\s+/).filter(Boolean);
}

export interface Searchable {
  names: SearchNames;
  search: SearchText;
}

/**
 * The sessions matching every term, best first: all whose weakest term hits an id, title or tag,
 * then the model, then message text; each group in the given (list) order, cut to `limit`.
 * The first pass looks only at the short fields. Message text comes last in rank, so the second
 * pass walks the list in order and stops at the limit; the trigram signature rules most sessions
 * out before their text is scanned.
 */
export function searchEntries<T extends Searchable>(ordered: readonly T[], terms: readonly string[], limit: number): T[] {
  const namesHits: T[] = [];
  const modelHits: T[] = [];
  for (const entry of ordered) {
    const rank = shortFieldsRank(entry.names, terms);
    if (rank === 0) namesHits.push(entry);
    else if (rank === 1) modelHits.push(entry);
  }
  const found = [...namesHits, ...modelHits].slice(0, limit);
  if (found.length >= limit) return found;
  for (const entry of ordered) {
    if (shortFieldsRank(entry.names, terms) !== null) continue; // found in the first pass
    const hitsAll = terms.every(
      (term) =>
        entry.names.names.includes(term) ||
        entry.names.model.includes(term) ||
        (mayContain(entry.search.signature, term) && entry.search.messages.includes(term)),
    );
    if (hitsAll && found.push(entry) >= limit) break;
  }
  return found;
}

/** 0 when every term hits an id, title or tag; 1 when the weakest hits the model; null when some term hits neither. */
function shortFieldsRank(names: SearchNames, terms: readonly string[]): number | null {
  let weakest = 0;
  for (const term of terms) {
    if (names.names.includes(term)) continue;
    if (!names.model.includes(term)) return null;
    weakest = 1;
  }
  return weakest;
}
