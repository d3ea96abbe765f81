import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addIndexEntry, INDEX_ATTEMPTS, removeIndexEntry } from "../../src/sessions/cli-index.js";
import { FsStore } from "../../src/storage/fs/fs-store.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { cliFile } from "../fixtures/sessions.js";

const NOW = new Date("2026-07-01T00:00:00.000Z");
const indexOf = (ids: string[]) => cliFile({ entries: Object.fromEntries(ids.map((id) => [id, { title: id }])), updatedAt: "old" });
const entriesOf = (text: string | undefined) => Object.keys(JSON.parse(text ?? "{}").entries);

/** The CLI saving a session (read the index, add its entry, write it whole) while we are between our read and our rename. */
class CliRacingStore extends MemoryStore {
  saves: string[] = [];
  override async replace(name: string, text: string, expected?: string): Promise<boolean> {
    const id = this.saves.shift();
    if (id) this.put(name, indexOf([...entriesOf(this.get(name)), id]));
    return super.replace(name, text, expected);
  }
}

describe("index.json rewrites racing the CLI", () => {
  it("starts over when the CLI rewrote the index after our read, so the CLI's new entry is kept", async () => {
    const store = new CliRacingStore({ "index.json": indexOf(["a", "b"]) });
    store.saves = ["new1", "new2"];
    expect(await removeIndexEntry(store.cliIndex, "a", NOW)).toEqual({ entry: { title: "a" }, outcome: "updated" });
    const index = JSON.parse(store.get("index.json") ?? "");
    expect(Object.keys(index.entries)).toEqual(["b", "new1", "new2"]);
    expect(index.updatedAt).toBe(NOW.toISOString());
  });

  it("gives up, leaving the CLI's index, when it changes on every attempt", async () => {
    const store = new CliRacingStore({ "index.json": indexOf(["a"]) });
    const cliSaves = Array.from({ length: INDEX_ATTEMPTS }, (_, n) => `cli${n}`);
    store.saves = [...cliSaves];
    expect((await removeIndexEntry(store.cliIndex, "a", NOW)).outcome).toBe("gave-up");
    expect(entriesOf(store.get("index.json"))).toEqual(["a", ...cliSaves]);
  });

  it("leaves a missing, truncated or foreign index alone", async () => {
    for (const text of [undefined, '{"entries": {"a": {', "[1,2]", '{"entries": []}']) {
      const store = new MemoryStore(text === undefined ? {} : { "index.json": text });
      expect((await removeIndexEntry(store.cliIndex, "a", NOW)).outcome).toBe("unchanged");
      expect(await addIndexEntry(store.cliIndex, "a", {}, NOW)).toBe("unchanged");
      expect(store.get("index.json")).toBe(text);
    }
  });

  it("puts an entry back under any valid id, __proto__ included, and never over a newer one", async () => {
    const store = new MemoryStore({ "index.json": indexOf(["b"]) });
    expect(await addIndexEntry(store.cliIndex, "__proto__", { title: "p" }, NOW)).toBe("updated");
    expect(JSON.parse(store.get("index.json") ?? "").entries).toEqual(JSON.parse('{"b": {"title": "b"}, "__proto__": {"title": "p"}}'));
    expect(await addIndexEntry(store.cliIndex, "b", { title: "older" }, NOW)).toBe("unchanged");
  });
});

describe("FsStore's index.json swap", () => {
  it("swaps only while the file still holds what was read, and leaves no temp file either way", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "opta-index-"));
    try {
      const store = new FsStore(dir);
      await writeFile(path.join(dir, "index.json"), "as read");
      expect(await store.cliIndex.replace("ours", "as read")).toBe(true);
      expect(await readFile(path.join(dir, "index.json"), "utf8")).toBe("ours");
      await writeFile(path.join(dir, "index.json"), "the CLI's");
      expect(await store.cliIndex.replace("ours again", "ours")).toBe(false);
      expect(await readFile(path.join(dir, "index.json"), "utf8")).toBe("the CLI's");
      expect(await readdir(dir)).toEqual(["index.json"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
