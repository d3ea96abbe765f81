import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, cp, link, lstat, mkdir, open, readlink, rename, rm, symlink, unlink } from "node:fs/promises";
import path from "node:path";
import { hasCode, pathIn } from "./fs-paths.js";
import { FsStore } from "./fs-store.js";
import type { ReadResult, StoreEntry, TrashStore } from "./store.js";

export interface FsTrashOptions {
  /** fs.rename, replaceable so tests can play a trash on another filesystem. */
  rename?: typeof rename;
  /** fs.link, likewise. */
  link?: typeof link;
}

/**
 * The trash on disk (Node only): a directory of the service's own, outside the sessions directory.
 * Moves are renames where both directories share a filesystem (atomic: the file is in exactly one
 * place at every instant), else a copy flushed to disk before the original is removed, so a crash
 * at any point leaves at least one whole copy.
 */
export class FsTrash implements TrashStore {
  readonly sessionsDirectory: string;
  readonly directory: string;
  readonly #files: FsStore;
  readonly #rename: typeof rename;
  readonly #link: typeof link;

  constructor(sessionsDirectory: string, trashDirectory: string, options: FsTrashOptions = {}) {
    this.sessionsDirectory = path.resolve(sessionsDirectory);
    this.directory = path.resolve(trashDirectory);
    this.#files = new FsStore(this.directory);
    this.#rename = options.rename ?? rename;
    this.#link = options.link ?? link;
  }

  async takeIn(name: string, trashName: string): Promise<boolean> {
    const source = pathIn(this.sessionsDirectory, name);
    const target = pathIn(this.directory, trashName);
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    try {
      await this.#rename(source, target);
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
      if (!hasCode(error, "EXDEV")) throw error;
    }
    return copyThenRemove(source, target);
  }

  async putBack(trashName: string, name: string): Promise<"restored" | "exists" | "missing"> {
    const source = pathIn(this.directory, trashName);
    const target = pathIn(this.sessionsDirectory, name);
    const stats = await lstat(source).catch(() => null);
    if (!stats) return "missing";
    await mkdir(this.sessionsDirectory, { recursive: true }); // deleted since: the CLI makes it again the same way
    if (stats.isFile()) {
      const linked = await this.#linkNoClobber(source, target);
      if (linked === "exists") return "exists";
      if (linked === "cross-device") {
        // Another filesystem: a flushed copy beside the target first, then the same no-clobber link.
        const staged = pathIn(this.sessionsDirectory, `.${name}.${randomBytes(6).toString("hex")}.restore`);
        try {
          await copyFlushed(source, staged);
          if ((await this.#linkNoClobber(staged, target)) === "exists") return "exists";
        } finally {
          await unlink(staged).catch(() => undefined);
        }
      }
      await unlink(source);
      return "restored";
    }
    // A directory or a link kept as it was deleted (rare: not a session): no hard links there, so look, then move.
    if (
      await lstat(target).then(
        () => true,
        () => false,
      )
    )
      return "exists";
    await this.#rename(source, target).catch(async (error: unknown) => {
      if (!hasCode(error, "EXDEV")) throw error;
      await copyThenRemove(source, target);
    });
    return "restored";
  }

  list(): Promise<StoreEntry[]> {
    return this.#files.list();
  }

  read(trashName: string): Promise<ReadResult> {
    return this.#files.read(trashName);
  }

  async write(trashName: string, text: string): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await this.#files.replace(trashName, text);
  }

  remove(trashName: string): Promise<boolean> {
    return this.#files.remove(trashName);
  }

  /** A hard link appears whole and at once, and never replaces an existing entry (EEXIST). */
  async #linkNoClobber(source: string, target: string): Promise<"linked" | "exists" | "cross-device"> {
    try {
      await this.#link(source, target);
      return "linked";
    } catch (error) {
      if (hasCode(error, "EEXIST")) return "exists";
      if (hasCode(error, "EXDEV")) return "cross-device";
      throw error;
    }
  }
}

/** Across filesystems: copy (flushed to disk) under a temporary name, rename into place, and only then remove the original. */
async function copyThenRemove(source: string, target: string): Promise<boolean> {
  const stats = await lstat(source).catch(() => null);
  if (!stats) return false;
  const staged = `${target}.${randomBytes(6).toString("hex")}.partial`;
  try {
    if (stats.isFile()) await copyFlushed(source, staged);
    else if (stats.isDirectory()) await cp(source, staged, { recursive: true, errorOnExist: true, force: false, verbatimSymlinks: true });
    else if (stats.isSymbolicLink())
      await symlink(await readlink(source), staged); // never followed out of the directory
    else throw new Error("refusing to move something that is neither a file, a directory nor a link");
    await rename(staged, target);
  } catch (error) {
    await rm(staged, { recursive: true, force: true });
    throw error;
  }
  try {
    await rm(source, { recursive: stats.isDirectory() });
    return true;
  } catch (error) {
    // Someone else moved it first: ours is the extra copy.
    if (!hasCode(error, "ENOENT")) throw error;
    await rm(target, { recursive: true, force: true });
    return false;
  }
}

/** Copies a regular file (the caller has checked it is one, so no link is followed), and flushes the copy to disk before returning. */
async function copyFlushed(source: string, target: string): Promise<void> {
  await copyFile(source, target, constants.COPYFILE_EXCL);
  const handle = await open(target, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
