import type { SessionSummary } from "../http/schemas.js";
import { forEachLimited, Mutex } from "../shared/concurrency.js";
import { type OwnFile, RECENT_WRITE_MS, type SessionStore, type StoreEntry, type StoreWatch } from "../storage/store.js";
import { type CatalogEntry, CatalogLookups } from "./catalog-lookups.js";
import type { LoadedSession, LoadResult, SessionLoader } from "./loader.js";
import { SavedCatalog } from "./saved-catalog.js";
import { sessionFileName, sessionIdOf } from "./session-files.js";
import { storedSummary } from "./stored-metadata.js";

export type { CatalogEntry } from "./catalog-lookups.js";

/** Told of the listing's changes after the first scan (the live feed): what to look at, and what changed. */
export interface CatalogListener {
  /** A file may have changed (the watch, a rescan, our own write): the next `entries()` re-reads it. */
  noted(): void;
  /** A session's listing entry changed; null: not listed (gone, or not readable as a session). */
  changed(id: string, before: SessionSummary | null, after: SessionSummary | null): void;
}

export interface CatalogOptions {
  loader: SessionLoader;
  now: () => number;
  warn: (message: string) => void;
  /** A file larger than this (bytes) is left out unread, like a damaged one (GET answers 413 for it). */
  maxSessionBytes: number;
  /** Where to persist summaries between runs, for a fast restart. */
  savedCatalog?: OwnFile;
  /** Follow the store's change reports (default true); off, every answer older than `maxAgeMs` re-checks the store. */
  watch?: boolean;
  /** Without a working watch: a listing younger than this is served as is, older ones re-check the store. */
  maxAgeMs?: number;
  /** With a working watch: how often (at most, and only while asked) a background check looks for missed events. */
  revalidateMs?: number;
  listener?: CatalogListener;
  /**
   * Given, files re-read after the first scan are read with their search document, handed here
   * (the search index takes it instead of reading the file again). The first scan reads summaries only.
   */
  onDocument?: (id: string, stamp: string, session: LoadedSession) => void;
}

interface CachedFile {
  /** kind and stamp when read: a file whose key is unchanged is not read again... */
  key: string;
  /** ...unless it had been modified within RECENT_WRITE_MS of this time, when it was read */
  readAt: number;
  mtimeMs: number;
  entry: CatalogEntry | null; // null: not a session (damaged), left out of every answer
}

/**
 * The listable sessions, in list order (time descending, ties by id), kept in step with the
 * store. The files are the truth: a full scan lists the directory and re-reads only the files
 * whose stamp changed; between scans, the store's watch names the files to look at again.
 * Without a watch, every answer re-checks the store unless the last check is under `maxAgeMs` old.
 */
export class SessionCatalog {
  readonly #store: SessionStore;
  readonly #options: Required<Omit<CatalogOptions, "savedCatalog" | "watch" | "listener" | "onDocument">> &
    Pick<CatalogOptions, "savedCatalog" | "listener" | "onDocument">;
  readonly #files = new Map<string, CachedFile>();
  readonly #updates = new Mutex();
  readonly #watch: StoreWatch | null;
  #ordered: readonly CatalogEntry[] = [];
  readonly #lookups = new CatalogLookups();
  #orderIsStale = false;
  #restored = false;
  #lastScanAt: number | null = null;
  #rescanNeeded = true;
  readonly #changedNames = new Set<string>();
  #revalidating = false;
  readonly #summaries: SavedCatalog | null;

  constructor(store: SessionStore, options: CatalogOptions) {
    this.#store = store;
    this.#options = { maxAgeMs: 500, revalidateMs: 10_000, ...options };
    this.#watch = options.watch === false ? null : store.watch((name) => this.#noteChange(name));
    this.#summaries = options.savedCatalog
      ? new SavedCatalog(options.savedCatalog, options.warn, () =>
          [...this.#files].map(([name, file]) => ({
            name,
            key: file.key,
            readAt: file.readAt,
            mtimeMs: file.mtimeMs,
            summary: file.entry?.summary ?? null,
            time: file.entry?.time ?? null,
            cwd: file.entry?.cwd ?? "",
          })),
        )
      : null;
  }

  /** The listable sessions in list order, reflecting every change seen so far. */
  async entries(): Promise<readonly CatalogEntry[]> {
    const arrivedAt = this.#options.now();
    await this.#updates.run(async () => {
      if (!this.#restored) await this.#restore();
      const last = this.#lastScanAt;
      const watching = this.#watch?.active === true;
      const fresh = last !== null && !this.#rescanNeeded && (watching || last > arrivedAt - this.#options.maxAgeMs);
      if (!fresh) await this.#fullScan();
      else if (this.#changedNames.size > 0) await this.#refreshChanged();
      if (watching && arrivedAt - (this.#lastScanAt ?? 0) > this.#options.revalidateMs) void this.#revalidate();
    });
    if (this.#orderIsStale) this.#reorder();
    return this.#ordered;
  }

  /** A listed session's entry by id, as last read; null when it is not listed. */
  entryById(id: string): CatalogEntry | null {
    return this.#files.get(sessionFileName(id))?.entry ?? null;
  }

  /** Makes the next `entries()` look at this file again (after we change it ourselves). */
  noteChanged(name: string): void {
    this.#noteChange(name);
  }

  /** Starts the first scan now rather than on the first request. */
  warmUp(): Promise<void> {
    return this.entries().then(() => undefined);
  }

  async close(): Promise<void> {
    this.#watch?.close();
    await this.#summaries?.close();
  }

  #noteChange(name: string | null): void {
    if (name === null) this.#rescanNeeded = true;
    else if (sessionIdOf(name) !== null) this.#changedNames.add(name);
    else return;
    this.#options.listener?.noted();
  }

  async #fullScan(): Promise<void> {
    const startedAt = this.#options.now();
    this.#rescanNeeded = false;
    this.#changedNames.clear(); // the scan sees them all
    const listed = (await this.#store.list()).filter((entry) => sessionIdOf(entry.name) !== null);
    const present = new Set(listed.map((entry) => entry.name));
    for (const name of this.#files.keys()) if (!present.has(name)) this.#forget(name);
    const stale = listed.filter((entry) => this.#needsReading(entry, this.#files.get(entry.name)));
    await forEachLimited(stale, this.#options.loader.concurrency, (entry) => this.#reload(entry, startedAt));
    this.#lastScanAt = startedAt;
  }

  /** Re-reads just the files the watch named, whatever their stamp says: an event means something happened. */
  async #refreshChanged(): Promise<void> {
    const names = [...this.#changedNames];
    this.#changedNames.clear();
    const startedAt = this.#options.now();
    await forEachLimited(names, this.#options.loader.concurrency, async (name) => {
      const entry = await this.#store.stat(name);
      if (entry === null) this.#forget(name);
      else await this.#reload(entry, startedAt);
    });
  }

  /** A background look for changes a watch missed: it only notes them; the next answer re-reads them. */
  async #revalidate(): Promise<void> {
    if (this.#revalidating) return;
    this.#revalidating = true;
    try {
      const listed = (await this.#store.list()).filter((entry) => sessionIdOf(entry.name) !== null);
      const present = new Set(listed.map((entry) => entry.name));
      for (const entry of listed) if (this.#needsReading(entry, this.#files.get(entry.name))) this.#changedNames.add(entry.name);
      for (const name of this.#files.keys()) if (!present.has(name)) this.#changedNames.add(name);
      this.#lastScanAt = this.#options.now();
      if (this.#changedNames.size > 0) this.#options.listener?.noted();
    } catch {
      this.#rescanNeeded = true;
    } finally {
      this.#revalidating = false;
    }
  }

  #needsReading(entry: StoreEntry, cached: CachedFile | undefined): boolean {
    return !cached || cached.key !== keyOf(entry) || cached.readAt - entry.mtimeMs < RECENT_WRITE_MS;
  }

  async #reload(file: StoreEntry, startedAt: number): Promise<void> {
    const retry = this.#options.now() - file.mtimeMs < RECENT_WRITE_MS;
    const tooLarge = file.kind === "file" && file.size > this.#options.maxSessionBytes;
    // A summary stored with the file (R2) spares reading it.
    const stored = file.kind === "file" && !tooLarge ? storedSummary(file) : null;
    const loaded: LoadResult = stored
      ? { status: "ok", session: stored }
      : file.kind === "file" && !tooLarge
        ? await this.#options.loader.load(file.name, { retry, search: this.#lastScanAt !== null && this.#options.onDocument !== undefined })
        : { status: "corrupt" };
    if (loaded.status === "missing") return this.#forget(file.name);
    const before = this.#files.get(file.name);
    // Warn when a file turns bad, not on every scan that still finds it bad.
    if (loaded.status === "corrupt" && before?.entry !== null) {
      this.#options.warn(
        tooLarge
          ? `skipping ${file.name}: larger than the limit of ${this.#options.maxSessionBytes} bytes (--max-session-mb, or OPTA_MAX_SESSION_MB)`
          : `skipping ${file.name}: not a readable session (not a JSON object, nested too deep, or not a regular file)`,
      );
    }
    if (loaded.status === "ok" && loaded.trailing && before?.key !== keyOf(file)) {
      this.#options.warn(`${file.name} holds other bytes after its session (two overlapping CLI saves): served from the session before them`);
    }
    const entry = loaded.status === "ok" ? this.#lookups.entryOf(loaded.session, keyOf(file)) : null;
    const id = sessionIdOf(file.name);
    if (entry && loaded.status === "ok" && loaded.session.search && id !== null) this.#options.onDocument?.(id, entry.stamp, loaded.session);
    this.#setFile(file.name, { key: keyOf(file), readAt: startedAt, mtimeMs: file.mtimeMs, entry });
    this.#changed();
  }

  /** Every lower-cased model seen (an entry's `modelId` points here); only grows. */
  get models(): readonly string[] {
    return this.#lookups.models;
  }

  /** Every lower-cased working directory seen (an entry's `cwdId` points here); only grows. */
  get cwds(): readonly string[] {
    return this.#lookups.cwds;
  }

  /**
   * Every change of a file's entry goes through here, so a replaced entry always leaves the buckets,
   * and the listener hears of every change after the first scan (that scan is the starting point).
   */
  #setFile(name: string, file: CachedFile | null): void {
    const old = this.#files.get(name)?.entry;
    if (file) this.#files.set(name, file);
    else this.#files.delete(name);
    const before = old?.summary ?? null;
    const after = file?.entry?.summary ?? null;
    const id = sessionIdOf(name);
    if (this.#lastScanAt !== null && before !== after && id !== null) this.#options.listener?.changed(id, before, after);
  }

  #forget(name: string): void {
    if (!this.#files.has(name)) return;
    this.#setFile(name, null);
    this.#changed();
  }

  #changed(): void {
    this.#orderIsStale = true;
    this.#summaries?.changed();
  }

  #reorder(): void {
    const entries: CatalogEntry[] = [];
    for (const file of this.#files.values()) if (file.entry) entries.push(file.entry);
    this.#ordered = entries.sort(compareListOrder);
    this.#orderIsStale = false;
  }

  async #restore(): Promise<void> {
    this.#restored = true;
    for (const file of (await this.#summaries?.restore()) ?? []) {
      const entry = file.summary ? this.#lookups.entryOf({ summary: file.summary, time: file.time, cwd: file.cwd }, file.key) : null;
      this.#setFile(file.name, { key: file.key, readAt: file.readAt, mtimeMs: file.mtimeMs, entry });
      this.#orderIsStale = true;
    }
  }
}

/** Time descending, sessions with no usable time last, ties by id ascending. */
function compareListOrder(a: CatalogEntry, b: CatalogEntry): number {
  if (a.time !== b.time) {
    if (a.time === null) return 1;
    if (b.time === null) return -1;
    return b.time - a.time;
  }
  return a.summary.id < b.summary.id ? -1 : a.summary.id > b.summary.id ? 1 : 0;
}

function keyOf(entry: StoreEntry): string {
  return `${entry.kind}:${entry.stamp}`;
}
