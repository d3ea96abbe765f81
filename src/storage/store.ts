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
  /** Removes an entry; false if there was none. Must be atomic: of concurrent calls, one wins. */
  remove(name: string): Promise<boolean>;
  /** Replaces a file's text atomically (readers see the old or the new text, never a mix). */
  replace(name: string, text: string): Promise<void>;
  /**
   * Optional: reports changes as they happen, so a listing need not re-check every file.
   * `name` is the entry that changed, or null for "anything may have changed".
   */
  watch?(onChange: (name: string | null) => void): StoreWatch;
}

export interface StoreWatch {
  /** False while changes cannot be seen (directory missing, watching failed): callers must re-check themselves. */
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
}

export type ReadResult = { status: "ok"; text: string } | { status: "missing" } | { status: "not-a-file" };

/** Persisted state the service keeps for itself (never in the sessions directory): one text blob. */
export interface CacheStore {
  read(): Promise<string | null>;
  write(text: string): Promise<void>;
}
