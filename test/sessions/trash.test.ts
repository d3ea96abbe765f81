import { describe, expect, it, vi } from "vitest";
import { SessionExists, SessionNotFound, TrashItemNotFound } from "../../src/http/errors.js";
import { SessionService } from "../../src/sessions/service.js";
import { SessionTrash } from "../../src/sessions/trash.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { MemoryTrash } from "../../src/storage/memory-trash.js";
import type { TrashStore } from "../../src/storage/store.js";
import { cliFile, cliSession, memorySearchDatabase, storeWith } from "../fixtures/sessions.js";

const DAY = 86_400_000;
const START = Date.parse("2026-07-01T12:00:00.000Z");
const MAX_AGE = 30 * DAY;
const EVERY_ITEM = { limit: 200, offset: 0 };

const entryOf = (id: string) => ({ title: `Session ${id}`, messageCount: 3 });
const indexFile = (ids: string[]) =>
  cliFile({ entries: Object.fromEntries(ids.map((id) => [id, entryOf(id)])), updatedAt: "2026-06-01T00:00:00.000Z", cliField: [1, 2] });

interface Setup {
  sessions?: Record<string, unknown>[];
  /** The ids index.json lists; no index.json without. */
  index?: string[];
  store?: MemoryStore;
  bin?: TrashStore;
}

/** A SessionTrash over memory stores, a clock the test moves, and what the trash reported. */
function setup(options: Setup = {}) {
  const { sessions = [cliSession("abc"), cliSession("other")], index } = options;
  const store = options.store ?? storeWith(sessions, index ? { "index.json": indexFile(index) } : {});
  const bin = options.bin ?? new MemoryTrash(store);
  const clock = { now: START };
  const warnings: string[] = [];
  const changed: string[] = [];
  const trash = new SessionTrash(store, bin, {
    now: () => clock.now,
    warn: (line) => warnings.push(line),
    changed: (name) => {
      changed.push(name);
    },
    maxAgeMs: MAX_AGE,
  });
  return { store, bin, clock, warnings, changed, trash };
}

async function textIn(bin: TrashStore, name: string): Promise<string | null> {
  const file = await bin.read(name);
  return file.status === "ok" ? file.text : null;
}

async function namesIn(bin: TrashStore): Promise<string[]> {
  return (await bin.list()).map((entry) => entry.name).sort();
}

function indexOf(store: MemoryStore): { entries: Record<string, unknown>; updatedAt: string; cliField: unknown } {
  return JSON.parse(store.get("index.json") ?? "null");
}

describe("take: a delete moves the session into the trash", () => {
  it("moves the file under <id>.<time>, drops its index entry, and notes its summary and that entry", async () => {
    const { store, bin, trash, changed, warnings } = setup({ index: ["abc", "other"] });
    expect(await trash.delete("abc")).toBe(`abc.${START}`);
    expect(store.get("abc.json")).toBeUndefined();
    expect(await textIn(bin, `abc.${START}.json`)).toBe(cliFile(cliSession("abc")));
    expect(JSON.parse((await textIn(bin, `abc.${START}.meta.json`)) ?? "null")).toEqual({
      summary: expect.objectContaining({ id: "abc", title: "Session abc", message_count: 2 }),
      index_entry: entryOf("abc"),
    });
    expect(indexOf(store)).toEqual({ entries: { other: entryOf("other") }, updatedAt: "2026-07-01T12:00:00.000Z", cliField: [1, 2] });
    expect(changed).toEqual(["abc.json"]);
    expect(warnings).toEqual([]);
  });

  it("notes no index entry when index.json had none, so a restore leaves index.json as it is", async () => {
    const { store, bin, trash } = setup({ index: ["other"] });
    const indexBefore = store.get("index.json");
    await trash.delete("abc");
    expect(Object.keys(JSON.parse((await textIn(bin, `abc.${START}.meta.json`)) ?? "null"))).toEqual(["summary"]);
    await trash.restore("abc");
    expect(store.get("index.json")).toBe(indexBefore);
  });

  it("gives two deletes of one id within one millisecond items of their own", async () => {
    const { store, bin, trash } = setup();
    await trash.delete("abc");
    store.put("abc.json", cliFile(cliSession("abc", { title: "second life" })));
    expect(await trash.delete("abc")).toBe(`abc.${START + 1}`);
    expect(await namesIn(bin)).toEqual([`abc.${START}.json`, `abc.${START}.meta.json`, `abc.${START + 1}.json`, `abc.${START + 1}.meta.json`]);
  });

  it.each(["nosuch", "index", "INDEX"])("answers SessionNotFound for %s and changes nothing", async (id) => {
    const { store, bin, trash, changed } = setup({ index: ["abc"] });
    const indexBefore = store.get("index.json");
    await expect(trash.delete(id)).rejects.toBeInstanceOf(SessionNotFound);
    expect(store.get("index.json")).toBe(indexBefore);
    expect(await namesIn(bin)).toEqual([]);
    expect(changed).toEqual([]);
  });

  it("still deletes when the note cannot be written, and says so in one line; the item lists without a summary", async () => {
    const { bin, trash, warnings } = setup();
    bin.write = async () => {
      throw new Error("disk full");
    };
    expect(await trash.delete("abc")).toBe(`abc.${START}`);
    expect(await namesIn(bin)).toEqual([`abc.${START}.json`]);
    expect((await trash.list()).map((item) => item.session)).toEqual([null]);
    expect(warnings).toEqual(["deleted abc into the trash but could not write its note: disk full"]);
  });

  it("still deletes when index.json cannot be rewritten, or keeps changing, and says which", async () => {
    class FailingIndex extends MemoryStore {
      failure: "throws" | "races" = "throws";
      override async replace(): Promise<boolean> {
        if (this.failure === "throws") throw new Error("read-only file system");
        return false;
      }
    }
    const store = new FailingIndex({
      "abc.json": cliFile(cliSession("abc")),
      "other.json": cliFile(cliSession("other")),
      "index.json": indexFile(["abc", "other"]),
    });
    const { trash, warnings } = setup({ store });
    expect(await trash.delete("abc")).toBe(`abc.${START}`);
    store.failure = "races";
    expect(await trash.delete("other")).toBe(`other.${START + 1}`);
    expect(indexOf(store).entries).toEqual({ abc: entryOf("abc"), other: entryOf("other") });
    expect(warnings).toEqual([
      "deleted abc but could not update index.json: read-only file system",
      "deleted other but index.json kept changing under us: left it as the CLI wrote it",
    ]);
  });
});

describe("without a trash store", () => {
  it("a delete removes for good and answers null; there is nothing to list, restore or purge", async () => {
    const store = storeWith([cliSession("abc"), cliSession("other")], { "index.json": indexFile(["abc", "other"]) });
    const trash = new SessionTrash(store, null, { now: () => START, warn: () => {}, changed: () => {} });
    expect(await trash.delete("abc")).toBeNull();
    expect(store.get("abc.json")).toBeUndefined();
    expect(Object.keys(indexOf(store).entries)).toEqual(["other"]);
    expect(await trash.list()).toEqual([]);
    await expect(trash.restore("abc")).rejects.toBeInstanceOf(TrashItemNotFound);
    await expect(trash.purge("abc")).rejects.toBeInstanceOf(TrashItemNotFound);
    expect(await trash.purgeExpired()).toBe(0);
  });
});

describe("list", () => {
  it("lists newest deletion first, with its times, size and the summary from its note", async () => {
    const { clock, trash } = setup();
    await trash.delete("abc");
    clock.now += DAY;
    await trash.delete("other");
    expect(await trash.list()).toEqual([
      {
        id: `other.${START + DAY}`,
        session_id: "other",
        deleted_at: "2026-07-02T12:00:00.000Z",
        purge_at: "2026-08-01T12:00:00.000Z",
        size: cliFile(cliSession("other")).length,
        session: expect.objectContaining({ id: "other", title: "Session other" }),
      },
      {
        id: `abc.${START}`,
        session_id: "abc",
        deleted_at: "2026-07-01T12:00:00.000Z",
        purge_at: "2026-07-31T12:00:00.000Z",
        size: cliFile(cliSession("abc")).length,
        session: expect.objectContaining({ id: "abc", title: "Session abc" }),
      },
    ]);
  });

  it("pages with offset and limit, and keeps to one session's items when asked", async () => {
    const ids = ["s0", "s1", "s2", "s3", "s4"];
    const { store, clock, trash } = setup({ sessions: ids.map((id) => cliSession(id)) });
    for (const id of ids) {
      await trash.delete(id);
      clock.now += 1000;
    }
    store.put("s1.json", cliFile(cliSession("s1")));
    await trash.delete("s1");
    const idsOf = async (query: Parameters<SessionTrash["list"]>[0]) => (await trash.list(query)).map((item) => item.id);
    expect(await idsOf({ limit: 2, offset: 1 })).toEqual([`s4.${START + 4000}`, `s3.${START + 3000}`]);
    expect(await idsOf({ limit: 50, offset: 5 })).toEqual([`s0.${START}`]);
    expect(await idsOf({ limit: 50, offset: 6 })).toEqual([]);
    expect(await idsOf({ limit: 50, offset: 0, session_id: "s1" })).toEqual([`s1.${START + 5000}`, `s1.${START + 1000}`]);
  });

  it("lists an item whose note is absent, not JSON, or holds no summary, with session null", async () => {
    const { bin, clock, trash } = setup({ sessions: ["a", "b", "c", "d"].map((id) => cliSession(id)) });
    for (const id of ["a", "b", "c", "d"]) {
      await trash.delete(id);
      clock.now += 1000;
    }
    await bin.remove(`a.${START}.meta.json`);
    await bin.write(`b.${START + 1000}.meta.json`, '{"summary":');
    await bin.write(`c.${START + 2000}.meta.json`, JSON.stringify({ summary: { id: "c", title: 42 } }));
    expect((await trash.list()).map((item) => [item.session_id, item.session?.id ?? null])).toEqual([
      ["d", "d"],
      ["c", null],
      ["b", null],
      ["a", null],
    ]);
  });

  it("lists only sessions: a leftover note or a stray file is no item", async () => {
    const { bin, trash } = setup();
    await bin.write(`gone.${START}.meta.json`, JSON.stringify({ summary: null }));
    await bin.write("stray.txt", "x");
    await bin.write("abc.json", "{}");
    expect(await trash.list()).toEqual([]);
  });

  it("reads a few notes at a time, never every item's at once (200 items: at most 8 open)", async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `s${i}`);
    const { bin, trash } = setup({ sessions: ids.map((id) => cliSession(id)) });
    for (const id of ids) await trash.delete(id);
    let open = 0;
    let mostOpen = 0;
    const read = bin.read.bind(bin);
    bin.read = async (name) => {
      mostOpen = Math.max(mostOpen, ++open);
      await new Promise(setImmediate); // held open across a turn of the event loop, as a file read is
      open--;
      return read(name);
    };
    const items = await trash.list(EVERY_ITEM);
    expect(items).toHaveLength(200);
    expect(items.every((item) => item.session !== null)).toBe(true);
    expect(mostOpen).toBeGreaterThan(1);
    expect(mostOpen).toBeLessThanOrEqual(8);
  });
});

describe("restore", () => {
  it("puts the file back as it was, its index entry back, and the note away", async () => {
    const { store, bin, trash, changed } = setup({ index: ["abc", "other"] });
    const before = store.get("abc.json");
    await trash.delete("abc");
    expect(await trash.restore(`abc.${START}`)).toBe("abc");
    expect(store.get("abc.json")).toBe(before);
    expect(indexOf(store)).toEqual({ entries: { other: entryOf("other"), abc: entryOf("abc") }, updatedAt: "2026-07-01T12:00:00.000Z", cliField: [1, 2] });
    expect(await namesIn(bin)).toEqual([]);
    expect(changed).toEqual(["abc.json", "abc.json"]);
  });

  it("restores a session id's most recently deleted item", async () => {
    const { store, clock, trash } = setup();
    await trash.delete("abc");
    store.put("abc.json", cliFile(cliSession("abc", { title: "second life" })));
    clock.now += 1000;
    await trash.delete("abc");
    expect(await trash.restore("abc")).toBe("abc");
    expect(JSON.parse(store.get("abc.json") ?? "null").title).toBe("second life");
    expect((await trash.list()).map((item) => item.id)).toEqual([`abc.${START}`]);
  });

  it("refuses with SessionExists when the id exists again, changing nothing", async () => {
    const { store, bin, trash } = setup();
    await trash.delete("abc");
    store.put("abc.json", cliFile(cliSession("abc", { title: "new one" })));
    await expect(trash.restore(`abc.${START}`)).rejects.toBeInstanceOf(SessionExists);
    await expect(trash.restore("abc")).rejects.toBeInstanceOf(SessionExists);
    expect(JSON.parse(store.get("abc.json") ?? "null").title).toBe("new one");
    expect(await namesIn(bin)).toEqual([`abc.${START}.json`, `abc.${START}.meta.json`]);
  });

  it.each([`abc.${START}`, "abc", `index.${START}`])("answers TrashItemNotFound for %s when the trash holds no such item", async (id) => {
    const { store, trash } = setup();
    await expect(trash.restore(id)).rejects.toBeInstanceOf(TrashItemNotFound);
    expect(store.get("abc.json")).toBe(cliFile(cliSession("abc")));
  });

  it.each([
    ["absent", null],
    ["not JSON", "{"],
  ])("puts the file back without touching index.json when the note is %s", async (_kind, note) => {
    const { store, bin, trash } = setup({ index: ["abc", "other"] });
    await trash.delete("abc");
    const indexAfterDelete = store.get("index.json");
    if (note === null) await bin.remove(`abc.${START}.meta.json`);
    else await bin.write(`abc.${START}.meta.json`, note);
    expect(await trash.restore(`abc.${START}`)).toBe("abc");
    expect(store.get("abc.json")).toBe(cliFile(cliSession("abc")));
    expect(store.get("index.json")).toBe(indexAfterDelete);
    expect(await namesIn(bin)).toEqual([]);
  });

  it("leaves an index entry the CLI wrote since the delete (the newer one wins)", async () => {
    const { store, trash } = setup({ index: ["abc", "other"] });
    await trash.delete("abc");
    store.put("index.json", cliFile({ entries: { abc: { title: "newer" } }, updatedAt: "2026-07-01T13:00:00.000Z" }));
    await trash.restore(`abc.${START}`);
    expect(indexOf(store).entries).toEqual({ abc: { title: "newer" } });
  });
});

describe("purge", () => {
  it("removes an item and its note for good, by item id or by session id", async () => {
    const { store, bin, trash } = setup();
    await trash.delete("abc");
    await trash.delete("other");
    await trash.purge(`abc.${START}`);
    await trash.purge("other");
    expect(await namesIn(bin)).toEqual([]);
    expect(store.get("abc.json")).toBeUndefined();
    await expect(trash.restore(`abc.${START}`)).rejects.toBeInstanceOf(TrashItemNotFound);
  });

  it("removes a note left without its session, then finds nothing more", async () => {
    const { bin, trash } = setup();
    await bin.write(`gone.${START}.meta.json`, JSON.stringify({ summary: null }));
    await trash.purge(`gone.${START}`);
    expect(await namesIn(bin)).toEqual([]);
    await expect(trash.purge(`gone.${START}`)).rejects.toBeInstanceOf(TrashItemNotFound);
  });

  it.each([`abc.${START}`, "abc"])("answers TrashItemNotFound for %s when the trash holds no such item", async (id) => {
    const { trash } = setup();
    await expect(trash.purge(id)).rejects.toBeInstanceOf(TrashItemNotFound);
  });
});

describe("purgeExpired: the maximum age", () => {
  it("purges what was deleted the maximum age ago or longer, leftover notes included, and says how many in one line", async () => {
    const { bin, clock, trash, warnings } = setup();
    await trash.delete("abc");
    await bin.write(`gone.${START}.meta.json`, JSON.stringify({ summary: null }));
    clock.now += 10 * DAY;
    await trash.delete("other");
    clock.now = START + MAX_AGE - 1;
    expect(await trash.purgeExpired()).toBe(0);
    expect(warnings).toEqual([]);
    clock.now = START + MAX_AGE;
    expect(await trash.purgeExpired()).toBe(1);
    expect(await namesIn(bin)).toEqual([`other.${START + 10 * DAY}.json`, `other.${START + 10 * DAY}.meta.json`]);
    expect(warnings).toEqual(["purged 1 deleted session(s) from the trash: deleted more than 30 day(s) ago"]);
  });

  it("purges on a schedule what was deleted longer ago than the maximum age, with one log line", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const store = storeWith([cliSession("old"), cliSession("new")]);
      const clock = { now: START };
      const warnings: string[] = [];
      const service = new SessionService(store, {
        searchDatabase: memorySearchDatabase,
        trash: new MemoryTrash(store),
        now: () => clock.now,
        trashMaxAgeMs: 30 * DAY,
        warn: (line) => warnings.push(line),
      });
      await service.delete("old");
      clock.now += 10 * DAY;
      await service.delete("new");
      const stop = service.trash.startPurging(60_000);
      clock.now = START + 30 * DAY + 1;
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(async () => expect((await service.trash.list()).map((item) => item.session_id)).toEqual(["new"]));
      expect(warnings).toEqual(["purged 1 deleted session(s) from the trash: deleted more than 30 day(s) ago"]);
      stop();
      clock.now += 60 * DAY;
      await vi.advanceTimersByTimeAsync(120_000);
      expect((await service.trash.list()).length).toBe(1); // stopped: nothing more happens
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("recoverInterrupted", () => {
  it("has the trash store finish interrupted deletes, each named as a new item, and says so once", async () => {
    const asked: string[] = [];
    const bin: TrashStore = Object.assign(new MemoryTrash(new MemoryStore()), {
      recover: async (trashNameOf: (name: string) => string) => {
        asked.push(trashNameOf("abc.json"), trashNameOf("odd"));
        return asked.length;
      },
    });
    const { trash, warnings } = setup({ bin });
    await trash.recoverInterrupted();
    expect(asked).toEqual([`abc.${START}.json`, `unknown.${START + 1}.json`]);
    expect(warnings).toEqual(["finished 2 delete(s) interrupted by a stop: put back, or into the trash where the CLI had made the session again"]);
  });

  it("says nothing when nothing was interrupted, or the trash store has nothing to recover", async () => {
    const bin: TrashStore = Object.assign(new MemoryTrash(new MemoryStore()), { recover: async () => 0 });
    const quiet = setup({ bin });
    await quiet.trash.recoverInterrupted();
    const memory = setup();
    await memory.trash.recoverInterrupted();
    expect([...quiet.warnings, ...memory.warnings]).toEqual([]);
  });
});
