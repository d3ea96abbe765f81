import type { ListQuery, RankedSearchQuery, SearchResults, SessionList, SyncManifest } from "../http/schemas.js";
import { type Sleep, waitAtMost } from "../shared/clock.js";
import { forEachLimited, type Limiter } from "../shared/concurrency.js";
import { sha256Hex } from "../shared/digest.js";
import type { OwnFile, SessionStore, StoreEntry } from "../storage/store.js";
import { type CatalogEntry, type CatalogOptions, SessionCatalog } from "./catalog.js";
import { ChangeFeed, type ChangeFeedOptions } from "./change-feed.js";
import type { SessionListing, WrittenSession } from "./listing.js";
import type { SessionLoader } from "./loader.js";
import { SearchEngine } from "./search/engine.js";
import { SearchIndexer } from "./search/indexer.js";
import type { SqlDatabase } from "./search/sql.js";
import { sessionIdOf } from "./session-files.js";
import { storedDigest } from "./stored-metadata.js";

/** A search during the index's first build waits this long, then answers from what is indexed. */
const DEFAULT_SEARCH_WAIT_MS = 2000;
/**
 * Changes are indexed in the background this long after the first report of them, together. A
 * search brings the index in step itself before it answers, so this only spares searches that
 * work; kept lazy, a CLI saving hundreds of times a second costs one catch-up a second.
 */
const INDEX_DELAY_MS = 1000;

/** How many distinct filter combinations are remembered per listing. */
const FILTER_CACHE_SIZE = 64;

export interface LocalListingOptions {
  store: SessionStore;
  loader: SessionLoader;
  now: () => number;
  sleep: Sleep;
  warn: (message: string) => void;
  info: (message: string) => void;
  maxSessionBytes: number;
  /** The service's limit on files read at once (GETs share it). */
  reads: Limiter;
  savedCatalog?: OwnFile;
  watch?: boolean;
  catalog?: Pick<CatalogOptions, "maxAgeMs" | "revalidateMs">;
  searchDatabase: () => Promise<SqlDatabase>;
  searchDatabasePath?: string;
  indexInBackground?: boolean;
  searchWaitMs?: number;
  changeFeed?: Omit<ChangeFeedOptions, "now" | "sleep" | "refresh" | "warn">;
}

/**
 * The listing of a store that is someone else's (the CLI's directory): a catalog in memory that follows
 * the files, filters remembered per listing, and a search index brought in step with the catalog.
 */
export class LocalListing implements SessionListing {
  readonly #options: LocalListingOptions;
  readonly #catalog: SessionCatalog;
  #indexer: Promise<SearchIndexer> | null = null;
  /** The indexer once open (documents offered before then are read by its first catch-up instead). */
  #openedIndexer: SearchIndexer | null = null;
  #indexSoon: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  /** Digests of files whose store keeps none (the filesystem), by stamp: for the sync manifest. */
  readonly #digests = new Map<string, { stamp: string; sha256: string }>();
  #filterCache: { entries: readonly CatalogEntry[]; matches: Map<string, readonly CatalogEntry[]> } = { entries: [], matches: new Map() };
  readonly feed: ChangeFeed | null;

  constructor(options: LocalListingOptions) {
    this.#options = options;
    this.feed = options.changeFeed
      ? new ChangeFeed({
          ...options.changeFeed,
          now: options.now,
          sleep: options.sleep,
          warn: options.warn,
          refresh: () => this.#catalog.entries().then(() => undefined),
        })
      : null;
    this.#catalog = new SessionCatalog(options.store, {
      listener: {
        noted: () => {
          this.feed?.noted();
          this.#indexChangesSoon();
        },
        changed: (id, before, after) => this.feed?.changed(id, before, after),
      },
      loader: options.loader,
      watch: options.watch,
      now: options.now,
      warn: options.warn,
      maxSessionBytes: options.maxSessionBytes,
      savedCatalog: options.savedCatalog,
      // Files re-read after the first scan come with their search document, so the index need not read them again.
      onDocument: (id, stamp, session) => this.#openedIndexer?.offer(id, stamp, session),
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
    const cwd = query.cwd?.toLowerCase();
    const { tag, since, until } = query;
    if (model === undefined && tag === undefined && since === undefined && until === undefined && cwd === undefined) return entries;
    if (this.#filterCache.entries !== entries) this.#filterCache = { entries, matches: new Map() };
    const key = JSON.stringify([model, tag, since, until, cwd]);
    let matches = this.#filterCache.matches.get(key);
    if (matches === undefined) {
      // Each distinct model and directory is tested once, not once per session.
      const models = model === undefined ? null : Uint8Array.from(this.#catalog.models, (name) => (name.includes(model) ? 1 : 0));
      const cwds = cwd === undefined ? null : Uint8Array.from(this.#catalog.cwds, (name) => (name.includes(cwd) ? 1 : 0));
      matches = entries.filter(
        (entry) =>
          (models === null || models[entry.modelId] === 1) &&
          (cwds === null || cwds[entry.cwdId] === 1) &&
          (tag === undefined || entry.summary.tags.includes(tag)) &&
          (since === undefined || (entry.time !== null && entry.time >= since)) &&
          (until === undefined || (entry.time !== null && entry.time < until)),
      );
      if (this.#filterCache.matches.size >= FILTER_CACHE_SIZE) this.#filterCache.matches.clear();
      this.#filterCache.matches.set(key, matches);
    }
    return matches;
  }

  async search(query: RankedSearchQuery, total: boolean): Promise<{ results: SearchResults["results"]; total: number | null }> {
    const entries = await this.#catalog.entries();
    const indexer = await this.#searchIndexer();
    // a real wait, not the injected sleep (tests make that one instant, and the index would never be waited for)
    await waitAtMost(indexer.catchUp(entries), this.#options.searchWaitMs ?? DEFAULT_SEARCH_WAIT_MS);
    const { q, sort, limit, offset, hits, ...filters } = query;
    const answer = await indexer.engine.search({ query: q, filters, sort, limit, offset, hits, total, now: this.#options.now() });
    const results: SearchResults["results"] = [];
    for (const result of answer.results) {
      const entry = this.#catalog.entryById(result.id);
      // indexed but no longer listed (gone a moment ago): left out, as the listing leaves it out
      if (entry) results.push({ session: entry.summary, score: result.score, hits: result.hits });
    }
    return { results, total: answer.total };
  }

  /** The search index, opened on first use; on Node its first catch-up starts at once, in the background. */
  #searchIndexer(): Promise<SearchIndexer> {
    this.#indexer ??= (async () => {
      const engine = await SearchEngine.open(await this.#options.searchDatabase());
      this.#openedIndexer = new SearchIndexer(engine, this.#options.loader, this.#options.info, this.#options.searchDatabasePath);
      return this.#openedIndexer;
    })();
    this.#indexer.catch(() => {
      this.#indexer = null; // a database that failed to open is tried again by the next search
    });
    return this.#indexer;
  }

  /** After changes were reported, bring the index in step shortly (Node: the index stays fresh without a search). */
  #indexChangesSoon(): void {
    if (this.#options.indexInBackground === false || this.#indexSoon !== null || this.#closed) return;
    this.#indexSoon = setTimeout(() => {
      this.#indexSoon = null;
      void this.#indexNow();
    }, INDEX_DELAY_MS);
  }

  async #indexNow(): Promise<void> {
    try {
      const entries = await this.#catalog.entries();
      if (!this.#closed) await (await this.#searchIndexer()).catchUp(entries);
    } catch (error) {
      this.#options.warn(
        `search index: could not bring it up to date (${error instanceof Error ? error.message : String(error)}); the next search tries again`,
      );
    }
  }

  async storedKinds(names: readonly string[]): Promise<Map<string, StoreEntry["kind"]>> {
    const kinds = new Map<string, StoreEntry["kind"]>();
    await forEachLimited(names, 8, async (name) => {
      const entry = await this.#options.store.stat(name);
      if (entry !== null) kinds.set(name, entry.kind);
    });
    return kinds;
  }

  async changing(): Promise<void> {}

  async written(sessions: readonly WrittenSession[]): Promise<void> {
    for (const { name } of sessions) this.#catalog.noteChanged(name);
  }

  async changed(name: string): Promise<void> {
    this.#catalog.noteChanged(name);
  }

  async manifest(): Promise<SyncManifest> {
    const sessions: Record<string, string> = {};
    const entries = (await this.#options.store.list()).filter((entry) => entry.kind === "file").sort((a, b) => (a.name < b.name ? -1 : 1));
    const seen = new Set<string>();
    for (const entry of entries) {
      const id = sessionIdOf(entry.name);
      if (id === null) continue;
      seen.add(entry.name);
      const digest = storedDigest(entry) ?? (await this.#digestOf(entry.name, entry.stamp));
      if (digest !== null) sessions[id] = digest;
    }
    for (const name of this.#digests.keys()) if (!seen.has(name)) this.#digests.delete(name);
    return { sessions };
  }

  /** A file's digest, read only when its stamp moved since the last time. Null if it went away. */
  async #digestOf(name: string, stamp: string): Promise<string | null> {
    const known = this.#digests.get(name);
    if (known?.stamp === stamp) return known.sha256;
    // The file's bytes where the store can give them: sync digests bytes, and text would differ for a file that is not UTF-8.
    const read = await this.#options.reads.run(() => this.#options.store.readBytes(name));
    if (read.status !== "ok") return null;
    const sha256 = await sha256Hex(read.bytes);
    this.#digests.set(name, { stamp, sha256 });
    return sha256;
  }

  async warmUp(): Promise<void> {
    await this.#catalog.warmUp();
    if (this.#options.indexInBackground !== false) void this.#indexNow();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#indexSoon !== null) clearTimeout(this.#indexSoon);
    this.feed?.close();
    await this.#catalog.close();
    await this.#openedIndexer?.close();
  }
}
