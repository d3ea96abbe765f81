import { describe, expect, it, onTestFinished } from "vitest";
import { openSqlite } from "../../../src/node/sqlite.js";
import { parseSession, summarize } from "../../../src/sessions/parse.js";
import { searchDocumentOf } from "../../../src/sessions/search/document.js";
import { type IndexedSession, type SearchAnswer, SearchEngine, type SearchRequest } from "../../../src/sessions/search/engine.js";
import { parseQuery } from "../../../src/sessions/search/query.js";
import type { SqlDatabase, SqlValue } from "../../../src/sessions/search/sql.js";
import { cliSession } from "../../fixtures/sessions.js";

const DAY_MS = 24 * 3600 * 1000;
/** D1 refuses a string or blob over this many bytes. */
const D1_MAX_VALUE_BYTES = 2_000_000;
const NOW = Date.parse("2026-03-10T00:00:00Z");

interface Fields {
  title?: string;
  model?: string;
  tags?: string[];
  cwd?: string;
  user?: string;
  assistant?: string;
  more?: unknown[];
  /** Days before NOW it was updated; null: no usable time. */
  age?: number | null;
}

/** A session as the indexer hands it to the engine: parsed from the CLI's file, its document made. */
function indexed(id: string, fields: Fields = {}, stamp = "1"): IndexedSession {
  const messages = [{ role: "user", content: fields.user ?? "hello" }, { role: "assistant", content: fields.assistant ?? "hi" }, ...(fields.more ?? [])];
  const file = cliSession(id, {
    title: fields.title ?? "",
    model: fields.model ?? "plain-model",
    tags: fields.tags ?? [],
    cwd: fields.cwd ?? "/work",
    messages,
  });
  const session = parseSession(id, JSON.stringify(file));
  if (session === null) throw new Error(`${id} does not parse`);
  const age = fields.age === undefined ? 1 : fields.age;
  return {
    document: searchDocumentOf(session),
    stamp,
    time: age === null ? null : NOW - age * DAY_MS,
    summary: summarize(session),
    cwd: session.cwd,
    sha256: null,
  };
}

async function engineWith(sessions: IndexedSession[]): Promise<SearchEngine> {
  const db = await openSqlite(":memory:");
  onTestFinished(() => db.close());
  const engine = await SearchEngine.open(db);
  await engine.put(sessions);
  return engine;
}

function request(q: string, options: Partial<Omit<SearchRequest, "query">> = {}): SearchRequest {
  const parsed = parseQuery(q);
  if (!parsed.ok) throw new Error(`${q}: ${parsed.message}`);
  return { query: parsed.query, filters: {}, sort: "relevance", limit: 20, offset: 0, hits: 0, total: true, now: NOW, ...options };
}

const idsOf = (answer: SearchAnswer) => answer.results.map((result) => result.id);

const NEUTRAL_WORDS = "hello hi plain model work";

describe("SearchEngine", () => {
  describe("put and remove", () => {
    it("keeps each session's stamp, and answers from what was put", async () => {
      const engine = await engineWith([indexed("a", { user: "kiwi" }, "s1"), indexed("b", { user: "mango" }, "s2")]);
      expect(await engine.stamps()).toEqual(
        new Map([
          ["a", "s1"],
          ["b", "s2"],
        ]),
      );
      expect(idsOf(await engine.search(request("kiwi")))).toEqual(["a"]);
    });

    it("replaces a session's text when it is put again: its old words are gone, its new ones found, its stamp the new one", async () => {
      const engine = await engineWith([indexed("a", { title: "kiwi", user: "banana split" }, "s1"), indexed("b", { user: "kiwi" }, "s1")]);
      await engine.put([indexed("a", { title: "mango", user: "cherry pie", tags: ["fresh"] }, "s2")]);
      expect(await engine.stamps()).toEqual(
        new Map([
          ["a", "s2"],
          ["b", "s1"],
        ]),
      );
      expect(idsOf(await engine.search(request("kiwi")))).toEqual(["b"]);
      expect((await engine.search(request("banana"))).total).toBe(0);
      expect(idsOf(await engine.search(request('"cherry pie" mango tag:fresh')))).toEqual(["a"]);
      expect((await engine.search(request("kiwi", { hits: 3 }))).results[0]?.hits.map((hit) => hit.snippet)).toEqual(["kiwi"]);
    });

    it("leaves a removed session out of every answer; removing one it never had changes nothing", async () => {
      const engine = await engineWith([indexed("a", { user: "kiwi" }), indexed("b", { user: "kiwi" })]);
      await engine.remove(["a", "nosuch"]);
      expect(await engine.stamps()).toEqual(new Map([["b", "1"]]));
      expect(await engine.search(request("kiwi"))).toEqual({ results: [{ id: "b", score: expect.any(Number), hits: [] }], total: 1 });
      expect((await engine.search(request("model:plain"))).total).toBe(1);
      await engine.put([indexed("a", { user: "kiwi" }, "2")]);
      expect(idsOf(await engine.search(request("kiwi")))).toEqual(["a", "b"]);
    });

    it("keeps what it indexed when the database is opened again (a restart re-reads nothing)", async () => {
      const db = await openSqlite(":memory:");
      onTestFinished(() => db.close());
      await (await SearchEngine.open(db)).put([indexed("a", { user: "kiwi" }, "s1")]);
      const reopened = await SearchEngine.open(db);
      expect(await reopened.stamps()).toEqual(new Map([["a", "s1"]]));
      expect(idsOf(await reopened.search(request("kiwi")))).toEqual(["a"]);
    });
  });

  describe("pages", () => {
    // Each query found five sessions, every kind of plan: exact words, a short term, a sequence, operators alone, exclusions.
    const sessions = Array.from({ length: 7 }, (_, i) =>
      indexed(`s${i}`, { user: i < 5 ? `kiwi k src/a.ts ${i % 2 ? "" : "even"}` : NEUTRAL_WORDS, model: i < 5 ? "qwen" : "llama", age: i }),
    );

    it.each(["kiwi", "k", "src/a.ts", "model:qwen", "kiwi -llama", "k -mango", '"src a"'])(
      "%s: total counts every match; offset and limit cut the one order",
      async (q) => {
        const engine = await engineWith(sessions);
        const all = await engine.search(request(q, { limit: 100 }));
        expect(all.total).toBe(5);
        expect(all.results).toHaveLength(5);
        const page = await engine.search(request(q, { limit: 2, offset: 1 }));
        expect(page.total).toBe(5);
        expect(idsOf(page)).toEqual(idsOf(all).slice(1, 3));
        expect(await engine.search(request(q, { offset: 5 }))).toEqual({ results: [], total: 5 });
      },
    );

    it("counts every match in total, past the candidates it scores for one page", async () => {
      const engine = await engineWith(Array.from({ length: 150 }, (_, i) => indexed(`s${i}`, { user: i % 3 ? "kiwi" : "kiwi banana", age: i })));
      for (const sort of ["relevance", "recent"] as const) {
        expect((await engine.search(request("kiwi", { sort, limit: 1 }))).total).toBe(150);
        expect((await engine.search(request("kiwi -banana", { sort, limit: 1 }))).total).toBe(100);
        expect((await engine.search(request("kiwi", { sort, limit: 1, offset: 149 }))).results).toHaveLength(1);
      }
    });

    it("keeps the list's order with sort=recent: newest first, ties by id, no usable time last", async () => {
      const engine = await engineWith([
        indexed("notime", { title: "kiwi", age: null }),
        indexed("old", { title: "kiwi", age: 9 }),
        indexed("b", { user: "kiwi", age: 2 }),
        indexed("a", { assistant: "kiwi", age: 2 }),
      ]);
      expect(idsOf(await engine.search(request("kiwi", { sort: "recent" })))).toEqual(["a", "b", "old", "notime"]);
      expect(idsOf(await engine.search(request("kiwi", { sort: "recent", limit: 2, offset: 1 })))).toEqual(["b", "old"]);
      expect(idsOf(await engine.search(request("kiwi")))).toEqual(["old", "notime", "b", "a"]);
    });

    it("reports at most `hits` hits per session, best first", async () => {
      const more = [
        { role: "user", content: "kiwi again" },
        { role: "assistant", content: "a kiwi" },
      ];
      const engine = await engineWith([indexed("a", { title: "kiwi", user: "kiwi", more })]);
      const where = async (hits: number) => (await engine.search(request("kiwi", { hits }))).results[0]?.hits.map((hit) => [hit.field, hit.message_index]);
      expect(await where(0)).toEqual([]);
      expect(await where(2)).toEqual([
        ["title", null],
        ["message", 0],
      ]);
      expect(await where(50)).toEqual([
        ["title", null],
        ["message", 0],
        ["message", 2],
        ["message", 3],
      ]);
    });
  });

  describe("filters", () => {
    const sessions = [
      indexed("qwen", { model: "Qwen3-Coder", tags: ["BugFix"], cwd: "/Users/dev/Opta-LMX", user: "kiwi", age: 1 }),
      indexed("llama", { model: "llama-3", tags: ["bugfix", "ui"], cwd: "/Users/dev/other", user: "kiwi", age: 5 }),
      indexed("notime", { model: "qwen-mini", user: "kiwi", age: null }),
    ];
    const since = (days: number) => NOW - days * DAY_MS;

    it.each<[string, string, SearchRequest["filters"], string[]]>([
      ["model, ignoring case", "kiwi", { model: "QWEN" }, ["qwen", "notime"]],
      ["tag, exactly", "kiwi", { tag: "bugfix" }, ["llama"]],
      ["cwd, ignoring case", "kiwi", { cwd: "opta-lmx" }, ["qwen"]],
      ["since, never a session with no time", "kiwi", { since: since(3) }, ["qwen"]],
      ["until, before it", "kiwi", { until: since(3) }, ["llama"]],
      ["the operators and the parameters, both", "model:qwen tag:BUGFIX", { cwd: "users" }, ["qwen"]],
      ["an operator and its parameter disagreeing", "model:llama", { model: "qwen" }, []],
      ["since: and until: operators", "since:2026-03-04 until:2026-03-08T12:00:00Z", {}, ["llama"]],
      ["session:", "session:llama kiwi", {}, ["llama"]],
    ])("narrows by %s", async (_label, q, filters, expected) => {
      const engine = await engineWith(sessions);
      const answer = await engine.search(request(q, { filters }));
      expect(idsOf(answer)).toEqual(expected);
      expect(answer.total).toBe(expected.length);
    });
  });

  describe("typos", () => {
    it("finds the index's words one letter inserted, deleted, replaced or two swapped from a term, in any alphabet", async () => {
      const engine = await engineWith([indexed("latin", { user: "tokenizer" }), indexed("cyrillic", { user: "привет" }), indexed("greek", { user: "λόγος" })]);
      for (const q of ["tokenizr", "tokenizzer", "tokenixer", "tokeniezr"]) expect(idsOf(await engine.search(request(q)))).toEqual(["latin"]);
      for (const q of ["привт", "приввет", "приват", "пирвет"]) expect(idsOf(await engine.search(request(q)))).toEqual(["cyrillic"]);
      expect(idsOf(await engine.search(request("λογοι")))).toEqual(["greek"]);
      expect(idsOf(await engine.search(request("tokenzr")))).toEqual([]); // two edits
    });
  });

  describe("within D1's limits", () => {
    /** SQLite that refuses what D1 refuses: a value over 2,000,000 bytes. */
    function d1Like(db: SqlDatabase): SqlDatabase {
      const check = (params: SqlValue[] = []) => {
        for (const value of params) {
          if (typeof value === "string" && new TextEncoder().encode(value).length > D1_MAX_VALUE_BYTES) throw new Error("D1: string or blob too big");
        }
      };
      return {
        maxTextLength: 600_000,
        all(sql, params) {
          check(params);
          return db.all(sql, params);
        },
        batch(statements) {
          for (const { params } of statements) check(params);
          return db.batch(statements);
        },
      };
    }

    it("looks long terms up (a 200-letter one has no typo in the index) without a value D1 refuses", async () => {
      const db = await openSqlite(":memory:");
      onTestFinished(() => db.close());
      const engine = await SearchEngine.open(d1Like(db));
      const long = "abcdefghij".repeat(20);
      await engine.put([indexed("a", { user: long }), indexed("b", { user: "kiwi" })]);
      expect(idsOf(await engine.search(request(long)))).toEqual(["a"]);
      expect(idsOf(await engine.search(request("x".repeat(200))))).toEqual([]);
      // the longest term a typo is looked up for, in a script of three UTF-8 bytes a letter
      expect(idsOf(await engine.search(request(Array.from({ length: 33 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join(""))))).toEqual([]);
    });
  });

  describe("sessions longer than a value the database takes (D1)", () => {
    /** SQLite that says, as D1 does, that it takes values of at most `max` characters. */
    const smallValues = (db: SqlDatabase, max: number): SqlDatabase => ({
      maxTextLength: max,
      all: (sql, params) => db.all(sql, params),
      batch: (s) => db.batch(s),
    });
    const long = (last: string) => ({
      more: Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: i === 38 ? last : `filler words of message ${i}` })),
    });

    it("finds a term past the full-text index's cut, counts it once, in every sort and plan", async () => {
      const db = await openSqlite(":memory:");
      onTestFinished(() => db.close());
      const engine = await SearchEngine.open(smallValues(db, 500));
      await engine.put([indexed("cut", { user: "kiwi first", ...long("needle kiwi"), age: 2 }), indexed("whole", { user: "needle kiwi", age: 1 })]);
      for (const q of ["needle", "needle kiwi", '"needle kiwi"', "kiwi", "needle -banana", "ne", "model:plain"]) {
        for (const sort of ["relevance", "recent"] as const) {
          const answer = await engine.search(request(q, { sort, hits: 1 }));
          expect({ q, sort, ids: idsOf(answer).sort(), total: answer.total }).toEqual({ q, sort, ids: ["cut", "whole"], total: 2 });
        }
      }
      const [hit] = (await engine.search(request("needle session:cut", { hits: 1 }))).results[0]?.hits ?? [];
      expect(hit?.message_index).toBe(40);
      expect(idsOf(await engine.search(request("kiwi -needle")))).toEqual([]);
      expect(idsOf(await engine.search(request("needle", { sort: "recent" })))).toEqual(["whole", "cut"]);
      // reopened, it still knows which sessions are cut; put again short, that one is whole
      const reopened = await SearchEngine.open(smallValues(db, 500));
      expect((await reopened.search(request("needle"))).total).toBe(2);
      await reopened.put([indexed("cut", { user: "kiwi" }, "2")]);
      expect(idsOf(await reopened.search(request("needle")))).toEqual(["whole"]);
      expect((await reopened.search(request("kiwi"))).total).toBe(2);
    });
  });

  describe("ranking over every match", () => {
    // KNOWN MISMATCH (issue 14): the contract applies the limit after ranking over all sessions, but only the best
    // max(100, 2 x page) candidates by BM25 are scored, so a page of 1 misses the best match a page of 200 puts first.
    it.fails("finds the best match first whatever the page size, even when BM25 ranks it below the first 100 candidates", async () => {
      // The title hit is the best by the route's own score; its long title makes BM25 rank it last.
      const best = indexed("best", { title: `kiwi ${Array.from({ length: 200 }, (_, i) => `filler${i}`).join(" ")}`, age: 300 });
      const others = Array.from({ length: 150 }, (_, i) => indexed(`other${i}`, { user: "kiwi kiwi kiwi kiwi" }));
      const engine = await engineWith([...others, best]);
      const everything = await engine.search(request("kiwi", { limit: 200 }));
      expect(everything.total).toBe(151);
      expect(idsOf(everything)[0]).toBe("best");
      expect(idsOf(await engine.search(request("kiwi", { limit: 1 })))).toEqual(["best"]);
    });
  });
});
