import type { SessionSummary } from "../http/schemas.js";
import type { Sleep } from "../shared/clock.js";
import type { SessionStore } from "../storage/store.js";
import { summarize } from "./parse.js";
import { type SearchDocument, searchDocumentOf } from "./search/document.js";
import { RETRY_DELAYS_MS, readSession, sessionIdOf } from "./session-files.js";
import { type ServeResult, type SessionView, serveSession } from "./session-view.js";
import { parseInstant } from "./time.js";

/** What the catalog keeps of one session file: small enough to hold thousands in memory. */
export interface LoadedSession {
  summary: SessionSummary;
  /** `updated` if it is an instant, else `created` if it is; null sorts last and never matches `since` or `until`. */
  time: number | null;
  /** The working directory, for the list's `cwd` filter. */
  cwd: string;
  /** Only when asked for (the search index's), as it costs more than the rest together. */
  search?: SearchDocument;
}

/** What indexInto did. */
export type IndexResult = { status: "indexed" } | { status: "missing" } | { status: "corrupt" };

/** `trailing`: read from the leading object of a file with bytes after it (see parseSessionFile). */
export type LoadResult = { status: "ok"; session: LoadedSession; trailing?: boolean } | { status: "missing" } | { status: "corrupt" };

/**
 * Reads and digests session files for the catalog. The default runs in-process; the Node edge
 * can hand the same work to worker threads so a 20 MB file never blocks the event loop.
 */
export interface SessionLoader {
  load(name: string, options: LoadOptions): Promise<LoadResult>;
  /** GET's answer, read and serialized where `load` runs. */
  serve(name: string, view: SessionView): Promise<ServeResult>;
  /** How many loads to keep in flight during a scan. */
  readonly concurrency: number;
  /**
   * Where the loader runs apart (worker threads on Node): reads a file and writes its search document
   * into the SQLite index at `database` there, so neither the document nor the write touches the
   * server's thread. Absent in-process: the index is written where it is searched.
   */
  indexInto?(database: string, name: string, stamp: string): Promise<IndexResult>;
  /** Stops whatever the loader started (worker threads). */
  close(): Promise<void>;
}

export interface LoadOptions {
  /** The file was written moments ago, so a parse failure may be a CLI write in progress: re-read it. */
  retry: boolean;
  /** Also index the message text for search. */
  search: boolean;
}

export function inProcessLoader(store: SessionStore, sleep: Sleep): SessionLoader {
  return {
    concurrency: 16,
    load: (name, options) => loadSession(store, name, sleep, options),
    serve: (name, view) => serveSession(store, name, sleep, view),
    close: async () => {},
  };
}

/** Read, parse and digest one file: the whole job of a loader, wherever it runs. */
export async function loadSession(store: Pick<SessionStore, "read">, name: string, sleep: Sleep, options: LoadOptions): Promise<LoadResult> {
  const id = sessionIdOf(name);
  if (id === null) return { status: "missing" };
  const read = await readSession(store, id, sleep, options.retry ? RETRY_DELAYS_MS : []);
  if (read.status !== "ok") return read;
  const { session } = read;
  return {
    status: "ok",
    session: {
      summary: summarize(session),
      time: parseInstant(session.updated) ?? parseInstant(session.created),
      cwd: session.cwd,
      search: options.search ? searchDocumentOf(session) : undefined,
    },
    trailing: read.trailing,
  };
}
