import { describe, expect, it } from "vitest";
import { expectInvalidParameter } from "../fixtures/errors.js";
import { type ContractRuntime, KEY, type Target } from "./runtime.js";
import { type Searchable, search, searchable } from "./search.js";

/** Midnight UTC on the nth of March 2026: a later day is a newer session. */
export const day = (n: number) => `2026-03-${String(n).padStart(2, "0")}T00:00:00Z`;

/** The ids the compat search answers for q, best first (failing the test, with q named, on anything but 200). */
export async function idsFound(target: Target, q: string, extra = ""): Promise<string[]> {
  const res = await search(target, q, extra);
  const body: unknown = await res.json();
  expect({ q, extra, status: res.status }).toEqual({ q, extra, status: 200 });
  return (body as { id: string }[]).map((summary) => summary.id);
}

/** The param an error envelope names, or the text itself when it is no envelope. */
function errorParamOf(text: string): string | null | undefined {
  try {
    return (JSON.parse(text) as { error?: { param?: string | null } }).error?.param;
  } catch {
    return text;
  }
}

/** Sessions with neutral text but for these fields, the nth on day n + 1 (so later ones are newer). */
function sessionsOf(fields: Record<string, Searchable>): { session: Record<string, unknown> }[] {
  return Object.entries(fields).map(([id, searchableFields], n) => searchable(id, day(n + 1), searchableFields));
}

/** Queries the route must survive: never a 5xx, whatever the syntax (FTS5's, regular expressions', SQL's, Unicode's). */
const HOSTILE_QUERIES = [
  '"',
  "-",
  '-"',
  '""',
  "(",
  ")",
  "*",
  "x*",
  '"*"',
  "NEAR(",
  "NEAR(a b)",
  "AND",
  "OR x",
  "x OR",
  '"a" NOT',
  "NOT x",
  "^x",
  "x:",
  ":x",
  "a:b:c",
  "{a b}:c",
  "meta:kiwi",
  "user : kiwi",
  "'",
  "\\",
  "%",
  "_",
  "$",
  ".*",
  "[a-z]+",
  "(?<x>)",
  "a|b",
  "'; DROP TABLE search_fts; --",
  "a\u0000b",
  "😀",
  "é́́",
  "ﬁ",
  "ﷺ",
  "İ",
  "ß",
  "\u202ekiwi",
  "日本語",
  "日",
  "\u1100\u1161",
  "model:",
  "since:2026-13-45",
  "until:x",
  "role:admin",
  "in:everything",
  "-model:x",
  'cwd:"My Projects"',
  'a:"b"',
  '"a" "b" "c"',
  '"'.repeat(200),
  "-".repeat(200),
  "(".repeat(200),
  `${"a".repeat(199)}"`,
  "x".repeat(200),
  "ab ".repeat(66).trim(),
  "a ".repeat(100).trim(),
];

/** The query language (API-CONTRACT.md, "The query language"), through the compat search route. */
export function queryLanguageCases(runtime: ContractRuntime): void {
  const start = (entries: readonly { session: Record<string, unknown> }[]) => runtime.start({ sessions: entries.map((entry) => entry.session) });

  describe("the query language", () => {
    describe("terms", () => {
      it("ignores case and accents both ways: cafe finds Café, CAFÉ finds cafe, zurich finds Zürich", async () => {
        const target = await start(sessionsOf({ titled: { title: "Le Café" }, said: { user: "a cafe nearby" }, other: { user: "caffeine in Zürich" } }));
        expect(await idsFound(target, "cafe")).toEqual(["titled", "said"]);
        expect(await idsFound(target, "CAFÉ")).toEqual(["titled", "said"]);
        expect(await idsFound(target, "zurich")).toEqual(["other"]);
      });

      it("folds the letters with a stroke or a ligature too: lodz finds Łódź, strasse finds Straße, smørrebrød finds smorrebrod", async () => {
        const target = await start(
          sessionsOf({ city: { title: "Trip to Łódź" }, street: { user: "the Hauptstraße corner" }, food: { assistant: "smorrebrod for lunch" } }),
        );
        expect(await idsFound(target, "lodz")).toEqual(["city"]);
        expect(await idsFound(target, "strasse")).toEqual(["street"]);
        expect(await idsFound(target, "smørrebrød")).toEqual(["food"]);
      });

      it("finds a term of 3 or more characters inside words: textof finds searchTextOf", async () => {
        const target = await start(sessionsOf({ inside: { assistant: "call searchTextOf(x)" }, apart: { assistant: "text of the day" } }));
        expect(await idsFound(target, "textof")).toEqual(["inside"]);
        expect(await idsFound(target, "EXTO")).toEqual(["inside"]);
        expect(await idsFound(target, "arch")).toEqual(["inside"]);
      });

      it("finds a term of 1 or 2 characters only at the start of a word", async () => {
        const target = await start(sessionsOf({ one: { user: "example quick" }, two: { user: "text aqua" } }));
        expect(await idsFound(target, "ex")).toEqual(["one"]);
        expect(await idsFound(target, "q")).toEqual(["one"]);
        expect(await idsFound(target, "te")).toEqual(["two"]);
        expect(await idsFound(target, "xt")).toEqual([]);
      });

      it("finds a term holding other characters as that exact sequence, ignoring case", async () => {
        const target = await start(
          sessionsOf({
            path: { user: "open src/index.ts now" },
            words: { user: "src index ts" },
            other: { user: "see src/index.js" },
            line: { assistant: "Error at FILE.ts:12 here" },
            nearly: { assistant: "file.ts:13 and file ts 12" },
            marker: { user: "the unique-marker-123 here" },
            url: { assistant: "see https://Example.com/a" },
          }),
        );
        expect(await idsFound(target, "src/index.ts")).toEqual(["path"]);
        expect(await idsFound(target, "SRC/Index.TS")).toEqual(["path"]);
        expect(await idsFound(target, "file.ts:12")).toEqual(["line"]);
        expect(await idsFound(target, "unique-marker-123")).toEqual(["marker"]);
        expect(await idsFound(target, "https://example.com")).toEqual(["url"]); // a colon that is no operator's
        expect(await idsFound(target, "http://example.com")).toEqual([]);
      });

      it("ranks the exact sequence above a longer one holding it: localhost:1234 above localhost:12345", async () => {
        const target = await start(sessionsOf({ exact: { user: "at localhost:1234 now" }, longer: { user: "at localhost:12345 now" } }));
        expect(await idsFound(target, "localhost:1234")).toEqual(["exact", "longer"]);
        expect(await idsFound(target, "localhost:12345")).toEqual(["longer"]);
      });

      it("finds a word one typo from a term of 5 or more letters (inserted, deleted, replaced, swapped), below the exact word", async () => {
        const target = await start(
          sessionsOf({
            exact: { user: "buffer" },
            inserted: { user: "bufzfer" },
            deleted: { user: "bufer" },
            replaced: { user: "buffar" },
            swapped: { user: "bufefr" },
            twoaway: { user: "bfufra" },
            short: { user: "rign" },
          }),
        );
        expect(await idsFound(target, "buffer")).toEqual(["exact", "swapped", "replaced", "deleted", "inserted"]);
        expect(await idsFound(target, "ring")).toEqual([]); // 4 letters: exact only
      });

      it("finds a word one typo away in any alphabet: приват finds привет, λόγοι finds λόγος", async () => {
        const target = await start(sessionsOf({ russian: { user: "привет мир" }, greek: { user: "ο λόγος" } }));
        for (const q of ["приват", "привт", "превет", "пирвет"]) expect(await idsFound(target, q)).toEqual(["russian"]);
        expect(await idsFound(target, "λόγοι")).toEqual(["greek"]);
      });
    });

    describe("phrases and exclusions", () => {
      const phrases = () =>
        start(
          sessionsOf({
            hyphen: { assistant: "Ring-Buffer!" },
            apart: { assistant: "ring the buffer" },
            reversed: { assistant: "buffer ring overflowed" },
            inorder: { assistant: "the ring buffer overflowed" },
          }),
        );

      it("matches a quoted phrase's words in that order, never apart", async () => {
        const target = await phrases();
        expect(await idsFound(target, '"ring buffer"')).toEqual(["inorder", "hyphen"]);
        expect(await idsFound(target, "“ring buffer”")).toEqual(["inorder", "hyphen"]);
        expect(await idsFound(target, "ring buffer")).toEqual(["inorder", "reversed", "apart", "hyphen"]);
      });

      it("runs an unbalanced quote to the end of the query", async () => {
        const target = await phrases();
        expect(await idsFound(target, 'overflowed "ring buffer')).toEqual(["inorder"]);
        expect(await idsFound(target, '"ring buffer')).toEqual(["inorder", "hyphen"]);
      });

      it('leaves out sessions that match -term or -"a phrase" in a searched field (only there)', async () => {
        const target = await start(
          sessionsOf({
            fruit: { user: "kiwi banana" },
            dryrun: { user: "kiwi dry run" },
            rundry: { user: "kiwi run dry" },
            plain: { user: "kiwi" },
            system: { user: "kiwi", more: [{ role: "system", content: "banana dry run" }] },
          }),
        );
        expect(await idsFound(target, "kiwi -banana")).toEqual(["system", "plain", "rundry", "dryrun"]);
        expect(await idsFound(target, "kiwi -BAN")).toEqual(["system", "plain", "rundry", "dryrun"]);
        expect(await idsFound(target, 'kiwi -"dry run"')).toEqual(["system", "plain", "rundry", "fruit"]);
        expect(await idsFound(target, 'kiwi -"dry run" -banana')).toEqual(["system", "plain", "rundry"]);
      });

      it.each(["-kiwi", '-"dry run"', "-kiwi -banana"])("answers 400 naming q for %s: exclusions alone match nothing", async (q) => {
        const target = await start([searchable("abc", day(1))]);
        await expectInvalidParameter(await search(target, q), "q");
      });
    });

    describe("operators", () => {
      it("model: holds for models containing the text, ignoring case, with the model parameter too", async () => {
        const target = await start(sessionsOf({ qwen: { model: "Qwen3-30B-A3B", user: "kiwi" }, llama: { model: "llama-3", user: "kiwi" } }));
        expect(await idsFound(target, "model:QWEN kiwi")).toEqual(["qwen"]);
        expect(await idsFound(target, "model:qwen")).toEqual(["qwen"]);
        expect(await idsFound(target, "model:qwen model:30b")).toEqual(["qwen"]);
        expect(await idsFound(target, "model:qwen model:llama")).toEqual([]);
        expect(await idsFound(target, "model:qwen", "&model=30b")).toEqual(["qwen"]);
        expect(await idsFound(target, "model:qwen", "&model=llama")).toEqual([]);
        expect(await idsFound(target, "model:l -kiwi")).toEqual([]);
      });

      it("tag: holds for a whole tag, ignoring case, with the tag parameter too", async () => {
        const target = await start(sessionsOf({ fixed: { tags: ["BugFix", "ui"] }, plural: { tags: ["bugfixes"] } }));
        expect(await idsFound(target, "tag:bugfix")).toEqual(["fixed"]);
        expect(await idsFound(target, "tag:BUGFIXES")).toEqual(["plural"]);
        expect(await idsFound(target, "tag:bug")).toEqual([]);
        expect(await idsFound(target, "tag:bugfix", "&tag=ui")).toEqual(["fixed"]);
        expect(await idsFound(target, "tag:bugfix", "&tag=bugfixes")).toEqual([]);
      });

      it("cwd: holds for working directories containing the text, ignoring case; cwd is never searched as text", async () => {
        const target = await start(sessionsOf({ lmx: { cwd: "/Users/dev/Opta-LMX" }, other: { cwd: "/Users/dev/other" } }));
        expect(await idsFound(target, "cwd:opta-lmx")).toEqual(["lmx"]);
        expect(await idsFound(target, "cwd:/users/dev")).toEqual(["other", "lmx"]);
        expect(await idsFound(target, "cwd:/users/dev", "&cwd=OTHER")).toEqual(["other"]);
        expect(await idsFound(target, "opta")).toEqual([]);
        expect(await idsFound(target, "opta in:tools")).toEqual([]);
      });

      it("since: and until: compare instants as the list's since and until do, with the parameters too", async () => {
        const target = await start([
          searchable("old", "2026-01-01T00:00:00Z", { user: "kiwi" }),
          searchable("mid", "2026-02-01T12:00:00+02:00", { user: "kiwi" }),
          searchable("new", "2026-03-01T00:00:00Z", { user: "kiwi" }),
          searchable("notime", "garbage", { user: "kiwi" }),
        ]);
        expect(await idsFound(target, "kiwi since:2026-02-01T10:00:00Z")).toEqual(["new", "mid"]);
        expect(await idsFound(target, "kiwi until:2026-02-01T10:00:00Z")).toEqual(["old"]);
        expect(await idsFound(target, "since:2026-01-15 until:2026-02-15")).toEqual(["mid"]);
        expect(await idsFound(target, "since:2026-01-01", "&until=2026-02-15")).toEqual(["mid", "old"]);
        expect(await idsFound(target, "kiwi since:2026-02-15", "&since=2026-01-15")).toEqual(["new"]);
      });

      it("session: holds for that one session", async () => {
        const target = await start(sessionsOf({ first1: { user: "kiwi" }, second2: { user: "kiwi" } }));
        expect(await idsFound(target, "kiwi session:first1")).toEqual(["first1"]);
        expect(await idsFound(target, "session:second2")).toEqual(["second2"]);
        expect(await idsFound(target, "kiwi session:nosuch")).toEqual([]);
      });

      it("role: counts only messages of that role; role:tool searches tool outputs", async () => {
        const target = await start([
          searchable("byuser", day(1), { user: "kiwi" }),
          searchable("byassistant", day(1), { assistant: "kiwi" }),
          searchable("bytool", day(1), { more: [{ role: "tool", tool_call_id: "c1", content: "kiwi" }] }),
          searchable("bytitle", day(1), { title: "kiwi" }),
        ]);
        expect(await idsFound(target, "kiwi")).toEqual(["bytitle", "byuser", "byassistant"]);
        expect(await idsFound(target, "kiwi role:user")).toEqual(["byuser"]);
        expect(await idsFound(target, "role:assistant kiwi")).toEqual(["byassistant"]);
        expect(await idsFound(target, "kiwi role:tool")).toEqual(["bytool"]);
      });

      it("in:tools also searches tool-call names and arguments and tool outputs; never system prompts", async () => {
        const call = {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "function", function: { name: "grep_files", arguments: '{"pattern":"kiwi"}' } }],
        };
        const target = await start(
          sessionsOf({
            plain: { user: "kiwi" },
            call: { more: [call] },
            output: { more: [{ role: "tool", tool_call_id: "c1", content: "kiwi found" }] },
            system: { more: [{ role: "system", content: "kiwi" }] },
          }),
        );
        expect(await idsFound(target, "kiwi")).toEqual(["plain"]);
        expect(await idsFound(target, "kiwi in:tools")).toEqual(["plain", "output", "call"]);
        expect(await idsFound(target, "grep_files")).toEqual([]);
        expect(await idsFound(target, "grep_files in:tools")).toEqual(["call"]);
        expect(await idsFound(target, "kiwi role:assistant in:tools")).toEqual(["call"]);
      });
    });

    it("never answers 5xx, whatever the syntax: 200, or 400 naming q", async () => {
      const target = await start(
        sessionsOf({
          text: { title: "Ring buffer", user: "open src/index.ts 😀 Café ﬁle 日本語", assistant: "NEAR AND OR NOT" },
          tools: { more: [{ role: "tool", tool_call_id: "c1", content: "x".repeat(300) }] },
        }),
      );
      const answers: { path: string; status: number; param?: string | null }[] = [];
      // as sent: encoded, and raw percent-encodings that are no UTF-8 (a lone surrogate's bytes, a stray byte, a cut sequence)
      const sent = [...HOSTILE_QUERIES.map(encodeURIComponent), "%ED%A0%80", "%FF", "%", "%E0%A4%A", "%C0%AF", "kiwi%00"];
      for (const q of sent) {
        for (const path of ["/admin/sessions/search?", "/admin/search?sort=recent&", "/admin/search?"]) {
          const res = await target.fetch(`${path}q=${q}`, { headers: KEY });
          const text = await res.text();
          answers.push({ path: `${path}q=${q}`, status: res.status, ...(res.status !== 200 && { param: errorParamOf(text) }) });
        }
      }
      expect(answers.filter((answer) => !(answer.status === 200 || (answer.status === 400 && answer.param === "q")))).toEqual([]);
    });
  });

  describe("the list's filters and sort on search", () => {
    it("takes model, tag, since, until and cwd as the list does", async () => {
      const target = await start([
        searchable("qwen", "2026-03-03T00:00:00Z", { model: "Qwen3-Coder", tags: ["BugFix"], user: "kiwi", cwd: "/Users/dev/Opta-LMX" }),
        searchable("llama", "2026-03-02T00:00:00Z", { model: "llama-3", tags: ["bugfix"], user: "kiwi", cwd: "/Users/dev/other" }),
        searchable("mini", "2026-03-01T00:00:00Z", { model: "MiniMax", user: "kiwi", cwd: "/Users/dev/opta-lmx" }),
      ]);
      expect(await idsFound(target, "kiwi", "&model=QWEN")).toEqual(["qwen"]);
      expect(await idsFound(target, "kiwi", "&tag=bugfix")).toEqual(["llama"]);
      expect(await idsFound(target, "kiwi", "&tag=bug")).toEqual([]);
      expect(await idsFound(target, "kiwi", "&since=2026-03-02")).toEqual(["qwen", "llama"]);
      expect(await idsFound(target, "kiwi", "&until=2026-03-02")).toEqual(["mini"]);
      expect(await idsFound(target, "kiwi", "&cwd=OPTA")).toEqual(["qwen", "mini"]);
      expect(await idsFound(target, "kiwi", "&cwd=opta&since=2026-03-01T12:00:00Z")).toEqual(["qwen"]);
    });

    it("sorts by relevance by default and in the list's order with sort=recent; refuses another sort naming sort", async () => {
      const target = await start([searchable("best", "2020-01-01T00:00:00Z", { title: "kiwi" }), searchable("newer", day(1), { user: "kiwi" })]);
      expect(await idsFound(target, "kiwi")).toEqual(["best", "newer"]);
      expect(await idsFound(target, "kiwi", "&sort=relevance")).toEqual(["best", "newer"]);
      expect(await idsFound(target, "kiwi", "&sort=recent")).toEqual(["newer", "best"]);
      await expectInvalidParameter(await search(target, "kiwi", "&sort=newest"), "sort", "sort must be relevance or recent");
      await expectInvalidParameter(await search(target, "kiwi", "&sort=recent&sort=relevance"), "sort");
    });
  });
}
