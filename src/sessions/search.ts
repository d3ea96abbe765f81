import type { SessionFull, SessionSummary } from "../schemas.js";
import { messageText, roleOf } from "./parse.js";
import { hasSlot, type TrigramBuckets } from "./trigram-buckets.js";
import { mayContain, type Signature, signaturesOf, termHashes } from "./trigrams.js";

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

/** A session's search text as a loader makes it: with the coarse signature the catalog's buckets take. */
export type LoadedSearchText = SearchText & { buckets: Uint8Array };

export function searchTextOf(session: SessionFull): LoadedSearchText {
  const messages = session.messages
    .filter((message) => {
      const role = roleOf(message);
      return role === "user" || role === "assistant";
    })
    .map(messageText)
    .join("\n")
    .toLowerCase();
  return { messages, ...signaturesOf(messages) };
}

export function searchTerms(q: string): string[] {
  return q.toLowerCase().split(/\s+/).filter(Boolean);
}

export interface Searchable {
  names: SearchNames;
  /** index into the models list the index is given */
  modelId: number;
  search: SearchText;
  /** its slot in the TrigramBuckets the index is given */
  slot: number;
}

/**
 * Search over one snapshot of the list (built once per change, used by every query until the
 * next). The short fields of all sessions are packed into one string, so finding every id, title
 * or tag that holds a term is one `indexOf` sweep; models are few, so each is tested once per
 * query; message text is narrowed by the trigram buckets, then each session's own signature,
 * before any substring scan. Everything read per session in the hot loops sits in typed arrays in
 * list order.
 */
export class SearchIndex<T extends Searchable> {
  readonly #entries: readonly T[];
  readonly #models: readonly string[];
  readonly #buckets: TrigramBuckets;
  readonly #names: string;
  /** where each entry's names start in #names (one more than entries: the end) */
  readonly #starts: Int32Array;
  readonly #modelIds: Int32Array;
  readonly #slots: Int32Array;

  constructor(entries: readonly T[], models: readonly string[], buckets: TrigramBuckets) {
    this.#entries = entries;
    this.#models = models;
    this.#buckets = buckets;
    this.#starts = new Int32Array(entries.length + 1);
    this.#modelIds = new Int32Array(entries.length);
    this.#slots = new Int32Array(entries.length);
    const parts: string[] = [];
    let offset = 0;
    entries.forEach((entry, i) => {
      this.#starts[i] = offset;
      this.#modelIds[i] = entry.modelId;
      this.#slots[i] = entry.slot;
      parts.push(entry.names.names);
      offset += entry.names.names.length + 1;
    });
    this.#starts[entries.length] = offset;
    this.#names = parts.join("\0");
  }

  /**
   * The sessions matching every term, best first: all whose weakest term hits an id, title or tag,
   * then the model, then message text; each group in list order, cut to `limit`. Message text
   * ranks last, so it is only looked at in a second pass that stops at the limit.
   */
  search(terms: readonly string[], limit: number): T[] {
    const entries = this.#entries;
    const modelIds = this.#modelIds;
    const inNames = terms.map((term) => this.#namesHits(term));
    const inModel = terms.map((term) => Uint8Array.from(this.#models, (model) => (model.includes(term) ? 1 : 0)));
    // rank per entry from the short fields: 0 names, 1 model, -1 some term needs message text
    const ranks = new Int8Array(entries.length);
    const found: T[] = [];
    const modelHits: T[] = [];
    for (let i = 0; i < entries.length; i++) {
      let rank = 0;
      for (let t = 0; t < terms.length && rank !== -1; t++) {
        if (inNames[t]?.[i]) continue;
        rank = inModel[t]?.[modelIds[i] ?? 0] ? 1 : -1;
      }
      ranks[i] = rank;
      if (rank === 0) found.push(entries[i] as T);
      else if (rank === 1) modelHits.push(entries[i] as T);
    }
    found.push(...modelHits);
    if (found.length >= limit) return found.slice(0, limit);

    const hashes = terms.map(termHashes);
    const inText = hashes.map((termHash) => this.#buckets.candidates(termHash));
    for (let i = 0; i < entries.length && found.length < limit; i++) {
      if (ranks[i] !== -1) continue;
      const slot = this.#slots[i] ?? -1;
      let maybe = true;
      for (let t = 0; t < terms.length && maybe; t++) {
        maybe = Boolean(inNames[t]?.[i] || inModel[t]?.[modelIds[i] ?? 0] || hasSlot(inText[t] as Uint32Array, slot));
      }
      if (!maybe) continue;
      const entry = entries[i] as T;
      const hitsAll = terms.every(
        (term, t) =>
          inNames[t]?.[i] ||
          inModel[t]?.[modelIds[i] ?? 0] ||
          (mayContain(entry.search.signature, hashes[t] as Uint32Array) && entry.search.messages.includes(term)),
      );
      if (hitsAll) found.push(entry);
    }
    return found;
  }

  /** 1 for every entry whose names hold the term. */
  #namesHits(term: string): Uint8Array {
    const hits = new Uint8Array(this.#entries.length);
    for (let at = this.#names.indexOf(term); at !== -1; at = this.#names.indexOf(term, at + 1)) {
      const entry = this.#entryAt(at);
      if (at + term.length < (this.#starts[entry + 1] ?? 0)) hits[entry] = 1; // not across a separator
    }
    return hits;
  }

  /** The entry whose packed names hold offset `at` (binary search over the starts). */
  #entryAt(at: number): number {
    let low = 0;
    let high = this.#entries.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.#starts[middle] ?? 0) <= at) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}
