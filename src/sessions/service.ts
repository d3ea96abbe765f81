import { SessionCorrupt, SessionNotFound } from "../errors.js";
import type { ListQuery, MessagePage, MessagesQuery, SearchQuery, SessionFull, SessionList, SessionSummary } from "../schemas.js";
import type { CacheStore, SessionStore } from "../storage/store.js";
import { type CatalogEntry, type CatalogOptions, SessionCatalog } from "./catalog.js";
import { isReservedId, readSession, type Sleep, sessionFileName } from "./files.js";
import { removeIndexEntry } from "./index-file.js";
import { inProcessLoader, type SessionLoader } from "./loader.js";
import { Mutex } from "./mutex.js";
import { searchTerms } from "./search.js";

/** How many distinct filter combinations are remembered per listing. */
const FILTER_CACHE_SIZE = 64;

export interface SessionServiceOptions {
  now?: () => number;
  sleep?: Sleep;
  warn?: (message: string) => void;
  /** How files are read and digested for listing; in-process by default. */
  loader?: SessionLoader;
  /** Where summaries persist between runs. */
  cache?: CacheStore;
  /** Follow the store's change reports when it offers them (default true). */
  watch?: boolean;
  catalog?: Pick<CatalogOptions, "maxAgeMs" | "revalidateMs">;
}

/** Everything the routes can do with sessions, over any store. Ids arrive already validated. */
export class SessionService {
  readonly #store: SessionStore;
  readonly #catalog: SessionCatalog;
  readonly #loader: SessionLoader;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #warn: (message: string) => void;
  // Deletes change index.json by read-modify-write: one at a time, so none is lost.
  readonly #deletes = new Mutex();
  #filterCache: { entries: readonly CatalogEntry[]; matches: Map<string, readonly CatalogEntry[]> } = { entries: [], matches: new Map() };

  constructor(store: SessionStore, options: SessionServiceOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#warn = options.warn ?? (() => {});
    this.#loader = options.loader ?? inProcessLoader(store, this.#sleep);
    const watched = options.watch === false ? withoutWatch(store) : store;
    this.#catalog = new SessionCatalog(watched, {
      loader: this.#loader,
      now: this.#now,
      warn: this.#warn,
      cache: options.cache,
      ...options.catalog,
    });
  }

  async list(query: ListQuery): Promise<SessionList> {
    const entries = await this.#catalog.entries();
    const matches = this.#filtered(entries, query);
    return {
      sessions: matches.slice(query.offset, query.offset + query.limit).map((entry) => entry.summary),
      total: matches.length,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /**
   * The entries matching a query's filters, in list order. A dashboard polls the same filters
   * again and again, so each filter's matches are kept until the listing changes.
   */
  #filtered(entries: readonly CatalogEntry[], query: ListQuery): readonly CatalogEntry[] {
    const model = query.model?.toLowerCase();
    if (model === undefined && query.tag === undefined && query.since === undefined) return entries;
    if (this.#filterCache.entries !== entries) this.#filterCache = { entries, matches: new Map() };
    const key = JSON.stringify([model, query.tag, query.since]);
    let matches = this.#filterCache.matches.get(key);
    if (matches === undefined) {
      const models = model === undefined ? null : Uint8Array.from(this.#catalog.models, (name) => (name.includes(model) ? 1 : 0));
      matches = entries.filter(
        (entry) =>
          (models === null || models[entry.modelId] === 1) &&
          (query.tag === undefined || entry.summary.tags.includes(query.tag)) &&
          (query.since === undefined || (entry.time !== null && entry.time >= query.since)),
      );
      if (this.#filterCache.matches.size >= FILTER_CACHE_SIZE) this.#filterCache.matches.clear();
      this.#filterCache.matches.set(key, matches);
    }
    return matches;
  }

  /** Every session matching all terms, best rank first, then list order; the limit comes last. */
  async search(query: SearchQuery): Promise<SessionSummary[]> {
    const index = await this.#catalog.searchIndex();
    return index.search(searchTerms(query.q), query.limit).map((entry) => entry.summary);
  }

  async get(id: string): Promise<SessionFull> {
    if (isReservedId(id)) throw new SessionNotFound();
    const read = await readSession(this.#store, id, this.#sleep);
    if (read.status === "missing") throw new SessionNotFound();
    if (read.status === "corrupt") throw new SessionCorrupt();
    return read.session;
  }

  /** One page of a session's messages; only that page is serialized, however big the session. */
  async messages(id: string, query: MessagesQuery): Promise<MessagePage> {
    const { messages } = await this.get(id);
    return { messages: messages.slice(query.offset, query.offset + query.limit), total: messages.length, offset: query.offset };
  }

  /** Removes the session file, then its index.json entry. Of concurrent deletes of one id, one wins. */
  async delete(id: string): Promise<void> {
    if (isReservedId(id)) throw new SessionNotFound();
    const name = sessionFileName(id);
    await this.#deletes.run(async () => {
      const removed = await this.#store.remove(name);
      if (!removed) throw new SessionNotFound();
      this.#catalog.noteChanged(name);
      try {
        await removeIndexEntry(this.#store, id, new Date(this.#now()));
      } catch (error) {
        // The session is gone either way; a stale index entry is never listed.
        this.#warn(`deleted ${id} but could not update index.json: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  /** Starts the first scan now, so the first list does not wait for it. */
  warmUp(): Promise<void> {
    return this.#catalog.warmUp();
  }

  /** Stops watching, saves the summary cache, stops the loader's workers. */
  async close(): Promise<void> {
    await this.#catalog.close();
    await this.#loader.close?.();
  }
}

function withoutWatch(store: SessionStore): SessionStore {
  return {
    list: () => store.list(),
    stat: (name) => store.stat(name),
    read: (name) => store.read(name),
    remove: (name) => store.remove(name),
    replace: (name, text) => store.replace(name, text),
  };
}
