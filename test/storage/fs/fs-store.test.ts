import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, watch } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { blockingReaderOf, FsStore } from "../../../src/storage/fs/fs-store.js";

/** Whether this machine can make a FIFO (named pipe); the FIFO cases are skipped without it. */
function canMakeFifo(): boolean {
  const probe = mkdtempSync(path.join(os.tmpdir(), "opta-fifo-probe-"));
  try {
    execFileSync("mkfifo", [path.join(probe, "pipe")], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const hasMkfifo = canMakeFifo();

const OUTSIDE_TEXT = '{"id":"outside","title":"OUTSIDE SECRET"}';

let root: string;
let dir: string;
let outside: string;
let store: FsStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-fs-store-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
  outside = path.join(root, "outside.json");
  await writeFile(outside, OUTSIDE_TEXT);
  store = new FsStore(dir);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function expectOutsideUntouched(): Promise<void> {
  expect(await readFile(outside, "utf8")).toBe(OUTSIDE_TEXT);
}

/** Rejects if the promise has not settled within `ms`: for calls that must never hang. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("FsStore.exists", () => {
  it("answers whether the directory is there (list() answers a missing one as empty)", async () => {
    expect(await store.exists()).toBe(true);
    expect(await new FsStore(path.join(root, "nope")).exists()).toBe(false);
    expect(await new FsStore(outside).exists()).toBe(false); // a file, not a directory
  });
});

describe("FsStore.list", () => {
  it("gives no entries while the directory does not exist, and sees it once it is created", async () => {
    const later = path.join(root, "not-yet");
    const lateStore = new FsStore(later);
    expect(await lateStore.list()).toEqual([]);

    await mkdir(later);
    expect(await lateStore.list()).toEqual([]);
    await writeFile(path.join(later, "a.json"), "{}");
    expect((await lateStore.list()).map((entry) => entry.name)).toEqual(["a.json"]);
  });

  it("gives the name, kind, size in bytes and modification time of each file", async () => {
    const when = new Date("2026-03-01T10:00:00.000Z");
    await writeFile(path.join(dir, "a.json"), "hello");
    await writeFile(path.join(dir, "b.json"), "é€"); // 2 + 3 bytes in UTF-8
    await utimes(path.join(dir, "a.json"), when, when);
    await utimes(path.join(dir, "b.json"), when, when);

    const entries = (await store.list()).sort((x, y) => x.name.localeCompare(y.name));
    expect(entries).toEqual([
      { name: "a.json", kind: "file", size: 5, mtimeMs: when.getTime(), stamp: expect.any(String) },
      { name: "b.json", kind: "file", size: 5, mtimeMs: when.getTime(), stamp: expect.any(String) },
    ]);
  });

  it("gives a new stamp to a same-size rewrite with the same mtime, and to a file renamed over another", async () => {
    const when = new Date("2026-03-01T10:00:00.000Z");
    const file = path.join(dir, "a.json");
    await writeFile(file, "first");
    await utimes(file, when, when);
    const before = await store.stat("a.json");
    await writeFile(file, "other"); // same size
    await utimes(file, when, when); // same mtime: only ctime tells
    const rewritten = await store.stat("a.json");
    expect(rewritten?.mtimeMs).toBe(before?.mtimeMs);
    expect(rewritten?.stamp).not.toBe(before?.stamp);

    await writeFile(path.join(dir, "b.json"), "third");
    await utimes(path.join(dir, "b.json"), when, when);
    await rename(path.join(dir, "b.json"), file);
    expect((await store.stat("a.json"))?.stamp).not.toBe(rewritten?.stamp);
  });

  it("stat gives one entry, or null for a missing one", async () => {
    await writeFile(path.join(dir, "a.json"), "hello");
    expect(await store.stat("a.json")).toMatchObject({ name: "a.json", kind: "file", size: 5 });
    expect(await store.stat("missing.json")).toBeNull();
  });

  it("reports a sub-directory as kind directory, even one named like a session", async () => {
    await mkdir(path.join(dir, "x.json"));
    await mkdir(path.join(dir, "sub"));
    const kinds = Object.fromEntries((await store.list()).map((entry) => [entry.name, entry.kind]));
    expect(kinds).toEqual({ "x.json": "directory", sub: "directory" });
  });

  it("reports a symlink as kind other, whether it points to a file or nowhere", async () => {
    await symlink(outside, path.join(dir, "evil.json"));
    await symlink(path.join(root, "missing.json"), path.join(dir, "dangling.json"));
    const kinds = Object.fromEntries((await store.list()).map((entry) => [entry.name, entry.kind]));
    expect(kinds).toEqual({ "evil.json": "other", "dangling.json": "other" });
  });

  it.skipIf(!hasMkfifo)("reports a FIFO as kind other (skipped when mkfifo is not installed)", async () => {
    execFileSync("mkfifo", [path.join(dir, "pipe.json")]);
    expect(await store.list()).toEqual([expect.objectContaining({ name: "pipe.json", kind: "other" })]);
  });
});

describe("FsStore.read", () => {
  it("gives the whole text of a regular file", async () => {
    const text = `{"title":"héllo 🌍","pad":"${"x".repeat(300_000)}"}`;
    await writeFile(path.join(dir, "a.json"), text);
    expect(await store.read("a.json")).toEqual({ status: "ok", text, mtimeMs: (await stat(path.join(dir, "a.json"))).mtimeMs });
  });

  it("answers missing for a file that does not exist", async () => {
    expect(await store.read("nope.json")).toEqual({ status: "missing" });
  });

  it("answers not-a-file for a directory", async () => {
    await mkdir(path.join(dir, "x.json"));
    expect(await store.read("x.json")).toEqual({ status: "not-a-file" });
  });

  it("answers not-a-file for a symlink to a real file outside the directory, never reading its target", async () => {
    await symlink(outside, path.join(dir, "evil.json"));
    const result = await store.read("evil.json");
    expect(result).toEqual({ status: "not-a-file" });
    expect(JSON.stringify(result)).not.toContain("OUTSIDE SECRET");
    await expectOutsideUntouched();
  });

  it.skipIf(!hasMkfifo)("answers not-a-file for a FIFO promptly instead of hanging (skipped when mkfifo is not installed)", async () => {
    execFileSync("mkfifo", [path.join(dir, "pipe.json")]);
    expect(await within(store.read("pipe.json"), 2000)).toEqual({ status: "not-a-file" });
  });

  it("reads the same through a loader thread's blocking reader, opened from the store's share()", async () => {
    await writeFile(path.join(dir, "a.json"), '{"title":"héllo"}');
    await symlink(outside, path.join(dir, "evil.json"));
    const relative = new FsStore(path.relative(process.cwd(), dir)); // the share carries the resolved directory
    const reader = blockingReaderOf(JSON.parse(JSON.stringify(relative.share())));
    for (const name of ["a.json", "evil.json", "nope.json"]) expect(await reader.read(name)).toEqual(await store.read(name));
  });
});

describe("FsStore.remove", () => {
  it("removes a file and answers true, then false once it is gone", async () => {
    await writeFile(path.join(dir, "a.json"), "{}");
    expect(await store.remove("a.json")).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(await store.remove("a.json")).toBe(false);
  });

  it("answers false for a name that never existed", async () => {
    expect(await store.remove("nope.json")).toBe(false);
  });

  it("removes a symlink itself and never its target outside the directory", async () => {
    await symlink(outside, path.join(dir, "evil.json"));
    expect(await store.remove("evil.json")).toBe(true);
    await expect(lstat(path.join(dir, "evil.json"))).rejects.toMatchObject({ code: "ENOENT" });
    await expectOutsideUntouched();
  });

  it("removes a directory named x.json, with what it holds", async () => {
    await mkdir(path.join(dir, "x.json"));
    await writeFile(path.join(dir, "x.json", "inner.json"), "{}");
    expect(await store.remove("x.json")).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it("of concurrent removes of one file, exactly one answers true", async () => {
    await writeFile(path.join(dir, "a.json"), "{}");
    const results = await Promise.all(Array.from({ length: 10 }, () => store.remove("a.json")));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe("FsStore.replace", () => {
  it("replaces the text through a rename, leaving no temporary or dot-file behind", async () => {
    const target = path.join(dir, "index.json");
    await writeFile(target, "old text");
    const before = await stat(target);

    await store.replace("index.json", "new text");

    expect(await readFile(target, "utf8")).toBe("new text");
    expect((await stat(target)).ino).not.toBe(before.ino); // a new inode: renamed into place, not rewritten in place
    expect(await readdir(dir)).toEqual(["index.json"]);
  });

  it("creates the file when there was none", async () => {
    await store.replace("index.json", "fresh");
    expect(await readFile(path.join(dir, "index.json"), "utf8")).toBe("fresh");
    expect(await readdir(dir)).toEqual(["index.json"]);
  });

  it("writes the new text to a temporary file in the same directory first", async () => {
    await writeFile(path.join(dir, "index.json"), "old text");
    const seen = new Set<string>();
    const watcher = watch(dir, (_event, name) => {
      if (name) seen.add(String(name));
    });
    try {
      await store.replace("index.json", "new text");
      const temporaryName = expect.not.stringMatching(/^index\.json$/);
      await vi.waitFor(() => expect([...seen]).toContainEqual(temporaryName), { timeout: 1000, interval: 10 });
    } finally {
      watcher.close();
    }
    expect(await readdir(dir)).toEqual(["index.json"]);
  });

  it.each([
    ["600", 0o600],
    ["640", 0o640],
    ["660", 0o660],
    ["664", 0o664],
  ])("keeps the existing file's mode %s under umask 022", async (_label, mode) => {
    const previousUmask = process.umask(0o022);
    try {
      const target = path.join(dir, "index.json");
      await writeFile(target, "old text");
      await chmod(target, mode);
      await store.replace("index.json", "new text");
      expect((await stat(target)).mode & 0o777).toBe(mode);
    } finally {
      process.umask(previousUmask);
    }
  });

  it("lets a concurrent reader see only a complete old or new text during many replaces", async () => {
    const versions = Array.from({ length: 40 }, (_, i) => JSON.stringify({ version: i, pad: String(i % 10).repeat(100_000 + i) }));
    const written = new Set(versions);
    await writeFile(path.join(dir, "index.json"), versions[0] ?? "");

    let writing = true;
    const writer = (async () => {
      try {
        for (const text of versions.slice(1)) await store.replace("index.json", text);
      } finally {
        writing = false;
      }
    })();
    const observed: string[] = [];
    while (writing) {
      const result = await store.read("index.json");
      expect(result.status).toBe("ok");
      if (result.status === "ok") observed.push(result.text);
    }
    await writer;

    expect(observed.length).toBeGreaterThan(5);
    const torn = observed.filter((text) => !written.has(text));
    expect(torn.map((text) => `${text.length} chars: ${text.slice(0, 20)}…`)).toEqual([]);
    expect(await readFile(path.join(dir, "index.json"), "utf8")).toBe(versions.at(-1));
    expect(await readdir(dir)).toEqual(["index.json"]);
  });
});

describe("names that are not plain file names", () => {
  const refused = ["../outside.json", "..", ".", "", "sub/../../outside.json", "..\\outside.json", "outside.json\0", "a/b.json", "a\\b.json"];

  it.each(refused.map((name) => [JSON.stringify(name), name]))("refuses %s in read, remove and replace, touching nothing", async (_label, name) => {
    await mkdir(path.join(dir, "sub"));
    await writeFile(path.join(dir, "sub", "b.json"), "inside");

    await expect(store.read(name)).rejects.toThrow();
    await expect(store.remove(name)).rejects.toThrow();
    await expect(store.replace(name, "overwritten")).rejects.toThrow();

    await expectOutsideUntouched();
    expect((await readdir(dir)).sort()).toEqual(["sub"]);
    expect(await readFile(path.join(dir, "sub", "b.json"), "utf8")).toBe("inside");
    expect((await readdir(root)).sort()).toEqual(["outside.json", "sessions"]);
  });

  it("refuses an absolute path to a file outside the directory", async () => {
    await expect(store.read(outside)).rejects.toThrow();
    await expect(store.remove(outside)).rejects.toThrow();
    await expect(store.replace(outside, "overwritten")).rejects.toThrow();
    await expectOutsideUntouched();
  });
});
