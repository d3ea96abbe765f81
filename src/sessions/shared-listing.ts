import type { ListQuery, RankedSearchQuery, SearchResults, SessionList, SessionSummary, SyncManifest } from "../http/schemas.js";
import { realSleep } from "../shared/clock.js";
import { forEachLimited } from "../shared/concurrency.js";
import { sha256Hex } from "../shared/digest.js";
import type { SessionStore, StoreEntry } from "../storage/store.js";
import type { SessionListing, WrittenSession } from "./listing.js";
import { loadSession } from "./loader.js";
import { summarize } from "./parse.js";
import { searchDocumentOf } from "./search/document.js";
import { filterSql, type IndexedSession, indexedSessionOf, LIST_ORDER, SearchEngine } from "./search/engine.js";
import { type SqlDatabase, statement } from "./search/sql.js";
import { sessionFileName, sessionIdOf } from "./session-files.js";
import { storedDigest } from "./stored-metadata.js";
import { browserInstant, parseInstant } from "./time.js";

/** A write marked as begun this long ago and not finished is taken for one cut short, and repaired. */
const PENDING_REPAIR_MS = 60_000;
/** Stalled writes repaired by one request at most (each is a head, maybe a read). */
const PENDING_REPAIRS_PER_REQUEST = 20;
/** Objects read by one reconcile at most: the rest wait for the next run (a scheduled run's time is bounded). */
const RECONCILE_READS = 500;
/** How many list answers an isolate remembers, until the index's generation moves. */
const MAX_LISTS = 64;

export interface SharedListingOptions {
  store: SessionStore;
  now: () => number;
  warn: (message: string) => void;
  info: (message: string) => void;
  maxSessionBytes: number;
  database: () => Promise<SqlDatabase>;
}

/** What one reconcile found and did. */
export interface ReconcileReport {
  /** Session objects in the store. */
  objects: number;
  /** Objects the index did not have, or had at another stamp (written by other means, or a write cut short): indexed now. */
  indexed: number;
  /** Index rows whose object is gone (deleted by other means): removed. */
  removed: number;
  /** Objects still to index, left for the next run. */
  left: number;
}

/**
 * The listing of a store that is ours (the Worker's bucket), read from the search index's database,
 * which every isolate shares: a list page reads its rows through the list-order index and its total
 * from a counter, a search reads the full-text index, the manifest reads (id, digest) rows. Nothing
 * lists the bucket or reads an object on the way. PUT, delete and restore update the index as they
 * write; a write cut short halfway (the object written, the index not) is marked pending first and
 * repaired by a later request, and reconcile() (the cron) finds what was written by other means.
 */
export class SharedListing implements SessionListing {
  readonly feed = null;
  readonly #options: SharedListingOptions;
  #engine: Promise<SearchEngine> | null = null;
  /** List answers by query, with the generation they were read at. */
  readonly #lists = new Map<string, { generation: number; answer: Promise<SessionList> }>();

  constructor(options: SharedListingOptions) {
    this.#options = options;
  }

  /** The index, opened once per isolate (a read of its schema version; it makes its tables when they are missing). */
  #open(): Promise<SearchEngine> {
    this.#engine ??= (async () => SearchEngine.open(await this.#options.database()))();
    this.#engine.catch(() => {
      this.#engine = null;
    });
    return this.#engine;
  }

  /** The index, its generation, and writes left pending too long repaired first. */
  async #current(): Promise<{ engine: SearchEngine; db: SqlDatabase; generation: number }> {
    const engine = await this.#open();
    const { db } = engine;
    const [state] = await db.all<{ generation: number; stalled: number }>(
      `SELECT (SELECT value FROM search_counters WHERE key = 'generation') AS generation,
              EXISTS (SELECT 1 FROM search_pending WHERE since < ?) AS stalled`,
      [this.#options.now() - PENDING_REPAIR_MS],
    );
    if (state?.stalled !== 1) return { engine, db, generation: state?.generation ?? 0 };
    const stalled = await db.all<{ id: string }>(`SELECT id FROM search_pending WHERE since < ? LIMIT ${PENDING_REPAIRS_PER_REQUEST}`, [
      this.#options.now() - PENDING_REPAIR_MS,
    ]);
    for (const { id } of stalled) await this.#refresh(sessionFileName(id));
    return { engine, db, generation: await engine.generation() };
  }

  async list(query: ListQuery): Promise<SessionList> {
    const { db, generation } = await this.#current();
    const key = JSON.stringify(query);
    const known = this.#lists.get(key);
    if (known?.generation === generation) return known.answer;
    const answer = (async () => {
      const { limit, offset, ...filters } = query;
      const where = filterSql(null, filters);
      // a page reads its rows through the list-order index; the total is a counter, or (filtered) a count of the filter's rows
      const [rows, [counted]] = await Promise.all([
        db.all<{ summary: string }>(`SELECT summary FROM search_sessions s WHERE ${where.sql} ORDER BY ${LIST_ORDER} LIMIT ? OFFSET ?`, [
          ...where.params,
          limit,
          offset,
        ]),
        where.params.length === 0
          ? db.all<{ total: number }>("SELECT value AS total FROM search_counters WHERE key = 'sessions'")
          : db.all<{ total: number }>(`SELECT count(*) AS total FROM search_sessions s WHERE ${where.sql}`, where.params),
      ]);
      return { sessions: rows.map((row) => JSON.parse(row.summary) as SessionSummary), total: counted?.total ?? 0, limit, offset };
    })();
    if (this.#lists.size >= MAX_LISTS) this.#lists.clear();
    this.#lists.set(key, { generation, answer });
    answer.catch(() => this.#lists.delete(key));
    return answer;
  }

  async search(query: RankedSearchQuery, total: boolean): Promise<{ results: SearchResults["results"]; total: number | null }> {
    const { engine, db, generation } = await this.#current();
    const { q, sort, limit, offset, hits, ...filters } = query;
    const answer = await engine.search({ query: q, filters, sort, limit, offset, hits, total, now: this.#options.now() }, generation);
    if (answer.results.length === 0) return { results: [], total: answer.total };
    const rows = await db.all<{ id: string; summary: string }>("SELECT id, summary FROM search_sessions WHERE id IN (SELECT value FROM json_each(?))", [
      JSON.stringify(answer.results.map((result) => result.id)),
    ]);
    const summaries = new Map(rows.map((row) => [row.id, row.summary]));
    const results: SearchResults["results"] = [];
    for (const result of answer.results) {
      const summary = summaries.get(result.id);
      // removed between the two reads: left out, as the listing now leaves it out
      if (summary !== undefined) results.push({ session: JSON.parse(summary) as SessionSummary, score: result.score, hits: result.hits });
    }
    return { results, total: answer.total };
  }

  /**
   * From the index, not the bucket (one query, no head per session): a bucket holds only objects, and
   * one put there by other means and not yet reconciled counts as new.
   */
  async storedKinds(names: readonly string[]): Promise<Map<string, StoreEntry["kind"]>> {
    const { db } = await this.#open();
    const ids = JSON.stringify(names.flatMap((name) => sessionIdOf(name) ?? []));
    const rows = await db.all<{ id: string }>(
      `SELECT id FROM search_sessions WHERE id IN (SELECT value FROM json_each(?))
       UNION ALL SELECT id FROM search_unlisted WHERE id IN (SELECT value FROM json_each(?))`,
      [ids, ids],
    );
    return new Map(rows.map((row) => [sessionFileName(row.id), "file"]));
  }

  async changing(names: readonly string[]): Promise<void> {
    const { db } = await this.#open();
    const ids = names.flatMap((name) => sessionIdOf(name) ?? []);
    await db.batch([
      statement(
        "INSERT INTO search_pending (id, since) SELECT value, ? FROM json_each(?) WHERE true ON CONFLICT (id) DO UPDATE SET since = excluded.since",
        this.#options.now(),
        JSON.stringify(ids),
      ),
    ]);
  }

  async written(sessions: readonly WrittenSession[]): Promise<void> {
    const engine = await this.#open();
    const indexed: IndexedSession[] = [];
    for (const { name, session, sha256, entry } of sessions) {
      if (entry === null) {
        await this.#refresh(name); // gone again at once: whatever is there now
        continue;
      }
      // Times a browser parses, falling back to the object's time (as a read of it would)
      const summary = {
        ...summarize(session),
        created_at: browserInstant(session.created, entry.mtimeMs),
        updated_at: browserInstant(session.updated, entry.mtimeMs),
      };
      const time = parseInstant(session.updated) ?? parseInstant(session.created);
      indexed.push({ document: searchDocumentOf(session), stamp: entry.stamp, time, summary, cwd: session.cwd, sha256 });
    }
    await engine.put(indexed);
  }

  changed(name: string): Promise<void> {
    return this.#refresh(name);
  }

  /**
   * Brings one session's rows in step with its object, whatever happened to it: gone (rows removed),
   * unchanged (nothing but the pending mark), else read and indexed, or recorded as unlisted.
   */
  async #refresh(name: string, known?: StoreEntry): Promise<void> {
    const engine = await this.#open();
    const { db } = engine;
    const id = sessionIdOf(name);
    if (id === null) return;
    const entry = known ?? (await this.#options.store.stat(name));
    if (entry === null) return engine.remove([id]);
    const indexed = await db.all<{ stamp: string }>("SELECT stamp FROM search_sessions WHERE id = ? UNION ALL SELECT stamp FROM search_unlisted WHERE id = ?", [
      id,
      id,
    ]);
    if (indexed[0]?.stamp === entry.stamp) return db.batch([statement("DELETE FROM search_pending WHERE id = ?", id)]);
    const read = await this.#read(name, entry);
    if (read.status === "missing") return engine.remove([id]);
    if (read.status === "ok") return engine.put([read.session]);
    // not a session (or too large to read here): in the manifest, never listed
    await engine.remove([id]);
    await db.batch([
      statement(
        "INSERT INTO search_unlisted (id, stamp, sha256) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp, sha256 = excluded.sha256",
        id,
        entry.stamp,
        read.sha256,
      ),
    ]);
  }

  /** An object read and parsed with its search document, its digest computed from its bytes; or why it is not listed. */
  async #read(
    name: string,
    entry: StoreEntry,
  ): Promise<{ status: "ok"; session: IndexedSession } | { status: "missing" } | { status: "unlisted"; sha256: string | null }> {
    if (entry.kind !== "file" || entry.size > this.#options.maxSessionBytes) return { status: "unlisted", sha256: storedDigest(entry) };
    const read = await this.#options.store.readBytes(name);
    if (read.status === "missing") return read;
    if (read.status !== "ok") return { status: "unlisted", sha256: null };
    const sha256 = await sha256Hex(read.bytes);
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(read.bytes);
    const loaded = await loadSession({ read: async () => ({ status: "ok", text, mtimeMs: read.mtimeMs }) }, name, realSleep, { retry: false, search: true });
    const session = loaded.status === "ok" ? indexedSessionOf(loaded.session, entry.stamp, sha256) : null;
    return session ? { status: "ok", session } : { status: "unlisted", sha256 };
  }

  /**
   * The cron's check of the index against the store: objects it lacks or holds at another stamp are
   * indexed (a bounded number per run), rows whose object is gone are removed. Lists the whole store
   * and reads every row's id and stamp: the one thing here that does.
   */
  async reconcile(): Promise<ReconcileReport> {
    const engine = await this.#open();
    const { db } = engine;
    const objects = (await this.#options.store.list()).filter((entry) => sessionIdOf(entry.name) !== null);
    const rows = await db.all<{ id: string; stamp: string }>("SELECT id, stamp FROM search_sessions UNION ALL SELECT id, stamp FROM search_unlisted");
    const stamps = new Map(rows.map((row) => [row.id, row.stamp]));
    const present = new Set<string>();
    const stale: StoreEntry[] = [];
    for (const entry of objects) {
      const id = sessionIdOf(entry.name) ?? "";
      present.add(id);
      if (stamps.get(id) !== entry.stamp) stale.push(entry);
    }
    const gone = [...stamps.keys()].filter((id) => !present.has(id));
    for (let at = 0; at < gone.length; at += 500) await engine.remove(gone.slice(at, at + 500));
    const now = stale.slice(0, RECONCILE_READS);
    await forEachLimited(now, 2, (entry) => this.#refresh(entry.name, entry));
    const report = { objects: objects.length, indexed: now.length, removed: gone.length, left: stale.length - now.length };
    if (report.indexed + report.removed > 0) {
      this.#options.warn(
        `reconcile: the bucket holds ${report.objects} sessions; ${report.indexed} were not in the index or changed behind it (indexed now), ` +
          `${report.removed} in the index had no object (removed)${report.left > 0 ? `; ${report.left} left for the next run` : ""}`,
      );
    } else this.#options.info(`reconcile: the index and the bucket agree (${report.objects} sessions)`);
    return report;
  }

  async manifest(): Promise<SyncManifest> {
    const { db } = await this.#open();
    const rows = await db.all<{ id: string; sha256: string }>(
      "SELECT id, sha256 FROM search_sessions WHERE sha256 IS NOT NULL UNION ALL SELECT id, sha256 FROM search_unlisted WHERE sha256 IS NOT NULL ORDER BY id",
    );
    return { sessions: Object.fromEntries(rows.map((row) => [row.id, row.sha256])) };
  }

  async warmUp(): Promise<void> {}

  async close(): Promise<void> {}
}
