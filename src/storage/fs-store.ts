import { randomBytes } from "node:crypto";
import { closeSync, constants, type FSWatcher, fstatSync, watch as fsWatch, lstatSync, openSync, readSync, type Stats } from "node:fs";
import { chmod, type FileHandle, lstat, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ReadResult, SessionStore, StoreEntry, StoreWatch } from "./store.js";

// A plain file name: no separators, no NUL, not "." or "..". Anything else never reaches the disk.
const PLAIN_NAME = /^(?!\.\.?$)[^/\\\0]+$/;

// O_NOFOLLOW: a symlink planted in the directory is never followed out of it.
// O_NONBLOCK: a FIFO named like a session cannot hang the read.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface FsStoreOptions {
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
   * Watches the directory (inotify, FSEvents). A missing directory, or one deleted and made
   * again, is noticed by a once-a-second check of its identity (and at once when the watch
   * reports the directory's own name) and watched once it is there.
   */
  watch(onChange: (name: string | null) => void): StoreWatch {
    let watcher: FSWatcher | null = null;
    let watchedIdentity: string | null = null;
    // What the last line said, so a state is reported once, not on every once-a-second check.
    // ("starting": a directory missing at start, or watched at once, is no news.)
    let reported: "starting" | "watching" | "gone" | "unwatchable" = "starting";
    const report = (state: typeof reported, line: string) => {
      if (state !== reported && !(reported === "starting" && state !== "unwatchable")) this.#warn(line);
      reported = state;
    };
    const stop = () => {
      watcher?.close();
      watcher = null;
      watchedIdentity = null;
    };
    const follow = async () => {
      const stats = await stat(this.directory).catch(() => null);
      // Inode numbers are reused at once; a directory made again has a new birth time.
      const identity = stats?.isDirectory() ? `${stats.dev}:${stats.ino}:${stats.birthtimeMs}` : null;
      if (identity === watchedIdentity && (identity !== null || reported === "gone")) return;
      stop();
      if (identity === null) {
        report("gone", `the sessions directory ${this.directory} is gone: listing nothing until it is there again`);
      } else {
        try {
          const ownName = path.basename(this.directory);
          watcher = this.#watchDirectory(this.directory, { persistent: false }, (_event, name) => {
            if (name === ownName) void follow(); // the directory itself went away (or was replaced)
            onChange(name ?? null);
          });
          watcher.on("error", (error) => {
            stop();
            report("unwatchable", `watching ${this.directory} failed (${codeOf(error)}): checking it on every request instead`);
            onChange(null);
          });
          watchedIdentity = identity;
          report("watching", `watching the sessions directory ${this.directory} again`);
        } catch (error) {
          watcher = null; // e.g. out of inotify watches: callers fall back to re-checking
          report("unwatchable", `cannot watch ${this.directory} (${codeOf(error)}): checking it on every request instead`);
        }
      }
      onChange(null); // whatever happened while we were not watching
    };
    void follow();
    const timer = setInterval(() => void follow(), 1000);
    timer.unref();
    return {
      get active() {
        return watcher !== null;
      },
      close() {
        clearInterval(timer);
        stop();
      },
    };
  }

  /**
   * The same as read(), blocking: for worker threads, where a blocking read is the fastest way
   * through thousands of files and blocks nobody.
   */
  readBlocking(name: string): ReadResult {
    let fd: number;
    try {
      fd = openSync(this.#pathOf(name), READ_FLAGS);
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return { status: "missing" };
      if (hasCode(error, ...UNREADABLE)) return { status: "not-a-file" };
      throw error;
    }
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) return { status: "not-a-file" };
      return { status: "ok", text: this.#readAll(fd, stats.size) };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Reads a whole file through one scratch buffer kept for the next file, rather than a new buffer
   * per file: a scan of thousands of files (some of 20 MB) then leaves no trail of freed native
   * memory behind in the reading thread.
   */
  #readAll(fd: number, size: number): string {
    let length = 0;
    for (;;) {
      if (this.#scratch.length < Math.max(size, length) + 1) this.#scratch = Buffer.allocUnsafeSlow(Math.max(64 * 1024, (Math.max(size, length) + 1) * 2));
      const read = readSync(fd, this.#scratch, length, this.#scratch.length - length, null);
      if (read === 0) return this.#scratch.toString("utf8", 0, length);
      length += read;
      size = Math.max(size, length); // the file grew while being read
    }
  }

  async read(name: string): Promise<ReadResult> {
    let handle: FileHandle;
    try {
      handle = await open(this.#pathOf(name), READ_FLAGS);
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return { status: "missing" };
      if (hasCode(error, ...UNREADABLE)) return { status: "not-a-file" };
      throw error;
    }
    try {
      if (!(await handle.stat()).isFile()) return { status: "not-a-file" };
      return { status: "ok", text: await handle.readFile("utf8") };
    } finally {
      await handle.close();
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

  async replace(name: string, text: string, expected?: string): Promise<boolean> {
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

  #pathOf(name: string): string {
    if (!PLAIN_NAME.test(name)) throw new Error("refusing a name that is not a plain file name");
    return path.join(this.directory, name);
  }
}

const STAT_BATCH = 256;

// A symlink, a directory, a FIFO, or a file we may not read (permissions): not a session to us. It is
// left out of lists with one warning and answers 422, and is read again once its mode changes (ctime moves).
const UNREADABLE = ["ELOOP", "EISDIR", "ENXIO", "EACCES", "EPERM"];

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

function codeOf(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unknown error";
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === "object" && error !== null && "code" in error && codes.includes(String(error.code));
}
