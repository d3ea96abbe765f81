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
import type {
  ListQuery,
  RankedSearchQuery,
  SearchQuery,
  SearchResults,
  SessionFull,
  SessionList,
  SessionSummary,
  Stored,
  SyncManifest,
} from "../http/schemas.js";
import { realSleep, type Sleep } from "../shared/clock.js";
import { forEachLimited, Limiter } from "../shared/concurrency.js";
import { sha256Hex } from "../shared/digest.js";
import type { OwnFile, SessionStore, StoreEntry, TrashStore } from "../storage/store.js";
import type { CatalogOptions } from "./catalog.js";
import type { ChangeFeed, ChangeFeedOptions } from "./change-feed.js";
import type { SessionListing, WrittenSession } from "./listing.js";
import { inProcessLoader, type SessionLoader } from "./loader.js";
import { LocalListing } from "./local-listing.js";
import { parseSession } from "./parse.js";
import type { SqlDatabase } from "./search/sql.js";
import { isReservedId, sessionFileName } from "./session-files.js";
import type { SessionView } from "./session-view.js";
import { type ReconcileReport, SharedListing } from "./shared-listing.js";
import { storedMetadata } from "./stored-metadata.js";
import { SessionTrash } from "./trash.js";

/** Defaults for the limits below: a 256 MiB session is far past any real one, and parsing it needs ~1 GiB. */
const DEFAULT_MAX_SESSION_BYTES = 256 * 1024 * 1024;
const DEFAULT_READ_CONCURRENCY = 8;
/** Sessions of one putMany written to the store at once. */
const WRITES_AT_ONCE = 8;

/** One session sent to be stored: its id, its exact bytes, and the modification time sync read, if any. */
export interface SessionUpload {
  id: string;
  bytes: Uint8Array;
  mtimeMs?: number;
}

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
  /**
   * The listing, filters, totals and sync manifest come from that database too, which every instance
   * shares and PUT and DELETE keep in step (the Worker, over R2): no catalog in memory, no store
   * listing per request. Without it (Node), a catalog in memory follows the store's files.
   */
  sharedIndex?: boolean;
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
  readonly #listing: SessionListing;
  readonly #loader: SessionLoader;
  readonly #now: () => number;
  readonly #maxSessionBytes: number;
  readonly #reads: Limiter;
  readonly #warn: (message: string) => void;
  /** Delete, restore and purge, and the trash's listing. */
  readonly trash: SessionTrash;
  /** The listing's changes as events, where this service keeps them (changeFeed option); else null. */
  readonly feed: ChangeFeed | null;

  constructor(store: SessionStore, options: SessionServiceOptions) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    const sleep = options.sleep ?? realSleep;
    const warn = options.warn ?? (() => {});
    this.#warn = warn;
    const info = options.info ?? (() => {});
    this.#loader = options.loader ?? inProcessLoader(store, sleep);
    this.#maxSessionBytes = options.maxSessionBytes ?? DEFAULT_MAX_SESSION_BYTES;
    this.#reads = new Limiter(options.readConcurrency ?? DEFAULT_READ_CONCURRENCY);
    const common = { store, loader: this.#loader, now: this.#now, warn, info, maxSessionBytes: this.#maxSessionBytes };
    this.#listing = options.sharedIndex
      ? new SharedListing({ ...common, database: options.searchDatabase })
      : new LocalListing({ ...options, ...common, sleep, reads: this.#reads });
    this.feed = this.#listing.feed;
    this.trash = new SessionTrash(store, options.trash ?? null, {
      now: this.#now,
      warn,
      changing: (name) => this.#listing.changing([name]),
      changed: (name) => this.#listing.changed(name),
      sleep,
      maxAgeMs: options.trashMaxAgeMs,
    });
  }

  list(query: ListQuery): Promise<SessionList> {
    return this.#listing.list(query);
  }

  /** The compat search: the summaries of the best matches, ranked over all sessions, cut to the limit. */
  async search(query: SearchQuery): Promise<SessionSummary[]> {
    return (await this.#listing.search({ ...query, offset: 0, hits: 0 }, false)).results.map((result) => result.session);
  }

  /** GET /admin/search: one page of ranked matches, each with its score and hits. */
  async rankedSearch(query: RankedSearchQuery): Promise<SearchResults> {
    const { results, total } = await this.#listing.search(query, true);
    return { results, total: total ?? results.length, limit: query.limit, offset: query.offset };
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
    const outcome = (await this.putMany([{ id, bytes, mtimeMs }])).get(id);
    if (outcome instanceof ApiError || outcome === undefined) throw outcome ?? new InvalidSessionBody();
    return outcome;
  }

  /**
   * Stores several sessions as put() stores each (sync's batches), the listing told of them all at once
   * (the Worker: one write into D1). Each answers for itself: one refused leaves the others stored.
   */
  async putMany(items: readonly SessionUpload[]): Promise<Map<string, Stored | ApiError>> {
    const outcomes = new Map<string, Stored | ApiError>();
    const accepted: (SessionUpload & { name: string; session: SessionFull; sha256: string; created: boolean })[] = [];
    const stored = await this.#listing.storedKinds(items.flatMap(({ id }) => (isReservedId(id) ? [] : [sessionFileName(id)])));
    for (const item of items) {
      try {
        accepted.push({ ...item, ...(await this.#accepted(item, stored)) });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        outcomes.set(item.id, error);
      }
    }
    await this.#listing.changing(accepted.map((item) => item.name));
    const written: WrittenSession[] = [];
    await forEachLimited(accepted, WRITES_AT_ONCE, async ({ id, name, bytes, mtimeMs, session, sha256, created }) => {
      try {
        const { entry } = await this.#store.write(name, bytes, storedMetadata(session, sha256, mtimeMs));
        written.push({ name, session, sha256, entry });
        outcomes.set(id, { id, sha256, created });
      } catch (error) {
        // this one failed (its outcome says so, the log says why); the others are stored and listed
        this.#warn(`storing ${id} failed: ${error instanceof Error ? error.message : String(error)}`);
        outcomes.set(id, internalError());
      }
    });
    await this.#listing.written(written);
    return outcomes;
  }

  /** What put() checks before it writes: the id, the body is a session, no directory in the way; and the digest. */
  async #accepted(
    { id, bytes, mtimeMs }: SessionUpload,
    stored: ReadonlyMap<string, StoreEntry["kind"]>,
  ): Promise<{ name: string; session: SessionFull; sha256: string; created: boolean }> {
    if (isReservedId(id)) throw new ReservedSessionId();
    const session = parseSession(id, new TextDecoder().decode(bytes), mtimeMs);
    if (session === null) throw new InvalidSessionBody();
    const name = sessionFileName(id);
    const existing = stored.get(name);
    if (existing !== undefined && existing !== "file") throw new NotASessionFile();
    return { name, session, sha256: await sha256Hex(bytes), created: existing === undefined };
  }

  /** Every stored session file's id and SHA-256, for sync to compare against. */
  manifest(): Promise<SyncManifest> {
    return this.#listing.manifest();
  }

  /** Moves the session into the trash and drops its index.json entry; answers the trash item's id. Of concurrent deletes of one id, one wins. */
  delete(id: string): Promise<string | null> {
    return this.trash.delete(id);
  }

  /**
   * The index checked against the store (the Worker's cron): what was written into the bucket by
   * other means is indexed, rows of objects gone removed. Null where the listing follows the store itself.
   */
  reconcile(): Promise<ReconcileReport | null> {
    return this.#listing instanceof SharedListing ? this.#listing.reconcile() : Promise.resolve(null);
  }

  /** Starts the first scan now, so the first list does not wait for it. */
  warmUp(): Promise<void> {
    return this.#listing.warmUp();
  }

  /** Ends the feed's subscriptions, stops watching, saves the summary cache, stops the loader's workers. */
  async close(): Promise<void> {
    await this.#listing.close();
    await this.#loader.close();
  }
}
