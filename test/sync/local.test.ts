import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsOwnFile } from "../../src/storage/fs/fs-own-file.js";
import { type BufferReadResult, FsStore } from "../../src/storage/fs/fs-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { LocalDirectory } from "../../src/sync/local.js";
import { type LocalEntry, SyncError } from "../../src/sync/round.js";
import { cliFile } from "../fixtures/sessions.js";

let root: string;
let dir: string;
let state: FsOwnFile;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-sync-local-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
  state = new FsOwnFile(path.join(root, "cache"), "sync.test.json");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** FsStore counting byte reads, to see what was read and what was remembered. */
class CountingStore extends FsStore {
  readonly reads: string[] = [];
  override async readBytes(name: string): Promise<BufferReadResult> {
    this.reads.push(name);
    return super.readBytes(name);
  }
}

/** A LocalDirectory whose clock is a minute ahead: every file counts as written long enough ago to be remembered. */
function localDir(store = new CountingStore(dir), now = () => Date.now() + 60_000) {
  return { store, local: new LocalDirectory(store, { state, where: store.directory, exists: () => store.exists(), now, sleep: async () => {} }) };
}

const sha = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");

/** A run that hashes every file and saves what it learned. */
async function firstRun(): Promise<void> {
  const { local } = localDir();
  for (const e of await local.list()) await local.digest(e);
  await local.save();
}

async function entry(local: LocalDirectory, name: string): Promise<LocalEntry> {
  const found = (await local.list()).find((candidate) => candidate.name === name);
  if (!found) throw new Error(`${name} not listed`);
  return found;
}

describe("the local sessions directory, for sync", () => {
  it("lists every entry named like a session, whatever it is, and nothing else", async () => {
    await writeFile(path.join(dir, "abc.json"), "{}");
    await writeFile(path.join(dir, "-8h6JWRxg1BC.json"), "{}");
    await writeFile(path.join(dir, "index.json"), "{}");
    await writeFile(path.join(dir, "INDEX.json"), "{}").catch(() => undefined); // one file on a case-insensitive disk
    await writeFile(path.join(dir, "notes.txt"), "{}");
    await writeFile(path.join(dir, ".abc.json.tmp"), "{}");
    await mkdir(path.join(dir, "folder.json"));
    await symlink(path.join(root, "outside.json"), path.join(dir, "link.json"));
    const { local } = localDir();

    const entries = await local.list();

    expect(entries.map((e) => [e.name, e.kind]).sort()).toEqual([
      ["-8h6JWRxg1BC.json", "file"],
      ["abc.json", "file"],
      ["folder.json", "directory"],
      ["link.json", "other"],
    ]);
  });

  it("refuses a missing directory instead of listing it as empty (which would delete every remote session)", async () => {
    const { local } = localDir(new CountingStore(path.join(root, "nope")));
    const error = await local.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ fatal: true, message: expect.stringContaining("does not exist") });
  });

  it("reads a session's exact bytes (a BOM, bytes that are not UTF-8) and their SHA-256", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"title":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    await writeFile(path.join(dir, "odd.json"), bytes);
    const { local } = localDir();

    const file = await local.read(await entry(local, "odd.json"));

    expect(file).toEqual({ status: "ok", sha256: sha(bytes), bytes });
  });

  it("never follows a symlink, and says why each damaged entry is not a session", async () => {
    await writeFile(path.join(root, "outside.json"), '{"secret":true}');
    await symlink(path.join(root, "outside.json"), path.join(dir, "link.json"));
    await mkdir(path.join(dir, "folder.json"));
    await writeFile(path.join(dir, "cut.json"), '{"id":"cut","messages":[');
    await writeFile(path.join(dir, "list.json"), "[1,2]");
    const { local, store } = localDir();

    const reasons = Object.fromEntries(await Promise.all((await local.list()).map(async (e) => [e.name, await local.read(e)] as const)));

    expect(reasons).toEqual({
      "link.json": { status: "damaged", reason: "a symlink or other special file (never followed)" },
      "folder.json": { status: "damaged", reason: "a directory" },
      "cut.json": { status: "damaged", reason: "not a JSON object" },
      "list.json": { status: "damaged", reason: "not a JSON object" },
    });
    expect(store.reads).not.toContain("link.json");
    // A file that does not parse is read again (the CLI may be mid-write) before it counts as damaged.
    expect(store.reads.filter((name) => name === "cut.json").length).toBeGreaterThan(1);
  });

  it("answers missing for a file removed since the listing", async () => {
    await writeFile(path.join(dir, "a.json"), "{}");
    const { local } = localDir();
    const listed = await entry(local, "a.json");
    await unlink(path.join(dir, "a.json"));
    expect(await local.read(listed)).toEqual({ status: "missing" });
  });

  it("remembers digests across runs, so an unchanged file is not read again", async () => {
    await writeFile(path.join(dir, "a.json"), '{"a":1}');
    await writeFile(path.join(dir, "bad.json"), "{");
    await firstRun();

    const second = localDir();
    const digests = await Promise.all((await second.local.list()).map((e) => second.local.digest(e)));

    expect(second.store.reads).toEqual([]);
    expect(digests).toContainEqual({ status: "ok", sha256: sha('{"a":1}'), bytes: null });
    expect(digests).toContainEqual({ status: "damaged", reason: "not a JSON object" });
  });

  it("reads a file again once it changed (a rewrite of the same size included), and forgets files that are gone", async () => {
    await writeFile(path.join(dir, "a.json"), '{"a":1}');
    await writeFile(path.join(dir, "b.json"), '{"b":1}');
    await firstRun();
    await writeFile(path.join(dir, "a.json"), '{"a":2}');
    await unlink(path.join(dir, "b.json"));

    const second = localDir();
    expect(await second.local.digest(await entry(second.local, "a.json"))).toMatchObject({ sha256: sha('{"a":2}') });
    await second.local.save();

    expect(second.store.reads).toEqual(["a.json"]);
    expect(Object.keys(JSON.parse(await readFile(state.file, "utf8")).files)).toEqual(["a.json"]);
  });

  it("does not remember a file written within the last two seconds (its timestamps may not move on the next write)", async () => {
    await writeFile(path.join(dir, "a.json"), "{}");
    const first = localDir(new CountingStore(dir), Date.now);
    await first.local.digest(await entry(first.local, "a.json"));
    await first.local.save();

    const second = localDir();
    await second.local.digest(await entry(second.local, "a.json"));
    expect(second.store.reads).toEqual(["a.json"]);
  });

  it("hashes everything again when the state file is damaged", async () => {
    await writeFile(path.join(dir, "a.json"), "{}");
    await mkdir(path.dirname(state.file), { recursive: true });
    await writeFile(state.file, '{"version":1,"files":{"a.json":');
    const { local, store } = localDir();
    expect(await local.digest(await entry(local, "a.json"))).toMatchObject({ status: "ok", sha256: sha("{}") });
    expect(store.reads).toEqual(["a.json"]);
  });

  it("reads any SessionStore, not only a directory: sessions in memory, with their bytes and SHA-256", async () => {
    const text = cliFile({ id: "abc" });
    const memory = new MemoryStore({ "abc.json": text, "index.json": "{}" });
    const local = new LocalDirectory(memory, { state, where: "memory", exists: async () => true, sleep: async () => {} });
    expect((await local.list()).map((e) => [e.id, e.name, e.kind])).toEqual([["abc", "abc.json", "file"]]);
    expect(await local.read(await entry(local, "abc.json"))).toEqual({ status: "ok", sha256: sha(text), bytes: new TextEncoder().encode(text) });
  });
});
