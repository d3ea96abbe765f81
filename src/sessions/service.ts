import {
  ApiError,
  InvalidSessionBody,
  internalError,
  NotASessionFile,
  ReservedSessionId,
  SessionCorrupt,
  SessionNotFound,
  SessionTooLarge,
} from "../http/errors.js";
import type { ListQuery, RankedSearchQuery, SearchQuery, SearchResults, SessionList, SessionSummary, Stored, SyncManifest } from "../http/schemas.js";
import { realSleep, type Sleep, waitAtMost } from "../shared/clock.js";
import { forEachLimited, Limiter } from "../shared/concurrency.js";
import { sha256Hex } from "../shared/digest.js";
import type { OwnFile, SessionStore, TrashStore } from "../storage/store.js";
import { type CatalogEntry, type CatalogOptions, SessionCatalog } from "./catalog.js";
import { ChangeFeed, type ChangeFeedOptions } from "./change-feed.js";
import { inProcessLoader, type SessionLoader } from "./loader.js";
import { parseSession } from "./parse.js";
import { SearchEngine } from "./search/engine.js";
import { SearchIndexer } from "./search/indexer.js";
import type { SqlDatabase } from "./search/sql.js";
import { isReservedId, sessionFileName, sessionIdOf } from "./session-files.js";
import type { SessionView } from "./session-view.js";
import { storedDigest, storedMetadata } from "./stored-metadata.js";
import { SessionTrash } from "./trash.js";

/** Defaults for the limits below: a 256 MiB session is far past any real one, and parsing it needs ~1 GiB. */
const DEFAULT_MAX_SESSION_BYTES = 256 * 1024 * 1024;
const DEFAULT_READ_CONCURRENCY = 8;
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

export interface SessionServiceOptions {
  now?: () => number;
  sleep?: Sleep;
  warn?: (message: string) => void;
  /** Progress worth a line in the log (the search index's first build). */
  info?: (message: string) => void;
  /** How files are read and digested for listing; in-process by default. */
  loader?: SessionLoader;
  /** Where summaries persist between runs. */
  savedCatalog?: OwnFile;
  /** Follow the store's change reports when it offers them (default true). */
  watch?: boolean;
  catalog?: Pick<CatalogOptions, "maxAgeMs" | "revalidateMs">;
  /** The search index's database (SQLite on Node, D1 on the Worker), opened when first needed. */
  searchDatabase: () => Promise<SqlDatabase>;
  /** The database's file, where the loader can write into it from its own threads (Node): the server's thread then writes nothing. */
  searchDatabasePath?: string;
  /**
   * Keep the search index in step as the listing changes, in the background (default true). A Worker
   * says no: work left running after its answer may be cut off, so each search brings the index in step first.
   */
  indexInBackground?: boolean;
  /** How long a search waits for the index to catch up (a first build) before answering from what is indexed. */
  searchWaitMs?: number;
  /** Where deleted sessions go; without one, a delete is for good. */
  trash?: TrashStore;
  /** Trash older than this is purged (default 30 days). */
  trashMaxAgeMs?: number;
  /** GET of a file larger than this answers 413 instead of reading it; listings leave it out unread. */
  maxSessionBytes?: number;
  /** At most this many GETs read session files at once; the rest queue (open files and memory stay bounded). */
  readConcurrency?: number;
  /** Keep a live feed of the listing's changes (GET /admin/sessions/events); without it that route answers 501. */
  changeFeed?: Omit<ChangeFeedOptions, "now" | "sleep" | "refresh" | "warn">;
}

/** Everything the routes can do with sessions, over any store. Ids arrive already validated. */
export class SessionService {
  readonly #store: SessionStore;
  readonly #searchDatabase: () => Promise<SqlDatabase>;
  readonly #searchDatabasePath: string | undefined;
  #indexer: Promise<SearchIndexer> | null = null;
  /** The indexer once open (documents offered before then are read by its first catch-up instead). */
  #openedIndexer: SearchIndexer | null = null;
  readonly #indexInBackground: boolean;
  readonly #searchWaitMs: number;
  #indexSoon: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #catalog: SessionCatalog;
  readonly #loader: SessionLoader;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #warn: (message: string) => void;
  readonly #info: (message: string) => void;
  readonly #maxSessionBytes: number;
  readonly #reads: Limiter;
  /** Digests of files whose store keeps none (the filesystem), by stamp: for the sync manifest. */
  readonly #digests = new Map<string, { stamp: string; sha256: string }>();
  /** Delete, restore and purge, and the trash's listing. */
  readonly trash: SessionTrash;
  /** The listing's changes as events, where this service keeps them (changeFeed option); else null. */
  readonly feed: ChangeFeed | null;
  #filterCache: { entries: readonly CatalogEntry[]; matches: Map<string, readonly CatalogEntry[]> } = { entries: [], matches: new Map() };

  constructor(store: SessionStore, options: SessionServiceOptions) {
    this.#store = store;
    this.#searchDatabase = options.searchDatabase;
    this.#searchDatabasePath = options.searchDatabasePath;
    this.#indexInBackground = options.indexInBackground ?? true;
    this.#searchWaitMs = options.searchWaitMs ?? DEFAULT_SEARCH_WAIT_MS;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
    this.#warn = options.warn ?? (() => {});
    this.#info = options.info ?? (() => {});
    this.#loader = options.loader ?? inProcessLoader(store, this.#sleep);
    this.#maxSessionBytes = options.maxSessionBytes ?? DEFAULT_MAX_SESSION_BYTES;
    this.feed = options.changeFeed
      ? new ChangeFeed({
          ...options.changeFeed,
          now: this.#now,
          sleep: this.#sleep,
          warn: this.#warn,
          refresh: () => this.#catalog.entries().then(() => undefined),
        })
      : null;
    this.#catalog = new SessionCatalog(store, {
      listener: {
        noted: () => {
          this.feed?.noted();
          this.#indexChangesSoon();
        },
        changed: (id, before, after) => this.feed?.changed(id, before, after),
      },
      loader: this.#loader,
      watch: options.watch,
      now: this.#now,
      warn: this.#warn,
      maxSessionBytes: this.#maxSessionBytes,
      savedCatalog: options.savedCatalog,
      // Files re-read after the first scan come with their search document, so the index need not read them again.
      onDocument: (id, stamp, session) => this.#openedIndexer?.offer(id, stamp, session),
      ...options.catalog,
    });
    this.#reads = new Limiter(options.readConcurrency ?? DEFAULT_READ_CONCURRENCY);
    this.trash = new SessionTrash(store, options.trash ?? null, {
      now: this.#now,
      warn: this.#warn,
      changed: (name) => this.#catalog.noteChanged(name),
      sleep: this.#sleep,
      maxAgeMs: options.trashMaxAgeMs,
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

  /** The compat search: the summaries of the best matches, ranked over all sessions, cut to the limit. */
  async search(query: SearchQuery): Promise<SessionSummary[]> {
    return (await this.#search({ ...query, offset: 0, hits: 0 }, false)).results.map((result) => result.session);
  }

  /** GET /admin/search: one page of ranked matches, each with its score and hits. */
  async rankedSearch(query: RankedSearchQuery): Promise<SearchResults> {
    const { results, total } = await this.#search(query, true);
    return { results, total: total ?? results.length, limit: query.limit, offset: query.offset };
  }

  async #search(query: RankedSearchQuery, total: boolean): Promise<{ results: SearchResults["results"]; total: number | null }> {
    const entries = await this.#catalog.entries();
    const indexer = await this.#searchIndexer();
    // a real wait, not the injected sleep (tests make that one instant, and the index would never be waited for)
    await waitAtMost(indexer.catchUp(entries), this.#searchWaitMs);
    const { q, sort, limit, offset, hits, ...filters } = query;
    const answer = await indexer.engine.search({ query: q, filters, sort, limit, offset, hits, total, now: this.#now() });
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
      const engine = await SearchEngine.open(await this.#searchDatabase());
      this.#openedIndexer = new SearchIndexer(engine, this.#loader, this.#info, this.#searchDatabasePath);
      return this.#openedIndexer;
    })();
    this.#indexer.catch(() => {
      this.#indexer = null; // a database that failed to open is tried again by the next search
    });
    return this.#indexer;
  }

  /** After changes were reported, bring the index in step shortly (Node: the index stays fresh without a search). */
  #indexChangesSoon(): void {
    if (!this.#indexInBackground || this.#indexSoon !== null || this.#closed) return;
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
      this.#warn(`search index: could not bring it up to date (${error instanceof Error ? error.message : String(error)}); the next search tries again`);
    }
  }

  /**
   * GET's answer for a session (or one page of its messages) as the JSON bytes to send, read and
   * serialized by the loader where it can (worker threads on Node), else here.
   */
  async answer(id: string, view: SessionView): Promise<Uint8Array<ArrayBuffer>> {
    if (isReservedId(id)) throw new SessionNotFound();
    const name = sessionFileName(id);
    const served = await this.#reads.run(async () => {
      const entry = await this.#store.stat(name);
      if (entry?.kind === "file" && entry.size > this.#maxSessionBytes) throw new SessionTooLarge(this.#maxSessionBytes);
      return this.#loader.serve(name, view);
    });
    if (served.status === "missing") throw new SessionNotFound();
    if (served.status === "corrupt") throw new SessionCorrupt();
    return served.json;
  }

  /** The largest session (bytes) this service reads or accepts. */
  get maxSessionBytes(): number {
    return this.#maxSessionBytes;
  }

  /**
   * Stores a session sent by a client, byte for byte (so its digest matches the sender's file). It
   * must be what the CLI would write: a JSON object (the rule that decides what is listed). The
   * caller has checked the size. `mtimeMs`: the file's modification time where sync read it, kept.
   */
  async put(id: string, bytes: Uint8Array, mtimeMs?: number): Promise<Stored> {
    if (isReservedId(id)) throw new ReservedSessionId();
    const session = parseSession(id, new TextDecoder().decode(bytes), mtimeMs);
    if (session === null) throw new InvalidSessionBody();
    const name = sessionFileName(id);
    const existing = await this.#store.stat(name);
    if (existing !== null && existing.kind !== "file") throw new NotASessionFile();
    const sha256 = await sha256Hex(bytes);
    const outcome = await this.#store.write(name, bytes, storedMetadata(session, sha256, mtimeMs));
    this.#catalog.noteChanged(name);
    return { id, sha256, created: outcome === "created" };
  }

  /**
   * Stores several sessions as `put` does, each on its own (a few at once): one's failure is its outcome
   * and leaves the others stored. An unexpected failure is logged here and answered as internal_error.
   */
  async putMany(items: readonly { id: string; bytes: Uint8Array; mtimeMs?: number }[]): Promise<Map<string, Stored | ApiError>> {
    const outcomes = new Map<string, Stored | ApiError>();
    await forEachLimited(items, 8, async ({ id, bytes, mtimeMs }) => {
      try {
        outcomes.set(id, await this.put(id, bytes, mtimeMs));
      } catch (error) {
        if (!(error instanceof ApiError)) this.#warn(`storing ${id} failed: ${error instanceof Error ? error.message : String(error)}`);
        outcomes.set(id, error instanceof ApiError ? error : internalError());
      }
    });
    return outcomes;
  }

  /** Every stored session file's id and SHA-256, for sync to compare against. */
  async manifest(): Promise<SyncManifest> {
    const sessions: Record<string, string> = {};
    const entries = (await this.#store.list()).filter((entry) => entry.kind === "file").sort((a, b) => (a.name < b.name ? -1 : 1));
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
    const read = await this.#reads.run(() => this.#store.readBytes(name));
    if (read.status !== "ok") return null;
    const sha256 = await sha256Hex(read.bytes);
    this.#digests.set(name, { stamp, sha256 });
    return sha256;
  }

  /** Moves the session into the trash and drops its index.json entry; answers the trash item's id. Of concurrent deletes of one id, one wins. */
  delete(id: string): Promise<string | null> {
    return this.trash.delete(id);
  }

  /** Starts the first scan now, so the first list does not wait for it. */
  warmUp(): Promise<void> {
    return this.#catalog.warmUp().then(() => {
      if (this.#indexInBackground) void this.#indexNow();
    });
  }

  /** Ends the feed's subscriptions, stops watching, saves the summary cache, stops the loader's workers. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#indexSoon !== null) clearTimeout(this.#indexSoon);
    this.feed?.close();
    await this.#catalog.close();
    await this.#openedIndexer?.close();
    await this.#loader.close();
  }
}
