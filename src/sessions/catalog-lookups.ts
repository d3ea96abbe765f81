import type { SessionSummary } from "../http/schemas.js";
import type { LoadedSession } from "./loader.js";
import { type LoadedSearchText, SearchIndex, type SearchNames, type SearchText, searchNamesOf } from "./search/search-index.js";
import { Slots, TrigramBuckets } from "./search/trigram-buckets.js";
import { signaturesOf } from "./search/trigrams.js";

/** One listable session, with what ordering, filtering and search need precomputed. */
export interface CatalogEntry {
  summary: SessionSummary;
  /** `updated` if it is an instant, else `created` if it is; null sorts last and never matches `since`. */
  time: number | null;
  names: SearchNames;
  /** Index of this entry's lower-cased model in `models`: filters test each model once, not each entry. */
  modelId: number;
  /** Index of this entry's lower-cased working directory in `cwds`, likewise. */
  cwdId: number;
  /** null until the message text is indexed (after a first scan or a restart from the persisted cache) */
  search: SearchText | null;
  /** Its slot in the trigram buckets (names now, message text once indexed); -1 once released. */
  slot: number;
}

export type IndexedEntry = CatalogEntry & { search: SearchText };

/** The trigram buckets of the short fields (id, title, tags) and of the message text, over one slot space. */
interface SearchBuckets {
  names: TrigramBuckets;
  text: TrigramBuckets;
}

/**
 * What the catalog derives from its entries for filters and search: the interned models, the
 * trigram buckets, and the search index of the current listing.
 */
export class CatalogLookups {
  readonly #models = new Interned();
  readonly #cwds = new Interned();
  readonly #slots = new Slots();
  readonly #buckets: SearchBuckets = { names: new TrigramBuckets(), text: new TrigramBuckets() };
  #search: { entries: readonly IndexedEntry[]; index: SearchIndex<IndexedEntry> } | null = null;

  /** Every lower-cased model seen (an entry's `modelId` points here); only grows. */
  get models(): readonly string[] {
    return this.#models.values;
  }

  /** Every lower-cased working directory seen (an entry's `cwdId` points here); only grows. */
  get cwds(): readonly string[] {
    return this.#cwds.values;
  }

  entryOf(session: Pick<LoadedSession, "summary" | "time" | "cwd" | "search">): CatalogEntry {
    const names = searchNamesOf(session.summary);
    const modelId = this.#models.idOf(names.model);
    const cwdId = this.#cwds.idOf(session.cwd.toLowerCase());
    const slot = this.#slots.take();
    this.#buckets.names.add(slot, signaturesOf(names.names).buckets);
    const entry: CatalogEntry = { summary: session.summary, time: session.time, names, modelId, cwdId, search: null, slot };
    if (session.search) this.index(entry, session.search);
    return entry;
  }

  /** Adds an entry's message text to search (the coarse signature goes into the buckets, not the entry). */
  index(entry: CatalogEntry, search: LoadedSearchText): void {
    entry.search = { messages: search.messages, signature: search.signature };
    this.#buckets.text.add(entry.slot, search.buckets);
  }

  /** An entry leaving the catalog (removed or replaced) leaves the buckets and frees its slot. */
  release(entry: CatalogEntry): void {
    if (entry.slot === -1) return;
    this.#buckets.names.remove(entry.slot);
    this.#buckets.text.remove(entry.slot);
    this.#slots.give(entry.slot);
    entry.slot = -1;
  }

  /** The search index of this listing, built once per listing. */
  searchIndexFor(entries: readonly IndexedEntry[]): SearchIndex<IndexedEntry> {
    if (this.#search?.entries !== entries) {
      this.#search = { entries, index: new SearchIndex(entries, this.#models.values, this.#buckets, this.#slots.size) };
    }
    return this.#search.index;
  }
}

/** Strings kept once each, by number: thousands of sessions share a few models and directories. */
class Interned {
  readonly values: string[] = [];
  readonly #ids = new Map<string, number>();

  idOf(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.values.push(value) - 1;
      this.#ids.set(value, id);
    }
    return id;
  }
}
