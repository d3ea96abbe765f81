import { forEachLimited, Mutex } from "../../shared/concurrency.js";
import type { CatalogEntry } from "../catalog-lookups.js";
import type { IndexResult, LoadedSession, SessionLoader } from "../loader.js";
import { sessionFileName } from "../session-files.js";
import { textLengthOf } from "./document.js";
import { type IndexedSession, indexedSessionOf, type SearchEngine } from "./engine.js";

/** Sessions written to the index per transaction: small, so a first build of thousands never holds the server long. */
const BATCH_SESSIONS = 16;
/** ...and at most about this much text (UTF-16 code units) per transaction. */
const BATCH_TEXT = 1_000_000;

/**
 * A catch-up of this many sessions or more (a first build, a restart after many changes) is written
 * by the loader's writer thread where it has one; fewer (the CLI's saves as they come) are written
 * here, from the documents the catalog has just read: quicker, and brief.
 */
const WRITE_APART_FROM = 64;
/** A catch-up of this many sessions or more is logged when done. */
const BUILD_WORTH_A_LINE = 100;
/** Documents offered ahead of a catch-up, kept at most: past this, the catch-up reads the file itself. */
const MAX_OFFERED = 2000;

/**
 * Keeps the search index in step with the listing: sessions whose stamp moved are read (by the
 * loader, in worker threads on Node) and indexed again, sessions no longer listed leave. Only what
 * changed is read: an unchanged file is never read again, across restarts too.
 */
export class SearchIndexer {
  readonly #engine: SearchEngine;
  readonly #loader: Pick<SessionLoader, "load" | "concurrency" | "indexInto">;
  readonly #runs = new Mutex();
  readonly #info: (message: string) => void;
  /** Each indexed session's stamp, by id (read from the index by the first catch-up): what catch-up compares the listing with. */
  #stamps: Map<string, string> | null = null;
  /** The listing last brought in step: the same listing needs nothing more. */
  #done: readonly CatalogEntry[] | null = null;
  #closed = false;
  /** Sessions the catalog has just read with their document, by id: indexed without reading them again. */
  readonly #offered = new Map<string, { stamp: string; session: LoadedSession }>();

  /** Writes one session into the index where the loader runs (worker threads, with their own connection), when it can. */
  readonly #writeApart: ((name: string, stamp: string) => Promise<IndexResult>) | null;

  /**
   * `databasePath`: where the index's SQLite file is, for a loader that writes into it itself
   * (indexInto); without one, documents are loaded here and written through the engine.
   */
  constructor(engine: SearchEngine, loader: Pick<SessionLoader, "load" | "concurrency" | "indexInto">, info: (message: string) => void, databasePath?: string) {
    this.#engine = engine;
    this.#loader = loader;
    this.#info = info;
    const { indexInto } = loader;
    this.#writeApart = indexInto && databasePath !== undefined ? (name, stamp) => indexInto.call(loader, databasePath, name, stamp) : null;
  }

  get engine(): SearchEngine {
    return this.#engine;
  }

  /** Waits for a catch-up under way, then lets the index's database go. */
  async close(): Promise<void> {
    await this.#runs.run(async () => {
      this.#closed = true;
      this.#engine.close();
    });
  }

  /** A session the catalog read with its search document: the next catch-up takes it from here (a few thousand at most are kept). */
  offer(id: string, stamp: string, session: LoadedSession): void {
    if (this.#offered.size < MAX_OFFERED || this.#offered.has(id)) this.#offered.set(id, { stamp, session });
  }

  /** Brings the index in step with this listing (one run at a time; a run for a listing already done does nothing). */
  catchUp(entries: readonly CatalogEntry[]): Promise<void> {
    return this.#runs.run(async () => {
      if (this.#done === entries || this.#closed) return;
      await this.#catchUp(entries);
      this.#done = entries;
    });
  }

  async #catchUp(entries: readonly CatalogEntry[]): Promise<void> {
    const startedAt = Date.now();
    this.#stamps ??= await this.#engine.stamps();
    const stamps = this.#stamps;
    const listed = new Set(entries.map((entry) => entry.summary.id));
    const gone = [...stamps.keys()].filter((id) => !listed.has(id));
    await this.#engine.remove(gone);
    for (const id of gone) stamps.delete(id);
    const stale = entries.filter((entry) => stamps.get(entry.summary.id) !== entry.stamp);
    const writeApart = this.#writeApart;
    if (writeApart && stale.length >= WRITE_APART_FROM) {
      // A build: each session read and written in a worker thread (which batches them): this thread only keeps the stamps.
      await forEachLimited(stale, this.#loader.concurrency, async (entry) => {
        const written = await writeApart(sessionFileName(entry.summary.id), entry.stamp);
        if (written.status === "indexed") stamps.set(entry.summary.id, entry.stamp);
      });
    } else await this.#writeHere(stale, stamps);
    // A build worth telling of (a first start, a restart after many changes); single changes are not.
    if (stale.length >= BUILD_WORTH_A_LINE) {
      this.#info(`search index: ${stale.length} sessions indexed in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; ${stamps.size} in the index`);
    }
  }

  /** Loads each session's document (or takes the one offered) and writes them through the engine, a few per transaction. */
  async #writeHere(stale: readonly CatalogEntry[], stamps: Map<string, string>): Promise<void> {
    let batch: IndexedSession[] = [];
    let text = 0;
    let writing = Promise.resolve();
    const flush = () => {
      const sessions = batch;
      batch = [];
      text = 0;
      writing = writing.then(async () => {
        await this.#engine.put(sessions);
        for (const session of sessions) stamps.set(session.document.id, session.stamp);
      });
      return writing;
    };
    const offered = new Map(this.#offered);
    this.#offered.clear();
    await forEachLimited(stale, this.#loader.concurrency, async (entry) => {
      const id = entry.summary.id;
      let session = offered.get(id)?.stamp === entry.stamp ? offered.get(id)?.session : undefined;
      if (session === undefined) {
        const loaded = await this.#loader.load(sessionFileName(id), { retry: false, search: true });
        // gone or damaged since it was listed: the listing's next look drops it, and the next catch-up follows
        if (loaded.status !== "ok") return;
        session = loaded.session;
      }
      const indexed = indexedSessionOf(session, entry.stamp);
      if (indexed === null) return;
      batch.push(indexed);
      text += textLengthOf(indexed.document);
      if (batch.length >= BATCH_SESSIONS || text >= BATCH_TEXT) await flush();
    });
    await flush();
  }
}
