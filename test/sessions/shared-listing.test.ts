import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it, onTestFinished } from "vitest";
import { ListQuerySchema, RankedSearchQuerySchema } from "../../src/http/schemas.js";
import { openSqlite } from "../../src/node/sqlite.js";
import type { SqlDatabase } from "../../src/sessions/search/sql.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { MemoryTrash } from "../../src/storage/memory-trash.js";
import { cliFile, cliSession, sessionsFor } from "../fixtures/sessions.js";

/**
 * The Worker's listing (SharedListing: everything from the index's database) against the Node one
 * (LocalListing: a catalog in memory), over the same sessions stored the same way: every answer alike.
 * Then what only the shared one does: a write cut short halfway repairs itself, and reconcile.
 */

const MTIME = Date.parse("2026-01-02T03:04:05.678Z");
const REAL = new URL("../fixtures/real-cli-sessions/sessions/", import.meta.url);
const MODELS = ["MiniMax-M2.5-5bit", "qwen3-coder-30b", "Llama-3.3-70B", null];
const CWDS = ["/Users/dev/project", "/Users/dev/Other", "/tmp/scratch"];

/** Real CLI files, and generated ones over models, tags, directories and times (some with no usable time, some tied). */
function corpus(): { id: string; text: string }[] {
  const real = readdirSync(REAL)
    .filter((name) => name !== "index.json")
    .map((name) => ({ id: name.replace(/\.json$/, ""), text: readFileSync(new URL(name, REAL), "utf8") }));
  const generated = Array.from({ length: 60 }, (_, i) => {
    const day = String(1 + (i % 28)).padStart(2, "0");
    const updated = i % 11 === 0 ? "" : i % 7 === 0 ? "not a date" : `2026-0${1 + (i % 3)}-${day}T0${i % 10}:00:00Z`;
    const session = cliSession(`g${String(i).padStart(3, "0")}`, {
      updated,
      created: i % 11 === 0 ? "" : "2025-12-31T00:00:00Z",
      model: MODELS[i % MODELS.length],
      cwd: CWDS[i % CWDS.length],
      tags: i % 3 === 0 ? ["bug", "Ops"] : i % 5 === 0 ? ["feature"] : [],
      title: i % 4 === 0 ? null : `Title ${i} kiwi`,
      messages: [
        { role: "user", content: `question ${i} about the ${i % 2 ? "ring buffer" : "parser"}` },
        { role: "assistant", content: `answer ${i}` },
      ],
    });
    return { id: String(session.id), text: cliFile(session) };
  });
  return [...real, ...generated];
}

async function database(): Promise<SqlDatabase> {
  const db = await openSqlite(":memory:");
  onTestFinished(() => db.close());
  return db;
}

async function bothListings() {
  const local = sessionsFor(new MemoryStore(), { searchDatabase: database });
  const sharedDb = await database();
  const shared = sessionsFor(new MemoryStore(), { searchDatabase: async () => sharedDb, sharedIndex: true });
  for (const { id, text } of corpus()) {
    const bytes = new TextEncoder().encode(text);
    await local.put(id, bytes, MTIME);
    await shared.put(id, bytes, MTIME);
  }
  return { local, shared, sharedDb };
}

const LIST_QUERIES = [
  {},
  { limit: "7", offset: "3" },
  { limit: "200", offset: "69" },
  { model: "QWEN" },
  { model: "m" },
  { tag: "bug" },
  { tag: "ops" },
  { since: "2026-02-01", until: "2026-03-01" },
  { cwd: "other", tag: "feature" },
  { model: "llama", since: "2026-01-15", limit: "3" },
];

describe("the shared listing answers as the local one does", () => {
  it("lists every page and filter alike: the same summaries, order and totals", async () => {
    const { local, shared } = await bothListings();
    for (const params of LIST_QUERIES) {
      const query = ListQuerySchema.parse(params);
      expect({ params, answer: await shared.list(query) }).toEqual({ params, answer: await local.list(query) });
    }
    expect((await shared.list(ListQuerySchema.parse({}))).total).toBe(corpus().length);
  });

  it("searches alike, and the manifest holds the same digests", async () => {
    const { local, shared } = await bothListings();
    for (const q of ["kiwi", "ring buffer", '"ring buffer"', "parser -kiwi", "tag:bug model:qwen", "answer", "zzz"]) {
      const query = RankedSearchQuerySchema.parse({ q, limit: "5", hits: "2" });
      expect({ q, answer: await shared.rankedSearch(query) }).toEqual({ q, answer: await local.rankedSearch(query) });
    }
    expect(await shared.manifest()).toEqual(await local.manifest());
  });

  it("follows delete and restore, and its counter-kept total stays exact", async () => {
    const store = new MemoryStore();
    const shared = sessionsFor(store, { searchDatabase: database, sharedIndex: true, trash: new MemoryTrash(store) });
    for (const id of ["a", "b", "c"]) await shared.put(id, new TextEncoder().encode(cliFile(cliSession(id))), MTIME);
    await shared.put("a", new TextEncoder().encode(cliFile(cliSession("a", { title: "again" }))), MTIME); // replaced, not counted twice
    const trashId = await shared.delete("b");
    const ids = async () => (await shared.list(ListQuerySchema.parse({}))).sessions.map((s) => s.id);
    expect([await ids(), (await shared.list(ListQuerySchema.parse({}))).total]).toEqual([["a", "c"], 2]);
    await shared.trash.restore(trashId ?? "");
    expect([await ids(), (await shared.list(ListQuerySchema.parse({}))).total]).toEqual([["a", "b", "c"], 3]);
  });
});

/** SQLite whose next `failures` batches that write the index fail, as a Worker cut off between R2 and D1 would leave it. */
function failingWrites(db: SqlDatabase): SqlDatabase & { failures: number } {
  const wrapper = {
    failures: 0,
    maxTextLength: db.maxTextLength,
    all: db.all.bind(db),
    async batch(statements: Parameters<SqlDatabase["batch"]>[0]) {
      const pendingOnly = statements.every((s) => s.sql.includes("search_pending") && !s.sql.includes("DELETE"));
      if (!pendingOnly && wrapper.failures > 0) {
        wrapper.failures--;
        throw new Error("cut off");
      }
      return db.batch(statements);
    },
  };
  return wrapper;
}

describe("a write cut short halfway repairs itself", () => {
  it("a PUT whose object was written but not its index is listed after a minute, at the next request", async () => {
    let now = MTIME;
    const db = failingWrites(await database());
    const shared = sessionsFor(new MemoryStore(), { searchDatabase: async () => db, sharedIndex: true, now: () => now });
    await shared.put("a", new TextEncoder().encode(cliFile(cliSession("a"))), MTIME);
    db.failures = 1;
    await expect(shared.put("b", new TextEncoder().encode(cliFile(cliSession("b", { title: "cut short" }))), MTIME)).rejects.toThrow("cut off");
    const titles = async () => (await shared.list(ListQuerySchema.parse({}))).sessions.map((s) => s.title);
    expect(await titles()).toEqual(["Session a"]);
    now += 61_000;
    expect(await titles()).toEqual(["Session a", "cut short"]);
  });

  it("a delete whose object moved but whose row stayed is dropped from the listing after a minute", async () => {
    let now = MTIME;
    const db = failingWrites(await database());
    const store = new MemoryStore();
    const shared = sessionsFor(store, { searchDatabase: async () => db, sharedIndex: true, now: () => now, trash: new MemoryTrash(store) });
    for (const id of ["a", "b"]) await shared.put(id, new TextEncoder().encode(cliFile(cliSession(id))), MTIME);
    db.failures = 1;
    await expect(shared.delete("b")).rejects.toThrow("cut off");
    expect((await shared.list(ListQuerySchema.parse({}))).total).toBe(2);
    now += 61_000;
    expect(await shared.list(ListQuerySchema.parse({}))).toMatchObject({ total: 1, sessions: [{ id: "a" }] });
  });
});

describe("reconcile", () => {
  it("indexes objects written by other means, removes rows of objects gone, records what is not a session, and reports", async () => {
    const store = new MemoryStore();
    const warnings: string[] = [];
    const shared = sessionsFor(store, { searchDatabase: database, sharedIndex: true, warn: (line) => warnings.push(line) });
    for (const id of ["kept", "gone"]) await shared.put(id, new TextEncoder().encode(cliFile(cliSession(id))), MTIME);
    store.put("other.json", cliFile(cliSession("other")));
    store.put("broken.json", "{ not json");
    await store.remove("gone.json");
    expect(await shared.reconcile()).toEqual({ objects: 3, indexed: 2, removed: 1, left: 0 });
    expect(warnings).toEqual([
      "reconcile: the bucket holds 3 sessions; 2 were not in the index or changed behind it (indexed now), 1 in the index had no object (removed)",
    ]);
    expect((await shared.list(ListQuerySchema.parse({}))).sessions.map((s) => s.id).sort()).toEqual(["kept", "other"]);
    expect(Object.keys((await shared.manifest()).sessions)).toEqual(["broken", "kept", "other"]);
    // nothing changed since: nothing read, nothing reported but agreement
    expect(await shared.reconcile()).toEqual({ objects: 3, indexed: 0, removed: 0, left: 0 });
  });
});
