import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { chmod, lstat, open, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ReadResult, SessionStore, StoreEntry } from "./store.js";

// A plain file name: no separators, no NUL, not "." or "..". Anything else never reaches the disk.
const PLAIN_NAME = /^(?!\.\.?$)[^/\\\0]+$/;

// O_NOFOLLOW: a symlink planted in the directory is never followed out of it.
// O_NONBLOCK: a FIFO named like a session cannot hang the read.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The sessions directory on disk (Node only). The directory may be missing; it is looked for on every call. */
export class FsStore implements SessionStore {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = path.resolve(directory);
  }

  async list(): Promise<StoreEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return []; // no directory (yet): nothing to list
      throw error;
    }
    const entries = await Promise.all(
      names.map(async (name): Promise<StoreEntry | null> => {
        try {
          const stats = await lstat(this.#pathOf(name));
          return { name, kind: kindOf(stats), size: stats.size, mtimeMs: stats.mtimeMs };
        } catch (error) {
          if (hasCode(error, "ENOENT")) return null; // removed since readdir
          throw error;
        }
      }),
    );
    return entries.filter((entry): entry is StoreEntry => entry !== null);
  }

  async read(name: string): Promise<ReadResult> {
    let handle;
    try {
      handle = await open(this.#pathOf(name), READ_FLAGS);
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return { status: "missing" };
      if (hasCode(error, "ELOOP", "EISDIR", "ENXIO")) return { status: "not-a-file" };
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

  async replace(name: string, text: string): Promise<void> {
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
      await rename(temporary, target);
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

function hasCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === "object" && error !== null && "code" in error && codes.includes(String(error.code));
}
