import type { SessionFull, SessionSummary } from "../../http/schemas.js";
import { messageText, roleOf } from "../parse.js";
import { hasSlot, slotsOf, type TrigramBuckets } from "./trigram-buckets.js";
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
  /** its slot in the trigram buckets the index is given */
  slot: number;
}

/**
 * Search over one snapshot of the list (built once per change, used by every query until the
 * next). Each term is looked up in trigram buckets, over the short fields and over message text,
 * so a query costs about what its candidates cost, not what the corpus holds; candidates are then
 * confirmed with real substring tests. Results: every session whose weakest term hits an id,
 * title or tag, then the model, then message text; each group in list order; cut to `limit`.
 */
export class SearchIndex<T extends Searchable> {
  readonly #entries: readonly T[];
  readonly #models: readonly string[];
  readonly #buckets: { names: TrigramBuckets; text: TrigramBuckets };
  /** list position of each slot, -1 for slots not in this listing */
  readonly #positions: Int32Array;
  readonly #slots: Int32Array;
  readonly #modelIds: Int32Array;

  constructor(entries: readonly T[], models: readonly string[], buckets: { names: TrigramBuckets; text: TrigramBuckets }, slotCount: number) {
    this.#entries = entries;
    this.#models = models;
    this.#buckets = buckets;
    this.#positions = new Int32Array(slotCount).fill(-1);
    this.#slots = new Int32Array(entries.length);
    this.#modelIds = new Int32Array(entries.length);
    entries.forEach((entry, i) => {
      this.#positions[entry.slot] = i;
      this.#slots[i] = entry.slot;
      this.#modelIds[i] = entry.modelId;
    });
  }

  search(terms: readonly string[], limit: number): T[] {
    const inModel = terms.map((term) => Uint8Array.from(this.#models, (model) => (model.includes(term) ? 1 : 0)));
    const hashes = terms.map(termHashes);
    // A term naming a model matches every session of that model: no index narrows that down.
    if (inModel.some((hits) => hits.includes(1))) return this.#scan(terms, hashes, inModel, limit);

    // Sessions where every term may hit the short fields (rank 0), and where every term may hit somewhere.
    const inNames = hashes.map((h) => this.#buckets.names.candidates(h));
    const anywhere = hashes.map((h, t) => or(inNames[t] as Uint32Array, this.#buckets.text.candidates(h)));
    const namesCandidates = and(inNames);
    const candidates = and(anywhere);
    const sparse = (bitmap: Uint32Array) => popcount(bitmap) <= Math.max(limit * 8, this.#entries.length / 32);
    if (!sparse(namesCandidates)) return this.#scan(terms, hashes, inModel, limit); // e.g. a one-letter term

    const byNames = this.#inOrder(slotsOf(namesCandidates)).filter((i) => terms.every((term) => this.#names(i).includes(term)));
    const found = byNames.map((i) => this.#entries[i] as T);
    if (found.length >= limit) return found.slice(0, limit);
    const isNamesHit = new Set(byNames);
    const confirm = (i: number) =>
      !isNamesHit.has(i) && terms.every((term, t) => this.#names(i).includes(term) || this.#textHas(i, term, hashes[t] as Uint32Array));
    if (sparse(candidates)) {
      for (const i of this.#inOrder(slotsOf(candidates))) {
        if (found.length >= limit) break;
        if (confirm(i)) found.push(this.#entries[i] as T);
      }
      return found;
    }
    // Many candidates (common terms): walk the list in order and stop at the limit.
    for (let i = 0; i < this.#entries.length && found.length < limit; i++) {
      if (hasSlot(candidates, this.#slots[i] ?? 0) && confirm(i)) found.push(this.#entries[i] as T);
    }
    return found;
  }

  /** The whole-list walk, for queries the buckets cannot narrow: ranks from the short fields first, text last. */
  #scan(terms: readonly string[], hashes: Uint32Array[], inModel: Uint8Array[], limit: number): T[] {
    const byNames: T[] = [];
    const byModel: T[] = [];
    const needText: number[] = [];
    for (let i = 0; i < this.#entries.length; i++) {
      let rank = 0;
      for (let t = 0; t < terms.length && rank !== -1; t++) {
        if (this.#names(i).includes(terms[t] as string)) continue;
        rank = inModel[t]?.[this.#modelIds[i] ?? 0] ? 1 : -1;
      }
      if (rank === 0) byNames.push(this.#entries[i] as T);
      else if (rank === 1) byModel.push(this.#entries[i] as T);
      else needText.push(i);
    }
    const found = [...byNames, ...byModel];
    for (const i of needText) {
      if (found.length >= limit) break;
      const hitsAll = terms.every(
        (term, t) => this.#names(i).includes(term) || inModel[t]?.[this.#modelIds[i] ?? 0] || this.#textHas(i, term, hashes[t] as Uint32Array),
      );
      if (hitsAll) found.push(this.#entries[i] as T);
    }
    return found.slice(0, limit);
  }

  #names(i: number): string {
    return (this.#entries[i] as T).names.names;
  }

  #textHas(i: number, term: string, hashes: Uint32Array): boolean {
    const { search } = this.#entries[i] as T;
    return mayContain(search.signature, hashes) && search.messages.includes(term);
  }

  /** List positions of these slots (those in this listing), ascending. */
  #inOrder(slots: number[]): number[] {
    const positions: number[] = [];
    for (const slot of slots) {
      const position = this.#positions[slot] ?? -1;
      if (position !== -1) positions.push(position);
    }
    return positions.sort((a, b) => a - b);
  }
}

function and(bitmaps: Uint32Array[]): Uint32Array {
  const result = Uint32Array.from(bitmaps[0] ?? []);
  for (const bitmap of bitmaps.slice(1)) for (let w = 0; w < result.length; w++) result[w] = (result[w] ?? 0) & (bitmap[w] ?? 0);
  return result;
}

function or(a: Uint32Array, b: Uint32Array): Uint32Array {
  const result = new Uint32Array(Math.max(a.length, b.length));
  for (let w = 0; w < result.length; w++) result[w] = (a[w] ?? 0) | (b[w] ?? 0);
  return result;
}

function popcount(bitmap: Uint32Array): number {
  let count = 0;
  for (let w = 0; w < bitmap.length; w++) {
    let bits = bitmap[w] ?? 0;
    bits -= (bits >>> 1) & 0x55555555;
    bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
    count += (((bits + (bits >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return count;
}
