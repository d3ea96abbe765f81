import { describe, expect, it } from "vitest";
import { expectError, expectInvalidParameter } from "../fixtures/errors.js";
import type { Summary } from "./expected.js";
import { day, idsFound } from "./query-language.js";
import { type ContractRuntime, KEY, type Target } from "./runtime.js";
import { searchable } from "./search.js";

interface Hit {
  field: string;
  message_index: number | null;
  role: string | null;
  snippet: string;
  highlights: [number, number][];
}

interface Ranked {
  results: { session: Summary; score: number; hits: Hit[] }[];
  total: number;
  limit: number;
  offset: number;
}

/** GET /admin/search's answer for q (failing the test, with q named, on anything but 200). */
async function ranked(target: Target, q: string, extra = ""): Promise<Ranked> {
  const res = await target.fetch(`/admin/search?q=${encodeURIComponent(q)}${extra}`, { headers: KEY });
  const body: unknown = await res.json();
  expect({ q, extra, status: res.status, type: res.headers.get("Content-Type") }).toEqual({ q, extra, status: 200, type: "application/json" });
  return body as Ranked;
}

/** The hits of the only session found. */
async function hitsOf(target: Target, q: string, extra = ""): Promise<Hit[]> {
  const { results } = await ranked(target, q, extra);
  expect(results).toHaveLength(1);
  return results[0]!.hits;
}

/** Text as the contract matches it: no case, no accents (nor ligatures: ﬁ is fi). */
function folded(text: string): string {
  return text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** What each highlight covers of its snippet, folded: each should be a matched term. */
function highlighted(hit: Hit): string[] {
  return hit.highlights.map(([start, end]) => folded(hit.snippet.slice(start, end)));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** GET /admin/search (API-CONTRACT.md): the compat search's answer, paged, with each session's score and hits. */
export function rankedSearchCases(runtime: ContractRuntime): void {
  const start = (entries: readonly { session: Record<string, unknown> }[]) => runtime.start({ sessions: entries.map((entry) => entry.session) });

  describe("GET /admin/search", () => {
    it("answers {results: [{session, score, hits: [{field, message_index, role, snippet, highlights}]}], total, limit, offset}, exactly", async () => {
      const entry = searchable("shape", day(1), { title: "Kiwi notes", user: "a kiwi here" });
      const target = await start([entry, searchable("other", day(2))]);
      const res = await target.fetch("/admin/search?q=kiwi", { headers: KEY });
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/json");
      const body = JSON.parse(text) as Ranked;
      expect(typeof body.results[0]?.score).toBe("number");
      const expected = {
        results: [
          {
            session: entry.summary,
            score: body.results[0]?.score,
            hits: [
              { field: "title", message_index: null, role: null, snippet: "Kiwi notes", highlights: [[0, 4]] },
              { field: "message", message_index: 0, role: "user", snippet: "a kiwi here", highlights: [[2, 6]] },
            ],
          },
        ],
        total: 1,
        limit: 20,
        offset: 0,
      };
      // the exact text: key order and spelling too
      expect(text).toBe(JSON.stringify(expected));
    });

    it("answers in the compat route's order, best score first, total counting every match, paged by offset and limit", async () => {
      const entries = [
        searchable("titled", day(1), { title: "kiwi" }),
        searchable("tagged", day(2), { tags: ["kiwi"] }),
        searchable("said", day(3), { user: "a kiwi" }),
        searchable("answered", day(4), { assistant: "a kiwi" }),
        searchable("part", day(5), { user: "kiwifruit" }),
        searchable("twice", day(6), { user: "kiwi", assistant: "kiwi" }),
        searchable("modelled", day(7), { model: "kiwi-7b" }),
        searchable("none", day(8)),
      ];
      const target = await start(entries);
      for (const sort of ["", "&sort=recent"]) {
        const order = await idsFound(target, "kiwi", `&limit=100${sort}`);
        expect(order).toHaveLength(7);
        const all = await ranked(target, "kiwi", `&limit=100${sort}`);
        expect(all.results.map((result) => result.session.id)).toEqual(order);
        expect([all.total, all.limit, all.offset]).toEqual([7, 100, 0]);
        if (sort === "") {
          const scores = all.results.map((result) => result.score);
          expect(scores).toEqual([...scores].sort((a, b) => b - a));
        }
        const pages = [];
        for (const offset of [0, 3, 6, 9]) {
          const page = await ranked(target, "kiwi", `&limit=3&offset=${offset}${sort}`);
          expect([page.total, page.limit, page.offset]).toEqual([7, 3, offset]);
          pages.push(...page.results.map((result) => result.session.id));
        }
        expect(pages).toEqual(order);
      }
    });

    it("counts every match in total however the query is matched (short terms, sequences, operators alone, exclusions)", async () => {
      const entries = Array.from({ length: 5 }, (_, i) => searchable(`s${i}`, day(i + 1), { user: `kiwi k src/a.ts ${i % 2 ? "banana" : ""}`, model: "qwen" }));
      const target = await start(entries);
      for (const q of ["k", "src/a.ts", "model:qwen", "kiwi -banana", "k -banana", "kiwi"]) {
        const all = await ranked(target, q, "&limit=100");
        const page = await ranked(target, q, "&limit=1&offset=1");
        expect({ q, total: page.total, found: page.results.length }).toEqual({ q, total: all.results.length, found: 1 });
      }
    });

    it("reports 3 hits per session by default, best first; hits=0 none, up to 50; refuses 51 naming hits", async () => {
      const more = [
        { role: "user", content: "kiwi three" },
        { role: "assistant", content: "kiwi four" },
        { role: "user", content: "kiwi five" },
      ];
      const target = await start([searchable("many", day(1), { title: "kiwi", user: "kiwi one", assistant: "kiwi two", more })]);
      const where = (hits: Hit[]) => hits.map((hit) => [hit.field, hit.message_index, hit.role]);
      expect(where(await hitsOf(target, "kiwi"))).toEqual([
        ["title", null, null],
        ["message", 0, "user"],
        ["message", 2, "user"],
      ]);
      expect(await hitsOf(target, "kiwi", "&hits=0")).toEqual([]);
      expect(where(await hitsOf(target, "kiwi", "&hits=50"))).toEqual([
        ["title", null, null],
        ["message", 0, "user"],
        ["message", 2, "user"],
        ["message", 4, "user"],
        ["message", 1, "assistant"],
        ["message", 3, "assistant"],
      ]);
      for (const hits of ["51", "-1", "1.5", "x"]) {
        await expectInvalidParameter(
          await target.fetch(`/admin/search?q=kiwi&hits=${hits}`, { headers: KEY }),
          "hits",
          "hits must be an integer between 0 and 50",
        );
      }
    });

    it("refuses what the compat search refuses, and a bad offset, naming the parameter", async () => {
      const target = await start([searchable("abc", day(1))]);
      for (const [query, param] of [
        ["", "q"],
        ["q=-kiwi", "q"],
        ["q=kiwi&limit=101", "limit"],
        ["q=kiwi&offset=-1", "offset"],
        ["q=kiwi&sort=best", "sort"],
      ]) {
        await expectInvalidParameter(await target.fetch(`/admin/search?${query}`, { headers: KEY }), param!);
      }
    });

    it("needs the admin key", async () => {
      const target = await start([searchable("abc", day(1), { title: "kiwi" })]);
      for (const headers of [{}, { "X-Admin-Key": "wrong-key-0123456789" }] as Record<string, string>[]) {
        const res = await target.fetch("/admin/search?q=kiwi", { headers });
        expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
        await expectError(res, 401, { type: "authentication_error", code: "invalid_admin_key" });
      }
    });

    describe("hits", () => {
      it("name the message for message hits (message 600 of 1,203) and null message_index and role for the others", async () => {
        const more = Array.from({ length: 1_201 }, (_, i) => ({
          role: i % 2 ? "assistant" : "user",
          content: i + 2 === 600 ? "the needle is here" : `filler ${i}`,
        }));
        const target = await start([
          searchable("long", day(1), { more }),
          searchable("needleid", day(2), { title: "a needle", tags: ["needle", "x"], model: "needle-7b" }),
        ]);
        const { results } = await ranked(target, "needle", "&hits=50");
        const byId = new Map(results.map((result) => [result.session.id, result]));
        expect(byId.get("long")?.session.message_count).toBe(1_203);
        expect(byId.get("long")?.hits).toEqual([{ field: "message", message_index: 600, role: "user", snippet: "the needle is here", highlights: [[4, 10]] }]);
        // what /admin/sessions/:id/messages?offset= takes: that message, there
        const page = (await (await target.fetch("/admin/sessions/long/messages?offset=600&limit=1", { headers: KEY })).json()) as { messages: unknown[] };
        expect(page.messages).toEqual([{ role: "user", content: "the needle is here" }]);
        const fields = byId.get("needleid")?.hits.map((hit) => [hit.field, hit.message_index, hit.role]);
        expect(fields?.sort()).toEqual([
          ["id", null, null],
          ["model", null, null],
          ["tags", null, null],
          ["title", null, null],
        ]);
      });

      it("find a term in any message of a long session (2 MB of the user's words), at the message holding it", async () => {
        const words = Array.from({ length: 500 }, (_, i) => `filler${i}`).join(" ");
        const more = Array.from({ length: 600 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: i === 598 ? "the needle is here" : words }));
        const target = await start([searchable("long", day(1), { more })]);
        expect((await hitsOf(target, "needle")).map((hit) => [hit.message_index, hit.role])).toEqual([[600, "user"]]);
        expect((await hitsOf(target, '"needle is"')).map((hit) => [hit.message_index, hit.role])).toEqual([[600, "user"]]);
      });

      it("are message hits on the message holding a tool call or a tool output (in:tools)", async () => {
        const call = { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "grep", arguments: '{"q":"kiwi"}' } }] };
        const output = { role: "tool", tool_call_id: "c1", content: "kiwi found" };
        const target = await start([searchable("tools", day(1), { more: [call, output] })]);
        const hits = await hitsOf(target, "kiwi in:tools");
        expect(hits.map((hit) => [hit.field, hit.message_index, hit.role, highlighted(hit)])).toEqual([
          ["message", 2, "assistant", ["kiwi"]],
          ["message", 3, "tool", ["kiwi"]],
        ]);
      });

      it("cut a snippet to at most 200 characters around the match, with … where cut and whitespace runs made one space", async () => {
        const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" \n\t ");
        const target = await start([
          searchable("middle", day(1), { assistant: `${words(60)}  needle \n ${words(60)}` }),
          searchable("first", day(2), { assistant: `needle ${words(60)}` }),
          searchable("last", day(3), { assistant: `${words(60)} needle` }),
          searchable("short", day(4), { assistant: "a   b \n\n needle\tc" }),
        ]);
        const { results } = await ranked(target, "needle");
        const snippets = new Map(results.map((result) => [result.session.id, result.hits[0]!]));
        for (const hit of snippets.values()) {
          expect([...hit.snippet].length).toBeLessThanOrEqual(200);
          expect(hit.snippet).not.toMatch(/\s\s|[\n\t]/);
          expect(highlighted(hit)).toEqual(["needle"]);
        }
        expect(snippets.get("middle")?.snippet).toMatch(/^….+needle.+…$/);
        expect(snippets.get("first")?.snippet).toMatch(/^needle .+…$/);
        expect(snippets.get("last")?.snippet).toMatch(/^….+ needle$/);
        expect(snippets.get("short")?.snippet).toBe("a b needle c");
      });

      it("highlight every matched term and phrase, in UTF-16 offsets past accents, emoji, astral letters, ligatures and Hangul jamo", async () => {
        const emoji = "😀".repeat(150);
        const target = await start([
          searchable("accent", day(1), { user: "😀🎉 Le Café au lait" }),
          searchable("astral", day(2), { user: "𝒳𝒴 then cafe" }),
          searchable("ligature", day(3), { user: "the ﬁle café" }),
          searchable("cut", day(4), { user: `${emoji} café ${emoji}` }),
          searchable("phrase", day(5), { user: "the Ring  Buffer overflowed, café" }),
          searchable("jamo", day(6), { user: "\u1100\u1161\u11a8 cafe" }), // Hangul written as jamo: one character of three
        ]);
        const { results } = await ranked(target, "cafe");
        expect(results).toHaveLength(6);
        for (const { hits } of results) {
          expect(hits[0]?.snippet).not.toMatch(LONE_SURROGATE);
          expect(highlighted(hits[0]!)).toEqual(["cafe"]);
        }
        expect(highlighted((await hitsOf(target, "file cafe"))[0]!)).toEqual(["file", "cafe"]);
        expect(highlighted((await hitsOf(target, '"ring buffer" cafe'))[0]!)).toEqual(["ring buffer", "cafe"]);
      });
    });
  });
}
