import { randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, watch as fsWatch, lstatSync, openSync, readSync, type Stats } from "node:fs";
import { chmod, type FileHandle, lstat, open, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  type CliIndexFile,
  cliIndexIn,
  MTIME_METADATA_KEY,
  type ReadResult,
  type SessionStore,
  type StoreEntry,
  type StoreMetadata,
  type StoreWatch,
  type Written,
} from "../store.js";
import { hasCode, pathIn } from "./fs-paths.js";
import { watchDirectory } from "./fs-watch.js";

// O_NOFOLLOW: a symlink planted in the directory is never followed out of it.
// O_NONBLOCK: a FIFO named like a session cannot hang the read.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

interface FsStoreOptions {
  /** Where a change of the directory's state goes (gone, back, cannot be watched): one line per change, not per check. */
  warn?: (line: string) => void;
  /** fs.watch, replaceable so tests can make watching fail. */
  watchDirectory?: typeof fsWatch;
}

/** The sessions directory on disk (Node only). The directory may be missing; it is looked for on every call. */
export class FsStore implements SessionStore {
  readonly directory: string;
  #scratch = Buffer.alloc(0);
  readonly #warn: (line: string) => void;
  readonly #watchDirectory: typeof fsWatch;
  /** The CLI's index.json in the directory. */
  readonly cliIndex: CliIndexFile = cliIndexIn(this);

  constructor(directory: string, options: FsStoreOptions = {}) {
    this.directory = path.resolve(directory);
    this.#warn = options.warn ?? (() => {});
    this.#watchDirectory = options.watchDirectory ?? fsWatch;
  }

  async list(): Promise<StoreEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return []; // no directory (yet): nothing to list
      throw error;
    }
    // Synchronous lstat in small batches: several times faster than one promise per file (thousands
    // of files), and each batch blocks the event loop for well under a millisecond.
    const entries: StoreEntry[] = [];
    for (let start = 0; start < names.length; start += STAT_BATCH) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const name of names.slice(start, start + STAT_BATCH)) {
        const entry = entryOf(name, lstatOrNull(this.#pathOf(name)));
        if (entry) entries.push(entry); // null: removed since readdir
      }
    }
    return entries;
  }

  async stat(name: string): Promise<StoreEntry | null> {
    const stats = await lstat(this.#pathOf(name)).catch((error: unknown) => {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return null;
      throw error;
    });
    return entryOf(name, stats);
  }

  /**
   * Watches the directory (inotify, FSEvents), following it when it is deleted and made again;
   * see fs-watch.ts.
   */
  watch(onChange: (name: string | null) => void): StoreWatch {
    return watchDirectory(this.directory, onChange, { warn: this.#warn, watch: this.#watchDirectory });
  }

  /** Whether the directory is there: list() answers a missing one as empty. */
  async exists(): Promise<boolean> {
    return stat(this.directory).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
  }

  /** What a worker thread needs to read this store's files (see blockingReaderOf). */
  share(): FsStoreShare {
    return { directory: this.directory };
  }

  /**
   * The same as read(), blocking: for worker threads, where a blocking read is the fastest way
   * through thousands of files and blocks nobody.
   */
  readBlocking(name: string): ReadResult {
    for (let attempt = 1; ; attempt++) {
      let fd: number;
      try {
        fd = openSync(this.#pathOf(name), READ_FLAGS);
      } catch (error) {
        return unopenable(error);
      }
      try {
        const before = fstatSync(fd);
        if (!before.isFile()) return { status: "not-a-file" };
        const length = this.#readAll(fd, before.size);
        if (unchangedWhileRead(before, fstatSync(fd), length))
          return { status: "ok", text: this.#scratch.toString("utf8", 0, length), mtimeMs: before.mtimeMs };
        if (attempt === READ_ATTEMPTS) return STILL_BEING_WRITTEN;
      } finally {
        closeSync(fd);
      }
    }
  }

  /**
   * Reads a whole file (returning its length in bytes) into one scratch buffer kept for the next file, rather than a new buffer
   * per file: a scan of thousands of files (some of 20 MB) then leaves no trail of freed native
   * memory behind in the reading thread.
   */
  #readAll(fd: number, size: number): number {
    let length = 0;
    for (;;) {
      if (this.#scratch.length < Math.max(size, length) + 1) this.#scratch = Buffer.allocUnsafeSlow(Math.max(64 * 1024, (Math.max(size, length) + 1) * 2));
      const read = readSync(fd, this.#scratch, length, this.#scratch.length - length, null);
      if (read === 0) return length;
      length += read;
      size = Math.max(size, length); // the file grew while being read
    }
  }

  async read(name: string): Promise<ReadResult> {
    const file = await this.readBytes(name);
    return file.status === "ok" ? { status: "ok", text: file.bytes.toString("utf8"), mtimeMs: file.mtimeMs } : file;
  }

  /** The same as read(), as the file's exact bytes (sync sends and hashes those, whatever their encoding). */
  async readBytes(name: string): Promise<BufferReadResult> {
    for (let attempt = 1; ; attempt++) {
      let handle: FileHandle;
      try {
        handle = await open(this.#pathOf(name), READ_FLAGS);
      } catch (error) {
        return unopenable(error);
      }
      try {
        const before = await handle.stat();
        if (!before.isFile()) return { status: "not-a-file" };
        const bytes = await handle.readFile();
        if (unchangedWhileRead(before, await handle.stat(), bytes.length)) return { status: "ok", bytes, mtimeMs: before.mtimeMs };
        if (attempt === READ_ATTEMPTS) return { status: "ok", bytes: Buffer.alloc(0) }; // see STILL_BEING_WRITTEN
      } finally {
        await handle.close();
      }
    }
  }

  async remove(name: string): Promise<boolean> {
    const target = this.#pathOf(name);
    try {
      await unlink(target);
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
      // unlink refuses directories (EISDIR on Linux, EPERM on macOS); the contract removes those too.
      if (!hasCode(error, "EISDIR", "EPERM") || !(await isDirectory(target))) throw error;
    }
    try {
      await rm(target, { recursive: true });
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT")) return false;
      throw error;
    }
  }

  /**
   * Replaces a file atomically (readers see the old or the new text, never a mix). With `expected`:
   * only if, just before the swap, the file still holds exactly that text; false when it did not.
   */
  async replace(name: string, text: string | Uint8Array, expected?: string): Promise<boolean> {
    return this.#swapIn(name, text, expected);
  }

  /** replace(), and `mtime` (ms) given to the temporary file before the rename: the file appears whole, with its time. */
  async #swapIn(name: string, text: string | Uint8Array, expected?: string, mtime?: number): Promise<boolean> {
    const target = this.#pathOf(name);
    // A dot-file in the same directory: same filesystem, so the rename is atomic; never listed as a session.
    const temporary = this.#pathOf(`.${name}.${randomBytes(6).toString("hex")}.tmp`);
    const mode = await stat(target).then(
      (stats) => stats.mode & 0o777,
      () => 0o644,
    );
    try {
      await writeFile(temporary, text, { mode, flag: "wx", flush: true });
      await chmod(temporary, mode); // the umask may have narrowed the mode given to writeFile
      if (mtime !== undefined) await utimes(temporary, new Date(), new Date(mtime));
      // Last look before the swap, as late as it can be: the CLI writes this file without a lock.
      if (expected !== undefined && (await readFile(target, "utf8").catch(() => null)) !== expected) {
        await unlink(temporary);
        return false;
      }
      await rename(temporary, target);
      return true;
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }

  /**
   * A session from a client (sync, with --allow-writes): temp file + rename, so the CLI and we never
   * see half of it, with the modification time sync recorded, if any, already the file's.
   */
  async write(name: string, bytes: Uint8Array, metadata: StoreMetadata = {}): Promise<Written> {
    const mtime = metadata[MTIME_METADATA_KEY];
    await this.#swapIn(name, bytes, undefined, mtime === undefined ? undefined : Date.parse(mtime));
    return { entry: await this.stat(name) };
  }

  #pathOf(name: string): string {
    return pathIn(this.directory, name);
  }
}

/** An FsStore as another thread opens it again: plain data, so it travels in workerData. */
export interface FsStoreShare {
  readonly directory: string;
}

/**
 * In a worker thread, the files of the FsStore whose share() this is, read with blocking calls:
 * that thread has nothing else to do, and they are several times faster than async ones.
 */
export function blockingReaderOf(share: FsStoreShare): Pick<SessionStore, "read"> {
  const files = new FsStore(share.directory);
  return { read: async (name) => files.readBlocking(name) };
}

const STAT_BATCH = 256;

/** readBytes() here gives a Buffer (sync decodes it with toString). */
export type BufferReadResult = { status: "ok"; bytes: Buffer; mtimeMs?: number } | Exclude<ReadResult, { status: "ok" }>;

// A symlink, a directory, a FIFO, or a file we may not read (permissions): not a session to us. It is
// left out of lists with one warning and answers 422, and is read again once its mode changes (ctime moves).
const UNREADABLE = ["ELOOP", "EISDIR", "ENXIO", "EACCES", "EPERM"];

function unopenable(error: unknown): Exclude<ReadResult, { status: "ok" }> {
  if (hasCode(error, "ENOENT", "ENOTDIR")) return { status: "missing" };
  if (hasCode(error, ...UNREADABLE)) return { status: "not-a-file" };
  throw error;
}

// The CLI rewrites in place (truncate, then write), so a read that spans a rewrite can join the old
// file's start to the new one's end: valid JSON of a version never written. Such a read is done again.
const READ_ATTEMPTS = 4;
// A file that changed under every attempt reads as what it is between a truncate and a write: empty.
// That is never a session, so readers treat it as a write in progress (retry, then 422 or skip).
const STILL_BEING_WRITTEN: ReadResult = { status: "ok", text: "" };

function unchangedWhileRead(before: Stats, after: Stats, length: number): boolean {
  return before.size === after.size && after.size === length && before.mtimeMs === after.mtimeMs && before.ctimeMs === after.ctimeMs;
}

function lstatOrNull(target: string): Stats | null {
  try {
    return lstatSync(target);
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR")) return null;
    throw error;
  }
}

function entryOf(name: string, stats: Stats | null): StoreEntry | null {
  if (!stats) return null;
  return {
    name,
    kind: kindOf(stats),
    size: stats.size,
    mtimeMs: stats.mtimeMs,
    stamp: `${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.ino}`,
  };
}

function kindOf(stats: Stats): StoreEntry["kind"] {
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "directory";
  return "other";
}

async function isDirectory(target: string): Promise<boolean> {
  return lstat(target).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}
