import type { SessionFull } from "../schemas.js";
import { messageText, roleOf } from "./parse.js";

/** Lower-cased text of a session, by how strongly a hit there ranks. */
export interface SearchText {
  /** id, title and tags: the best place to hit */
  names: string;
  model: string;
  /** user and assistant message text; system prompts and tool output are not searched */
  messages: string;
}

// Fields are joined with "\n": a term never holds whitespace, so it never matches across fields.
export function searchTextOf(session: SessionFull): SearchText {
  return {
    names: [session.id, session.title ?? "", ...session.tags].join("\n").toLowerCase(),
    model: (session.model ?? "").toLowerCase(),
    messages: session.messages
      .filter((message) => {
        const role = roleOf(message);
        return role === "user" || role === "assistant";
      })
      .map(messageText)
      .join("\n")
      .toLowerCase(),
  };
}

export function searchTerms(q: string): string[] {
  return q.toLowerCase().split(/\s+/).filter(Boolean);
}

/**
 * How well a session matches every term: 0 when each term hits an id, title or tag, 1 when the
 * weakest hits the model, 2 when it hits only message text; null when some term misses entirely.
 */
export function matchRank(text: SearchText, terms: readonly string[]): number | null {
  let weakest = 0;
  for (const term of terms) {
    const rank = text.names.includes(term) ? 0 : text.model.includes(term) ? 1 : text.messages.includes(term) ? 2 : null;
    if (rank === null) return null;
    weakest = Math.max(weakest, rank);
  }
  return weakest;
}
