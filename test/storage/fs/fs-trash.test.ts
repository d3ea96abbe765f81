import { existsSync, statSync } from "node:fs";
import { copyFile, link as hardLink, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsTrash } from "../../../src/storage/fs/fs-trash.js";

const roots: string[] = [];
let sessions: string;
let trashDir: string;
let outside: string;

async function tempRoot(parent = os.tmpdir()): Promise<string> {
  const root = await mkdtemp(path.join(parent, "opta-trash-"));
  roots.push(root);
  return root;
}

beforeEach(async () => {
  const root = await tempRoot();
  sessions = path.join(root, "sessions");
  trashDir = path.join(root, "data", "trash");
  outside = path.join(root, "outside.txt");
  await mkdir(sessions);
  await writeFile(outside, "not a session: must never move");
});
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** Plays a trash on another filesystem: every rename and link across the two directories fails as the kernel would. */
const exdev = () => Object.assign(new Error("EXDEV: cross-device link not permitted"), { code: "EXDEV" });
const acrossDevices = {
  rename: (async (from: string, to: string) => {
    if (path.dirname(String(from)) !== path.dirname(String(to))) throw exdev();
    return rename(from, to);
  }) as typeof rename,
  link: (async (from: string, to: string) => {
    if (path.dirname(String(from)) !== path.dirname(String(to))) throw exdev();
    return hardLink(from, to);
  }) as typeof hardLink,
};

const SHM = "/dev/shm";
const realOtherFilesystem = existsSync(SHM) && statSync(SHM).dev !== statSync(os.tmpdir()).dev;

describe("FsTrash", () => {
  it("moves a session into the trash with one rename on the same filesystem (the same inode), and back", async () => {
    await writeFile(path.join(sessions, "abc.json"), "v1");
    const { ino } = await stat(path.join(sessions, "abc.json"));
    const trash = new FsTrash(sessions, trashDir);
    expect(await trash.moveIn("abc.json", "abc.1.json")).toBe(true);
    expect(existsSync(path.join(sessions, "abc.json"))).toBe(false);
    expect((await stat(path.join(trashDir, "abc.1.json"))).ino).toBe(ino);
    expect((await stat(trashDir)).mode & 0o777).toBe(0o700);
    expect(await trash.moveBack("abc.1.json", "abc.json")).toBe("restored");
    expect((await stat(path.join(sessions, "abc.json"))).ino).toBe(ino);
    expect(await trash.list()).toEqual([]);
  });

  it("answers false for a session that is not there, and only one of concurrent moves wins", async () => {
    await writeFile(path.join(sessions, "abc.json"), "v1");
    const trash = new FsTrash(sessions, trashDir);
    expect(await trash.moveIn("nope.json", "nope.1.json")).toBe(false);
    const wins = await Promise.all([1, 2, 3, 4].map((n) => trash.moveIn("abc.json", `abc.${n}.json`)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await trash.list()).map((entry) => entry.name)).toHaveLength(1);
  });

  it("never restores over a session that exists again, and leaves both as they were", async () => {
    await writeFile(path.join(sessions, "abc.json"), "old");
    const trash = new FsTrash(sessions, trashDir);
    await trash.moveIn("abc.json", "abc.1.json");
    await writeFile(path.join(sessions, "abc.json"), "new");
    expect(await trash.moveBack("abc.1.json", "abc.json")).toBe("exists");
    expect(await readFile(path.join(sessions, "abc.json"), "utf8")).toBe("new");
    expect(await readFile(path.join(trashDir, "abc.1.json"), "utf8")).toBe("old");
    expect(await trash.moveBack("gone.1.json", "gone.json")).toBe("missing");
  });

  it("moves a symlink as a link, never what it points to", async () => {
    await symlink(outside, path.join(sessions, "link.json"));
    const trash = new FsTrash(sessions, trashDir, acrossDevices);
    expect(await trash.moveIn("link.json", "link.1.json")).toBe(true);
    expect(await readlink(path.join(trashDir, "link.1.json"))).toBe(outside);
    expect(await readFile(outside, "utf8")).toBe("not a session: must never move");
    expect(await trash.moveBack("link.1.json", "link.json")).toBe("restored");
    expect((await lstat(path.join(sessions, "link.json"))).isSymbolicLink()).toBe(true);
  });

  it("puts a session back under its name when the copy into a trash on another filesystem fails (a full disk)", async () => {
    await writeFile(path.join(sessions, "abc.json"), "v1");
    const full = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    const trash = new FsTrash(sessions, trashDir, {
      ...acrossDevices,
      copy: async () => {
        throw full;
      },
    });
    await expect(trash.moveIn("abc.json", "abc.1.json")).rejects.toThrow(/ENOSPC/);
    expect(await readdir(sessions)).toEqual(["abc.json"]); // back where the CLI and the listing see it, nothing left set aside
    expect(await readFile(path.join(sessions, "abc.json"), "utf8")).toBe("v1");
    expect(await trash.list()).toEqual([]);
  });

  it("refuses names that are not plain file names", async () => {
    const trash = new FsTrash(sessions, trashDir);
    await expect(trash.moveIn("../outside.txt", "x.1.json")).rejects.toThrow();
    await expect(trash.moveBack("../outside.txt", "x.json")).rejects.toThrow();
    await expect(trash.remove("../outside.txt")).rejects.toThrow();
    expect(await readFile(outside, "utf8")).toBe("not a session: must never move");
  });

  describe.each([
    ["a played one (EXDEV from rename and link)", false],
    ["a real one (tmpfs)", true],
  ])("across filesystems: %s", (_label, real) => {
    /** The trash, with the CLI's save `during` the copy into it (the window in which a save used to be lost). */
    async function trashWithSaveDuringCopy(during: () => Promise<void>): Promise<FsTrash> {
      if (real) trashDir = path.join(await tempRoot(SHM), "trash");
      let saved = false;
      const copy = async (source: string, target: string) => {
        await copyFile(source, target);
        if (!saved) {
          saved = true;
          await during();
        }
      };
      return new FsTrash(sessions, trashDir, { ...(real ? {} : acrossDevices), copy });
    }

    it.skipIf(real && !realOtherFilesystem)(
      "keeps a CLI save that lands while the deleted version is copied: the save stays, the trash holds what was deleted",
      async () => {
        await writeFile(path.join(sessions, "abc.json"), "deleted version");
        const trash = await trashWithSaveDuringCopy(() => writeFile(path.join(sessions, "abc.json"), "saved by the CLI during the copy"));
        expect(await trash.moveIn("abc.json", "abc.1.json")).toBe(true);
        expect(await readFile(path.join(sessions, "abc.json"), "utf8")).toBe("saved by the CLI during the copy");
        expect(await readFile(path.join(trashDir, "abc.1.json"), "utf8")).toBe("deleted version");
        expect(await readdir(sessions)).toEqual(["abc.json"]); // nothing set aside is left behind
        expect((await trash.list()).map((entry) => entry.name)).toEqual(["abc.1.json"]);
      },
    );

    it.skipIf(real && !realOtherFilesystem)(
      "copies again when a write already under way lands in the set-aside file: the trash keeps the newer version",
      async () => {
        await writeFile(path.join(sessions, "abc.json"), "older");
        const trash = await trashWithSaveDuringCopy(async () => {
          const [aside] = (await readdir(sessions)).filter((name) => name.startsWith(".abc.json."));
          await writeFile(path.join(sessions, aside as string), "newer, finished during the copy"); // the CLI's open file, now set aside
        });
        expect(await trash.moveIn("abc.json", "abc.1.json")).toBe(true);
        expect(await readFile(path.join(trashDir, "abc.1.json"), "utf8")).toBe("newer, finished during the copy");
        expect(await readdir(sessions)).toEqual([]);
      },
    );

    it.skipIf(real && !realOtherFilesystem)(
      "recovers files a crash left set aside: back under their name, or into the trash when the CLI made the session again",
      async () => {
        if (real) trashDir = path.join(await tempRoot(SHM), "trash");
        const trash = new FsTrash(sessions, trashDir, real ? {} : acrossDevices);
        await writeFile(path.join(sessions, ".abc.json.0123456789ab.deleting"), "interrupted abc");
        await writeFile(path.join(sessions, ".xyz.json.0123456789ab.deleting"), "interrupted xyz");
        await writeFile(path.join(sessions, "xyz.json"), "xyz made again");
        await writeFile(path.join(sessions, ".notours.deleting"), "left alone");
        expect(await trash.recover((name) => `${name.replace(/\.json$/, "")}.7.json`)).toBe(2);
        expect((await readdir(sessions)).sort()).toEqual([".notours.deleting", "abc.json", "xyz.json"]);
        expect(await readFile(path.join(sessions, "abc.json"), "utf8")).toBe("interrupted abc");
        expect(await readFile(path.join(sessions, "xyz.json"), "utf8")).toBe("xyz made again");
        expect(await readFile(path.join(trashDir, "xyz.7.json"), "utf8")).toBe("interrupted xyz");
      },
    );

    it.skipIf(real && !realOtherFilesystem)("copies, flushes, then removes; restores by a flushed copy and a no-clobber link", async () => {
      if (real) trashDir = path.join(await tempRoot(SHM), "trash");
      const trash = new FsTrash(sessions, trashDir, real ? {} : acrossDevices);
      const text = JSON.stringify({ id: "abc", messages: ["x".repeat(100_000)] });
      await writeFile(path.join(sessions, "abc.json"), text, { mode: 0o640 });
      expect(await trash.moveIn("abc.json", "abc.1.json")).toBe(true);
      expect(existsSync(path.join(sessions, "abc.json"))).toBe(false);
      expect(await readFile(path.join(trashDir, "abc.1.json"), "utf8")).toBe(text);
      expect((await trash.list()).map((entry) => entry.name)).toEqual(["abc.1.json"]); // no staging leftovers

      await writeFile(path.join(sessions, "abc.json"), "made again");
      expect(await trash.moveBack("abc.1.json", "abc.json")).toBe("exists");
      expect(await readFile(path.join(sessions, "abc.json"), "utf8")).toBe("made again");
      await rm(path.join(sessions, "abc.json"));

      expect(await trash.moveBack("abc.1.json", "abc.json")).toBe("restored");
      expect(await readFile(path.join(sessions, "abc.json"), "utf8")).toBe(text);
      expect((await stat(path.join(sessions, "abc.json"))).mode & 0o777).toBe(0o640);
      expect((await readFile(path.join(sessions, "abc.json"))).length).toBe(text.length);
      expect(await trash.list()).toEqual([]);
      expect(await readdir(sessions)).toEqual(["abc.json"]);
    });
  });
});
