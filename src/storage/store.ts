/**
 * Where session files live. Deliberately small: the domain (src/sessions) does the rest,
 * so every implementation gets the same parsing, ordering, search and delete rules.
 * Names are plain file names inside one directory (`abc.json`, `index.json`), never paths.
 */
export interface SessionStore {
  /** Every entry of the directory, or none if the directory does not exist (yet). */
  list(): Promise<StoreEntry[]>;
  /** One entry, or null if there is none. */
  stat(name: string): Promise<StoreEntry | null>;
  /** The whole text of a regular file. */
  read(name: string): Promise<ReadResult>;
  /** The same as read(), as the file's exact bytes (digests for sync are of those, whatever their encoding). */
  readBytes(name: string): Promise<BytesReadResult>;
  /** Removes an entry; false if there was none. Must be atomic: of concurrent calls, one wins. */
  remove(name: string): Promise<boolean>;
  /**
   * Stores a whole session written by a client (PUT, for sync), byte for byte and atomically, with
   * small facts about it (`metadata`) that a store able to keep them returns from list() and stat();
   * `metadata[MTIME_METADATA_KEY]`, when there, is the modification time to keep (the filesystem sets
   * the file's to it). Whether a deployment accepts writes is its configuration's call, not the store's.
   * Answers the entry as list() would now report it (null: gone again already).
   */
  write(name: string, bytes: Uint8Array, metadata: StoreMetadata): Promise<Written>;
  /**
   * Reports changes as they happen, so a listing need not re-check every file. `name` is the entry
   * that changed, or null for "anything may have changed". A store that cannot see changes (a
   * bucket) answers a watch that is never active.
   */
  watch(onChange: (name: string | null) => void): StoreWatch;
  /**
   * The CLI's index.json beside the sessions, which delete and restore keep in step; null where the
   * CLI never writes one (R2: sessions arrive by sync, which never sends it).
   */
  readonly cliIndex: CliIndexFile | null;
}

export interface Written {
  entry: StoreEntry | null;
}

/** The CLI's listing index, beside its sessions: a hint we update on delete and restore, never a session. */
const INDEX_FILE = "index.json";

/** The CLI's index.json, which the CLI rewrites without a lock, so we change it only by compare-and-swap. */
export interface CliIndexFile {
  read(): Promise<ReadResult>;
  /**
   * Replaces the index's text atomically (readers see the old or the new text, never a mix), only if
   * just before the swap it still holds exactly `expected` (the CLI may have rewritten it since we
   * read it); false when it did not.
   */
  replace(text: string, expected: string): Promise<boolean>;
}

/** The index file of a store that can swap any of its files in (the filesystem, memory). */
export function cliIndexIn(files: {
  read(name: string): Promise<ReadResult>;
  replace(name: string, text: string, expected: string): Promise<boolean>;
}): CliIndexFile {
  return { read: () => files.read(INDEX_FILE), replace: (text, expected) => files.replace(INDEX_FILE, text, expected) };
}

export interface StoreWatch {
  /** False while changes cannot be seen (directory missing, watching failed, a bucket): callers must re-check themselves. */
  readonly active: boolean;
  close(): void;
}

export interface StoreEntry {
  name: string;
  /** "other" covers symlinks, sockets, FIFOs: never read as sessions. */
  kind: "file" | "directory" | "other";
  size: number;
  mtimeMs: number;
  /**
   * Changes whenever the content may have: with the filesystem, size, mtime, ctime and inode
   * together (a same-size rewrite within one mtime tick still moves ctime; a rename-over moves the inode).
   */
  stamp: string;
  /** What our own writer stored beside the file (R2 custom metadata); absent on the filesystem. */
  metadata?: StoreMetadata;
}

/**
 * A file modified this close to a read may change again without its stamp changing (mtime ticks can be
 * as coarse as 1 s), and may be a CLI write in progress: what was read of it is not trusted for later.
 */
export const RECENT_WRITE_MS = 2000;

/** The metadata key of the modification time sync recorded for a session (ISO 8601): a store without files reports it as mtimeMs. */
export const MTIME_METADATA_KEY = "mtime";

/** Short string facts kept with a stored session, e.g. its summary, so listing need not read it. */
export type StoreMetadata = Readonly<Record<string, string>>;

/** `mtimeMs`: the file's modification time as read (what a session's unreadable times fall back to), where the store knows it. */
export type ReadResult = { status: "ok"; text: string; mtimeMs?: number } | { status: "missing" } | { status: "not-a-file" };

export type BytesReadResult = { status: "ok"; bytes: Uint8Array; mtimeMs?: number } | Exclude<ReadResult, { status: "ok" }>;

/**
 * The service's trash, beside a SessionStore: session files moved out of the sessions directory
 * and back. Names on both sides are plain file names; what they mean is the domain's business
 * (src/sessions/trash.ts).
 */
export interface TrashStore {
  /**
   * Moves the session entry `name` out of the sessions directory into the trash as `trashName`:
   * an atomic rename where both are on one filesystem, else copy, flush to disk, then remove.
   * False if there was no such entry. Of concurrent calls for one name, one wins.
   */
  moveIn(name: string, trashName: string): Promise<boolean>;
  /** Moves `trashName` back into the sessions directory as `name`, never over an existing entry. */
  moveBack(trashName: string, name: string): Promise<"restored" | "exists" | "missing">;
  /** Every entry of the trash (none if it does not exist yet). */
  list(): Promise<StoreEntry[]>;
  read(trashName: string): Promise<ReadResult>;
  /** Writes a small file of our own into the trash, atomically. */
  write(trashName: string, text: string): Promise<void>;
  /** False if there was no such entry. */
  remove(trashName: string): Promise<boolean>;
  /**
   * At start, finishes moves a crash interrupted (the filesystem's set-aside files): each goes back
   * under its name, or into the trash as `trashNameOf(name)` where that name is taken again. Answers
   * how many it found; a store whose moves leave nothing set aside finds none.
   */
  recover(trashNameOf: (name: string) => string): Promise<number>;
}

/** A file of the service's own (never in the sessions directory): one text, read whole and replaced whole. */
export interface OwnFile {
  read(): Promise<string | null>;
  write(text: string): Promise<void>;
}
