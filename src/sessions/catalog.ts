import type { SessionSummary } from "../schemas.js";
import type { SessionStore, StoreEntry } from "../storage/store.js";
import { readSession, RETRY_DELAYS_MS, sessionIdOf, type Sleep } from "./files.js";
import { summarize } from "./parse.js";
import { searchTextOf, type SearchText } from "./search.js";
import { Mutex } from "./mutex.js";
import { parseInstant } from "./time.js";

/** One listable session, with what ordering, filtering and search need precomputed. */
export interface CatalogEntry {
  summary: SessionSummary;
  /** `updated` if it is an instant, else `created` if it is; null sorts last and never matches `since`. */
  time: number | null;
  search: SearchText;
}

export interface CatalogOptions {
  now: () => number;
  sleep: Sleep;
  warn: (message: string) => void;
  /** A listing younger than this is served as is; older ones are re-checked against the store. */
  maxAgeMs?: number;
  /** How many files are read at once during a scan. */
  readConcurrency?: number;
}

/**
 * A file modified this close to our read may change again without its size or mtime changing
 * (mtime ticks can be as coarse as 1 s), and may be a CLI write in progress.
 */
const RECENT_WRITE_MS = 2000;

interface CachedFile {
  /** kind, size and mtime when read: a file whose key is unchanged is not read again... */
  key: string;
  /** ...unless it had been modified within RECENT_WRITE_MS of this time, when it was read */
  readAt: number;
  entry: CatalogEntry | null; // null: not a session (damaged), left out of every answer
}

/**
 * The listable sessions, in list order (time descending, ties by id), kept in step with the
 * store. The files are the truth: each refresh lists the directory and re-reads only the files
 * whose size or mtime changed, so an answer is never older than `maxAgeMs`.
 */
export class SessionCatalog {
  readonly #store: SessionStore;
  readonly #options: Required<CatalogOptions>;
  readonly #files = new Map<string, CachedFile>();
  readonly #refreshes = new Mutex();
  #ordered: readonly CatalogEntry[] = [];
  #lastRefresh: { startedAt: number; generation: number } | null = null;
  #generation = 0;

  constructor(store: SessionStore, options: CatalogOptions) {
    this.#store = store;
    this.#options = { maxAgeMs: 500, readConcurrency: 16, ...options };
  }

  /** The listable sessions in list order, no older than `maxAgeMs` nor than the last `invalidate()`. */
  async entries(): Promise<readonly CatalogEntry[]> {
    const arrivedAt = this.#options.now();
    const generation = this.#generation;
    await this.#refreshes.run(async () => {
      const last = this.#lastRefresh;
      const fresh = last && last.generation >= generation && last.startedAt > arrivedAt - this.#options.maxAgeMs;
      if (!fresh) await this.#refresh();
    });
    return this.#ordered;
  }

  /** Forces the next `entries()` to look at the store again (after we change it ourselves). */
  invalidate(): void {
    this.#generation++;
  }

  async #refresh(): Promise<void> {
    const startedAt = this.#options.now();
    const generation = this.#generation;
    const listed = (await this.#store.list()).filter((entry) => sessionIdOf(entry.name) !== null);
    let changed = false;

    const present = new Set(listed.map((entry) => entry.name));
    for (const name of this.#files.keys()) {
      if (!present.has(name)) {
        this.#files.delete(name);
        changed = true;
      }
    }

    const stale = listed.filter((entry) => {
      const cached = this.#files.get(entry.name);
      return !cached || cached.key !== keyOf(entry) || cached.readAt - entry.mtimeMs < RECENT_WRITE_MS;
    });
    await forEachLimited(stale, this.#options.readConcurrency, async (entry) => {
      const loaded = await this.#load(entry);
      if (loaded === "missing") this.#files.delete(entry.name);
      else this.#files.set(entry.name, { key: keyOf(entry), readAt: startedAt, entry: loaded });
      changed = true;
    });

    if (changed) this.#ordered = this.#order();
    this.#lastRefresh = { startedAt, generation };
  }

  async #load(file: StoreEntry): Promise<CatalogEntry | null | "missing"> {
    const id = sessionIdOf(file.name) ?? "";
    // Only a file written moments ago can be a CLI write in progress; older damage is not retried.
    const recentlyWritten = this.#options.now() - file.mtimeMs < RECENT_WRITE_MS;
    const read =
      file.kind === "file"
        ? await readSession(this.#store, id, this.#options.sleep, recentlyWritten ? RETRY_DELAYS_MS : [])
        : { status: "corrupt" as const };
    if (read.status === "missing") return "missing";
    if (read.status === "corrupt") {
      // Warn when a file turns bad, not on every scan that still finds it bad.
      if (this.#files.get(file.name)?.entry !== null) {
        this.#options.warn(`skipping ${file.name}: not a readable session (not a JSON object, or not a regular file)`);
      }
      return null;
    }
    const { session } = read;
    return {
      summary: summarize(session),
      time: parseInstant(session.updated) ?? parseInstant(session.created),
      search: searchTextOf(session),
    };
  }

  #order(): CatalogEntry[] {
    const entries: CatalogEntry[] = [];
    for (const file of this.#files.values()) if (file.entry) entries.push(file.entry);
    return entries.sort(compareListOrder);
  }
}

/** Time descending, sessions with no usable time last, ties by id ascending. */
export function compareListOrder(a: CatalogEntry, b: CatalogEntry): number {
  if (a.time !== b.time) {
    if (a.time === null) return 1;
    if (b.time === null) return -1;
    return b.time - a.time;
  }
  return a.summary.id < b.summary.id ? -1 : a.summary.id > b.summary.id ? 1 : 0;
}

function keyOf(entry: StoreEntry): string {
  return `${entry.kind}:${entry.size}:${entry.mtimeMs}`;
}

async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
