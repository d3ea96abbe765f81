import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { cp, link, lstat, mkdir, open, readdir, readlink, rename, rm, stat, symlink, unlink } from "node:fs/promises";
import path from "node:path";
import type { ReadResult, StoreEntry, TrashStore } from "../store.js";
import { hasCode, pathIn } from "./fs-paths.js";
import { FsStore } from "./fs-store.js";

interface FsTrashOptions {
  /** fs.rename, replaceable so tests can play a trash on another filesystem. */
  rename?: typeof rename;
  /** fs.link, likewise. */
  link?: typeof link;
  /** Copies a regular file into the trash across filesystems (flushed); replaceable so tests can write in its window. */
  copy?: (source: string, target: string) => Promise<void>;
}

/** A session set aside in its own directory while it is copied to another filesystem; the listing ignores dot-files. */
const SET_ASIDE = /^\.([A-Za-z0-9_-]{1,128}\.json)\.[0-9a-f]{12}\.deleting$/;
/** Copies of a set-aside file the CLI was still writing into, before we give up and leave it in place. */
const COPY_ATTEMPTS = 5;

/**
 * The trash on disk (Node only): a directory of the service's own, outside the sessions directory.
 * Moves are renames where both directories share a filesystem (atomic: the file is in exactly one
 * place at every instant), else a copy flushed to disk before the original is removed, so a crash
 * at any point leaves at least one whole copy. Across filesystems a session is first renamed aside
 * within its own directory, so a CLI save landing during the copy makes a new file that is kept.
 */
export class FsTrash implements TrashStore {
  readonly sessionsDirectory: string;
  readonly directory: string;
  readonly #files: FsStore;
  readonly #rename: typeof rename;
  readonly #link: typeof link;
  readonly #copy: (source: string, target: string) => Promise<void>;

  constructor(sessionsDirectory: string, trashDirectory: string, options: FsTrashOptions = {}) {
    this.sessionsDirectory = path.resolve(sessionsDirectory);
    this.directory = path.resolve(trashDirectory);
    this.#files = new FsStore(this.directory);
    this.#rename = options.rename ?? rename;
    this.#link = options.link ?? link;
    this.#copy = options.copy ?? copyFlushed;
  }

  async moveIn(name: string, trashName: string): Promise<boolean> {
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
    const aside = pathIn(this.sessionsDirectory, `.${name}.${randomBytes(6).toString("hex")}.deleting`);
    try {
      await this.#rename(source, aside); // within one directory: atomic, and from now on a CLI save makes a new <id>.json
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
      throw error;
    }
    try {
      await this.#moveAcross(aside, target);
    } catch (error) {
      // Not in the trash (a full disk, a write that never settled): the session goes back where the CLI and the listing see it.
      await this.#putBack(aside, source).catch(() => undefined); // else recover() finishes it at the next start
      throw error;
    }
    return true;
  }

  /** A set-aside entry back under its name; "exists" (left set aside) where the CLI has made that session again since. */
  async #putBack(aside: string, source: string): Promise<"back" | "exists"> {
    // A directory cannot be hard-linked: look, then rename (nothing but us makes such a name).
    const back = (await lstat(aside)).isFile()
      ? await this.#linkNoClobber(aside, source)
      : await lstat(source).then(
          () => "exists" as const,
          () => rename(aside, source).then(() => "renamed" as const),
        );
    if (back === "linked") await unlink(aside);
    return back === "exists" ? "exists" : "back";
  }

  /**
   * Finishes what a crash left set aside: each file goes back under its name, or, where the CLI has
   * made that session again since, into the trash as `trashNameOf(name)`. Answers how many it found.
   */
  async recover(trashNameOf: (name: string) => string): Promise<number> {
    const leftovers = (await readdir(this.sessionsDirectory).catch(() => [])).flatMap((entry) => {
      const name = SET_ASIDE.exec(entry)?.[1];
      return name ? [{ aside: pathIn(this.sessionsDirectory, entry), name }] : [];
    });
    for (const { aside, name } of leftovers) {
      if ((await this.#putBack(aside, pathIn(this.sessionsDirectory, name))) === "exists") {
        await this.#moveAcross(aside, pathIn(this.directory, trashNameOf(name)));
      }
    }
    return leftovers.length;
  }

  /**
   * Copies a set-aside session into the trash and only then removes it. A CLI write already under
   * way when it was set aside lands in it: a change seen during the copy means copy again, so the
   * trash keeps the newer version; one that never settles fails the move (moveIn puts it back).
   */
  async #moveAcross(aside: string, target: string): Promise<void> {
    const stats = await lstat(aside);
    if (!stats.isFile()) {
      await copyThenRemove(aside, target);
      return;
    }
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const staged = `${target}.${randomBytes(6).toString("hex")}.partial`;
    try {
      for (let attempt = 1; ; attempt++) {
        const before = await stat(aside);
        await rm(staged, { force: true });
        await this.#copy(aside, staged);
        if (sameVersion(before, await stat(aside))) break;
        if (attempt === COPY_ATTEMPTS) throw new Error("the session kept changing while it was being deleted: left in place");
      }
      await rename(staged, target);
    } catch (error) {
      await rm(staged, { force: true });
      throw error;
    }
    await unlink(aside);
  }

  async moveBack(trashName: string, name: string): Promise<"restored" | "exists" | "missing"> {
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

/** Same size, modification and change times: the file was not written in between (a write moves ctime even within one mtime tick). */
function sameVersion(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/**
 * Copies a regular file (the caller has checked it is one, so no link is followed) with its mode, and
 * flushes the copy to disk before returning. Streamed, not fs.copyFile: across filesystems that never
 * returns (100% CPU) when the source shrinks during the copy, as a CLI save truncating it would.
 */
async function copyFlushed(source: string, target: string): Promise<void> {
  const input = await open(source, "r");
  try {
    const mode = (await input.stat()).mode & 0o777;
    const output = await open(target, "wx", mode);
    try {
      const buffer = Buffer.allocUnsafe(1024 * 1024);
      for (let read = await input.read(buffer, 0, buffer.length); read.bytesRead > 0; read = await input.read(buffer, 0, buffer.length)) {
        for (let written = 0; written < read.bytesRead; ) written += (await output.write(buffer, written, read.bytesRead - written)).bytesWritten;
      }
      await output.chmod(mode); // as copyFile does, whatever the umask
      await output.sync();
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
}
