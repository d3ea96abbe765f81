import type { ListQuery, RankedSearchQuery, SearchResults, SessionFull, SessionList, SyncManifest } from "../http/schemas.js";
import type { StoreEntry } from "../storage/store.js";
import type { ChangeFeed } from "./change-feed.js";

/**
 * Where the listing, its filters and totals, search and the sync manifest come from. Two kinds:
 * LocalListing (Node, tests) keeps a catalog in memory that follows the files, and a search index
 * beside it; SharedListing (the Worker) reads them all from the index's database, which every
 * isolate shares, and keeps nothing per session in memory.
 */
export interface SessionListing {
  /** The listing's changes as events, where this listing keeps them; else null. */
  readonly feed: ChangeFeed | null;
  list(query: ListQuery): Promise<SessionList>;
  /** Ranked matches, one page; `total`: count every match (else null). */
  search(query: RankedSearchQuery, total: boolean): Promise<{ results: SearchResults["results"]; total: number | null }>;
  /** What is stored under these names (a file, a directory, ...), for PUT: a name not in the answer is new. */
  storedKinds(names: readonly string[]): Promise<Map<string, StoreEntry["kind"]>>;
  /** Session files about to change through us (PUT, delete, restore): a write cut short halfway is then found and repaired. */
  changing(names: readonly string[]): Promise<void>;
  /** Sessions just stored through PUT, with what was parsed of them: the listing takes them without reading them back. */
  written(sessions: readonly WrittenSession[]): Promise<void>;
  /** A session file moved through us (delete, restore): look at it again. */
  changed(name: string): Promise<void>;
  /** Every stored session file's id and SHA-256, for sync. */
  manifest(): Promise<SyncManifest>;
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/** A session PUT has just stored. */
export interface WrittenSession {
  name: string;
  session: SessionFull;
  sha256: string;
  /** The stored entry (its stamp and modification time), null if it was gone again at once. */
  entry: StoreEntry | null;
}
