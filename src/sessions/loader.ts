import type { SessionSummary } from "../schemas.js";
import type { SessionStore } from "../storage/store.js";
import { readSession, RETRY_DELAYS_MS, sessionIdOf, type Sleep } from "./files.js";
import { summarize } from "./parse.js";
import { searchTextOf, type SearchText } from "./search.js";
import { parseInstant } from "./time.js";

/** What the catalog keeps of one session file: small enough to hold thousands in memory. */
export interface LoadedSession {
  summary: SessionSummary;
  /** `updated` if it is an instant, else `created` if it is; null sorts last and never matches `since`. */
  time: number | null;
  search: SearchText;
}

export type LoadResult = { status: "ok"; session: LoadedSession } | { status: "missing" } | { status: "corrupt" };

/**
 * Reads and digests session files for the catalog. The default runs in-process; the Node edge
 * can hand the same work to worker threads so a 20 MB file never blocks the event loop.
 */
export interface SessionLoader {
  /** `retry`: the file was written moments ago, so a parse failure may be a CLI write in progress. */
  load(name: string, retry: boolean): Promise<LoadResult>;
  close?(): Promise<void>;
}

export function inProcessLoader(store: SessionStore, sleep: Sleep): SessionLoader {
  return { load: (name, retry) => loadSession(store, name, sleep, retry) };
}

/** Read, parse and digest one file: the whole job of a loader, wherever it runs. */
export async function loadSession(store: SessionStore, name: string, sleep: Sleep, retry: boolean): Promise<LoadResult> {
  const id = sessionIdOf(name);
  if (id === null) return { status: "missing" };
  const read = await readSession(store, id, sleep, retry ? RETRY_DELAYS_MS : []);
  if (read.status !== "ok") return read;
  const { session } = read;
  return {
    status: "ok",
    session: {
      summary: summarize(session),
      time: parseInstant(session.updated) ?? parseInstant(session.created),
      search: searchTextOf(session),
    },
  };
}
