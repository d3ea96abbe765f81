import { SessionCorrupt, SessionNotFound } from "../errors.js";
import type { ListQuery, SearchQuery, SessionFull, SessionList, SessionSummary } from "../schemas.js";
import type { SessionStore } from "../storage/store.js";
import { SessionCatalog, type CatalogOptions } from "./catalog.js";
import { isReservedId, readSession, sessionFileName, type Sleep } from "./files.js";
import { removeIndexEntry } from "./index-file.js";
import { Mutex } from "./mutex.js";
import { matchRank, searchTerms } from "./search.js";

export interface SessionServiceOptions {
  now?: () => number;
  sleep?: Sleep;
  warn?: (message: string) => void;
  catalog?: Pick<CatalogOptions, "maxAgeMs" | "readConcurrency">;
}

/** Everything the routes can do with sessions, over any store. Ids arrive already validated. */
export class SessionService {
  readonly #store: SessionStore;
  readonly #catalog: SessionCatalog;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #warn: (message: string) => void;
  // Deletes change index.json by read-modify-write: one at a time, so none is lost.
  readonly #deletes = new Mutex();

  constructor(store: SessionStore, options: SessionServiceOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#warn = options.warn ?? (() => {});
    this.#catalog = new SessionCatalog(store, {
      now: this.#now,
      sleep: this.#sleep,
      warn: this.#warn,
      ...options.catalog,
    });
  }

  async list(query: ListQuery): Promise<SessionList> {
    const model = query.model?.toLowerCase();
    const matches = (await this.#catalog.entries()).filter(
      (entry) =>
        (model === undefined || (entry.summary.model ?? "").toLowerCase().includes(model)) &&
        (query.tag === undefined || entry.summary.tags.includes(query.tag)) &&
        (query.since === undefined || (entry.time !== null && entry.time >= query.since)),
    );
    return {
      sessions: matches.slice(query.offset, query.offset + query.limit).map((entry) => entry.summary),
      total: matches.length,
      limit: query.limit,
      offset: query.offset,
    };
  }

  /** Every session matching all terms, best rank first, then list order; the limit comes last. */
  async search(query: SearchQuery): Promise<SessionSummary[]> {
    const terms = searchTerms(query.q);
    const ranked: { rank: number; position: number; summary: SessionSummary }[] = [];
    (await this.#catalog.entries()).forEach((entry, position) => {
      const rank = matchRank(entry.search, terms);
      if (rank !== null) ranked.push({ rank, position, summary: entry.summary });
    });
    ranked.sort((a, b) => a.rank - b.rank || a.position - b.position);
    return ranked.slice(0, query.limit).map((hit) => hit.summary);
  }

  async get(id: string): Promise<SessionFull> {
    if (isReservedId(id)) throw new SessionNotFound();
    const read = await readSession(this.#store, id, this.#sleep);
    if (read.status === "missing") throw new SessionNotFound();
    if (read.status === "corrupt") throw new SessionCorrupt();
    return read.session;
  }

  /** Removes the session file, then its index.json entry. Of concurrent deletes of one id, one wins. */
  async delete(id: string): Promise<void> {
    if (isReservedId(id)) throw new SessionNotFound();
    await this.#deletes.run(async () => {
      const removed = await this.#store.remove(sessionFileName(id));
      if (!removed) throw new SessionNotFound();
      this.#catalog.invalidate();
      try {
        await removeIndexEntry(this.#store, id, new Date(this.#now()));
      } catch (error) {
        // The session is gone either way; a stale index entry is never listed.
        this.#warn(`deleted ${id} but could not update index.json: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }
}
