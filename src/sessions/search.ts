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
 * Message text is only scanned for sessions the trigram signatures cannot rule out, and only
 * until the limit is reached: the text-ranked group comes last, so its order is list order.
 */
export function searchEntries<T extends Searchable>(ordered: readonly T[], terms: readonly string[], limit: number): T[] {
  const namesHits: T[] = [];
  const modelHits: T[] = [];
  const textCandidates: { entry: T; textTerms: string[] }[] = [];
  for (const entry of ordered) {
    let weakest = 0;
    const textTerms: string[] = [];
    for (const term of terms) {
      if (entry.names.names.includes(term)) continue;
      if (entry.names.model.includes(term)) weakest = Math.max(weakest, 1);
      else if (mayContain(entry.search.signature, term)) textTerms.push(term);
      else {
        weakest = -1;
        break;
      }
    }
    if (weakest === -1) continue;
    if (textTerms.length > 0) textCandidates.push({ entry, textTerms });
    else (weakest === 0 ? namesHits : modelHits).push(entry);
  }
  const found = [...namesHits, ...modelHits].slice(0, limit);
  for (const { entry, textTerms } of textCandidates) {
    if (found.length >= limit) break;
    if (textTerms.every((term) => entry.search.messages.includes(term))) found.push(entry);
  }
  return found;
}
