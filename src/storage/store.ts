/**
 * Where session files live. Deliberately small: the domain (src/sessions) does the rest,
 * so every implementation gets the same parsing, ordering, search and delete rules.
 * Names are plain file names inside one directory (`abc.json`, `index.json`), never paths.
 */
export interface SessionStore {
  /** Every entry of the directory, or none if the directory does not exist (yet). */
  list(): Promise<StoreEntry[]>;
  /** The whole text of a regular file. */
  read(name: string): Promise<ReadResult>;
  /** Removes an entry; false if there was none. Must be atomic: of concurrent calls, one wins. */
  remove(name: string): Promise<boolean>;
  /** Replaces a file's text atomically (readers see the old or the new text, never a mix). */
  replace(name: string, text: string): Promise<void>;
}

export interface StoreEntry {
  name: string;
  /** "other" covers symlinks, sockets, FIFOs: never read as sessions. */
  kind: "file" | "directory" | "other";
  size: number;
  /** Modification time; with `size`, the key that tells a changed file from an unchanged one. */
  mtimeMs: number;
}

export type ReadResult =
  | { status: "ok"; text: string }
  | { status: "missing" }
  | { status: "not-a-file" };
