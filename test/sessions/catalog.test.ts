import { describe, expect, it, vi } from "vitest";
import { inProcessLoader, type LoadOptions, loadSession, type SessionLoader } from "../../src/sessions/loader.js";
import { SessionService } from "../../src/sessions/service.js";
import { MemoryOwnFile, MemoryStore } from "../../src/storage/memory-store.js";
import { cliFile, cliSession, memorySearchDatabase, searchQuery } from "../fixtures/sessions.js";

const noSleep = async () => {};
const LIST = { limit: 200, offset: 0, model: undefined, tag: undefined, since: undefined, until: undefined, cwd: undefined };

/** The in-process loader, counting what it is asked to read. */
function countingLoader(store: MemoryStore): SessionLoader & { loads: { name: string; options: LoadOptions }[] } {
  const loads: { name: string; options: LoadOptions }[] = [];
  return {
    ...inProcessLoader(store, noSleep),
    loads,
    concurrency: 4,
    load: (name, options) => {
      loads.push({ name, options });
      return loadSession(store, name, noSleep, options);
    },
  };
}

function sessions(count: number): MemoryStore {
  const store = new MemoryStore();
  for (let i = 0; i < count; i++) {
    const id = `s${String(i).padStart(3, "0")}`;
    store.put(`${id}.json`, cliFile(cliSession(id, { updated: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() })));
  }
  return store;
}

describe("the catalog with a watch", () => {
  it("re-reads only the file a change was reported for", async () => {
    const store = sessions(5);
    const loader = countingLoader(store);
    const service = new SessionService(store, { searchDatabase: memorySearchDatabase, loader, sleep: noSleep });
    expect((await service.list(LIST)).total).toBe(5);
    await service.search(searchQuery("question")); // waits for the background index
    loader.loads.length = 0;

    store.put("s002.json", cliFile(cliSession("s002", { title: "renamed", updated: "2027-01-01T00:00:00Z" })));
    const after = await service.list(LIST);
    expect(after.sessions[0]).toMatchObject({ id: "s002", title: "renamed" });
    expect(loader.loads.map((load) => load.name)).toEqual(["s002.json"]);
  });

  it("drops a removed file and lists a new one as soon as they are reported", async () => {
    const store = sessions(3);
    const service = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep });
    await service.list(LIST);
    await store.remove("s000.json");
    store.put("new.json", cliFile(cliSession("new", { updated: "2027-01-01T00:00:00Z" })));
    expect((await service.list(LIST)).sessions.map((s) => s.id)).toEqual(["new", "s002", "s001"]);
  });

  it("finds a change the watch missed at the next revalidation, without blocking answers on it", async () => {
    let now = 1_000_000;
    const store = sessions(2);
    const service = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep, now: () => now, catalog: { revalidateMs: 10_000 } });
    await service.list(LIST);
    store.put("s000.json", cliFile(cliSession("s000", { title: "missed" })), { silent: true });
    expect((await service.list(LIST)).sessions.find((s) => s.id === "s000")?.title).toBe("Session s000");

    now += 10_001; // this answer starts a background re-list that notes the change...
    await service.list(LIST);
    await vi.waitFor(async () => expect((await service.list(LIST)).sessions.map((s) => s.title)).toContain("missed")); // ...which later answers read
  });
});

describe("filtered lists after changes", () => {
  it("answers a repeated filter from the new listing once a session changes", async () => {
    const store = sessions(3);
    const service = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep });
    const byModel = { ...LIST, model: "llama" };
    expect((await service.list(byModel)).total).toBe(0);
    store.put("s001.json", cliFile(cliSession("s001", { model: "mlx-community/Llama-3.3-70B-4bit" })));
    expect((await service.list(byModel)).sessions.map((s) => s.id)).toEqual(["s001"]);
    await store.remove("s001.json");
    expect((await service.list(byModel)).total).toBe(0);
  });
});

describe("search after changes", () => {
  it("finds a session by its new text and no longer by its old text after a rewrite", async () => {
    const store = sessions(3);
    store.put("s001.json", cliFile(cliSession("s001", { messages: [{ role: "user", content: "talk about zebras" }] })));
    const service = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep });
    expect((await service.search(searchQuery("zebras"))).map((s) => s.id)).toEqual(["s001"]);
    store.put("s001.json", cliFile(cliSession("s001", { messages: [{ role: "user", content: "talk about giraffes" }] })));
    expect(await service.search(searchQuery("zebras"))).toEqual([]);
    expect((await service.search(searchQuery("giraffes"))).map((s) => s.id)).toEqual(["s001"]);
    await store.remove("s001.json");
    expect(await service.search(searchQuery("giraffes"))).toEqual([]);
  });
});

describe("the persisted summary cache", () => {
  it("restarts without reading unchanged files, and lists exactly what a cold start lists", async () => {
    const store = sessions(6);
    store.put("broken.json", "{ truncated");
    const cache = new MemoryOwnFile();
    const first = new SessionService(store, {
      searchDatabase: memorySearchDatabase,
      sleep: noSleep,
      savedCatalog: cache,
      watch: false,
      catalog: { maxAgeMs: 0 },
    });
    const cold = await first.list(LIST);
    await first.close(); // saves the cache
    expect(cache.text).not.toBeNull();

    store.put("s003.json", cliFile(cliSession("s003", { title: "changed while stopped" })), { silent: true });
    const loader = countingLoader(store);
    const second = new SessionService(store, {
      searchDatabase: memorySearchDatabase,
      sleep: noSleep,
      savedCatalog: cache,
      loader,
      watch: false,
      catalog: { maxAgeMs: 0 },
    });
    const warm = await second.list(LIST);
    expect(loader.loads.filter((load) => !load.options.search).map((load) => load.name)).toEqual(["s003.json"]);
    expect(warm.total).toBe(cold.total);
    expect(warm.sessions.find((s) => s.id === "s003")?.title).toBe("changed while stopped");
    expect(warm.sessions.filter((s) => s.id !== "s003")).toEqual(cold.sessions.filter((s) => s.id !== "s003"));
  });

  it("searches message text after a restart (the text is indexed again, not cached)", async () => {
    const store = sessions(3);
    store.put("special.json", cliFile(cliSession("special", { messages: [{ role: "user", content: "a zebra crossing" }] })));
    const cache = new MemoryOwnFile();
    const first = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep, savedCatalog: cache, watch: false });
    await first.list(LIST);
    await first.close();

    const second = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep, savedCatalog: cache, watch: false });
    expect((await second.search(searchQuery("zebra"))).map((s) => s.id)).toEqual(["special"]);
  });

  it("ignores a damaged or foreign cache and scans instead", async () => {
    for (const text of [
      "{",
      "[]",
      JSON.stringify({ format: "other", files: [] }),
      JSON.stringify({ format: "opta-sessions/catalog@1", files: [{ name: 1 }] }),
    ]) {
      const cache = new MemoryOwnFile();
      cache.text = text;
      const service = new SessionService(sessions(2), { searchDatabase: memorySearchDatabase, sleep: noSleep, savedCatalog: cache, watch: false });
      expect((await service.list(LIST)).total).toBe(2);
    }
  });
});

describe("index.json", () => {
  it("never changes an answer, whatever it says", async () => {
    const store = sessions(3);
    const service = new SessionService(store, { searchDatabase: memorySearchDatabase, sleep: noSleep });
    const before = await service.list(LIST);
    store.put("index.json", JSON.stringify({ entries: { ghost: { title: "ghost", created: "2030-01-01" }, s000: { title: "lie" } }, updatedAt: "x" }));
    expect(await service.list(LIST)).toEqual(before);
    store.put("index.json", "{ truncated");
    expect(await service.list(LIST)).toEqual(before);
  });
});

describe("the catalog's files it leaves out or repairs", () => {
  it("leaves a file over the size limit out of list, total and search without ever reading it, with one warning", async () => {
    const store = sessions(2);
    store.put("big.json", cliFile(cliSession("big", { messages: [{ role: "user", content: "x".repeat(2000) }] })));
    const loader = countingLoader(store);
    const warnings: string[] = [];
    // No watch and no listing cache: every answer re-checks the store, as a Worker's would.
    const service = new SessionService(store, {
      searchDatabase: memorySearchDatabase,
      loader,
      sleep: noSleep,
      watch: false,
      maxSessionBytes: 1000,
      warn: (line) => warnings.push(line),
    });
    for (let i = 0; i < 3; i++) {
      expect((await service.list(LIST)).sessions.map((s) => s.id)).toEqual(["s001", "s000"]);
      expect((await service.search(searchQuery("big"))).map((s) => s.id)).toEqual([]);
    }
    expect(loader.loads.map((load) => load.name)).not.toContain("big.json");
    expect(warnings).toEqual(["skipping big.json: larger than the limit of 1000 bytes (--max-session-mb, or OPTA_MAX_SESSION_MB)"]);
  });

  it("serves a file with bytes after its session from that session, warning once per change of the file", async () => {
    const store = sessions(1);
    const tail = '\n  "toolCallCount": 0,\n  "compacted": false\n}';
    store.put("twice.json", `${cliFile(cliSession("twice"))}${tail}`);
    const warnings: string[] = [];
    const service = new SessionService(store, {
      searchDatabase: memorySearchDatabase,
      sleep: noSleep,
      watch: false,
      catalog: { maxAgeMs: 0 },
      warn: (line) => warnings.push(line),
    });
    for (let i = 0; i < 3; i++) expect((await service.list(LIST)).sessions.map((s) => s.id)).toEqual(["twice", "s000"]);
    const warning = "twice.json holds other bytes after its session (two overlapping CLI saves): served from the session before them";
    expect(warnings).toEqual([warning]);
    store.put("twice.json", `${cliFile(cliSession("twice", { title: "again" }))}${tail}`);
    expect((await service.list(LIST)).sessions.find((s) => s.id === "twice")?.title).toBe("again");
    expect(warnings).toEqual([warning, warning]);
  });
});
