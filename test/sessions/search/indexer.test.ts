import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite } from "../../../src/node/sqlite.js";
import { inProcessLoader, type LoadOptions, loadSession, type SessionLoader } from "../../../src/sessions/loader.js";
import { SessionService } from "../../../src/sessions/service.js";
import { MemoryOwnFile, MemoryStore } from "../../../src/storage/memory-store.js";
import { cliFile, cliSession, searchQuery } from "../../fixtures/sessions.js";

const noSleep = async () => {};

/** The in-process loader, counting the reads made for the search index (documents), by file. */
function countingLoader(store: MemoryStore): SessionLoader & { documentReads: string[] } {
  const documentReads: string[] = [];
  return {
    ...inProcessLoader(store, noSleep),
    documentReads,
    load: (name: string, options: LoadOptions) => {
      if (options.search) documentReads.push(name);
      return loadSession(store, name, noSleep, options);
    },
  };
}

function corpus(count: number): MemoryStore {
  const store = new MemoryStore();
  for (let i = 0; i < count; i++) {
    const id = `s${String(i).padStart(3, "0")}`;
    const messages = [
      { role: "user", content: `question ${i} about wombats` },
      { role: "assistant", content: `answer ${i}` },
    ];
    store.put(`${id}.json`, cliFile(cliSession(id, { updated: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), messages })));
  }
  return store;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-search-index-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the search index across restarts", () => {
  it("re-reads no unchanged session after a restart; only the one that changed, and drops the one removed", async () => {
    const store = corpus(30);
    const file = path.join(dir, "search.sqlite");
    const savedCatalog = new MemoryOwnFile();
    const serviceFor = (loader: SessionLoader) =>
      new SessionService(store, { loader, sleep: noSleep, watch: false, catalog: { maxAgeMs: 0 }, savedCatalog, searchDatabase: () => openSqlite(file) });

    const firstLoader = countingLoader(store);
    const first = serviceFor(firstLoader);
    expect((await first.search(searchQuery("wombats", 100))).length).toBe(30);
    expect(firstLoader.documentReads.length).toBe(30);
    await first.close();

    store.put("s007.json", cliFile(cliSession("s007", { updated: "2026-02-01T00:00:00Z", messages: [{ role: "user", content: "now about quokkas" }] })));
    await store.remove("s011.json");
    const secondLoader = countingLoader(store);
    const second = serviceFor(secondLoader);
    expect((await second.search(searchQuery("quokkas"))).map((s) => s.id)).toEqual(["s007"]);
    expect(secondLoader.documentReads).toEqual(["s007.json"]);
    const wombats = await second.search(searchQuery("wombats", 100));
    expect(wombats.map((s) => s.id)).not.toContain("s007");
    expect(wombats.map((s) => s.id)).not.toContain("s011");
    expect(wombats.length).toBe(28);
    await second.close();
  });

  it("keeps the index fresh in the background: a change is indexed without a search asking", async () => {
    const store = corpus(3);
    const loader = countingLoader(store);
    const service = new SessionService(store, { loader, sleep: noSleep, watch: true, searchDatabase: () => openSqlite(path.join(dir, "bg.sqlite")) });
    await service.warmUp();
    await expect.poll(() => loader.documentReads.length, { timeout: 3000 }).toBe(3);
    store.put("s001.json", cliFile(cliSession("s001", { updated: "2026-03-01T00:00:00Z", messages: [{ role: "user", content: "platypus" }] })));
    // the watch reports it; the catalog re-reads it with its document, and the index takes that one read
    await expect.poll(() => loader.documentReads.filter((name) => name === "s001.json").length, { timeout: 3000 }).toBe(2);
    const readsBefore = loader.documentReads.length;
    expect((await service.search(searchQuery("platypus"))).map((s) => s.id)).toEqual(["s001"]);
    expect(loader.documentReads.length).toBe(readsBefore);
    await service.close();
  });
});
