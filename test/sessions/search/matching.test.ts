import { describe, expect, it } from "vitest";
import { type Hit, hitOf, type Matcher, matcherOf, QUALITY, scoreSession, type UnitRow } from "../../../src/sessions/search/matching.js";
import { foldText, type Match, parseQuery, type Query } from "../../../src/sessions/search/query.js";

function parsed(q: string): Query {
  const result = parseQuery(q);
  if (!result.ok) expect.fail(`${JSON.stringify(q)} was refused: ${result.message}`);
  return result.query;
}

/** The one term or phrase q holds. */
function only(q: string): Match {
  const [match, ...rest] = parsed(q).include;
  if (match === undefined || rest.length > 0) expect.fail(`${JSON.stringify(q)} holds ${rest.length + (match ? 1 : 0)} matches`);
  return match;
}

/** Where a matcher finds its match in a text (folded, as the engine hands it), in order. */
function found(matcher: Matcher, text: string): [number, number, number][] {
  return matcher(foldText(text))
    .map((o): [number, number, number] => [o.start, o.end, o.quality])
    .sort((a, b) => a[0] - b[0]);
}

function unit(text: string, fields: Partial<UnitRow> = {}): UnitRow {
  return { field: "message", message_index: 0, role: "user", tools: 0, text, ...fields };
}

/** scoreSession over these units for q, with `typos` as the index's words one edit from q's terms. */
function score(q: string, units: UnitRow[], typos: readonly string[] = []) {
  const query = parsed(q);
  const includes = query.include.map((match) => matcherOf(match, typos));
  const excludes = query.exclude.map((match) => matcherOf(match));
  return scoreSession(query, includes, excludes, units);
}

function relevance(q: string, units: UnitRow[], typos: readonly string[] = []): number {
  const result = score(q, units, typos);
  if (result === null) expect.fail(`${JSON.stringify(q)} does not match ${JSON.stringify(units)}`);
  return result.relevance;
}

/** The hit of the best unit q matches in a unit holding `text`. */
function hit(q: string, text: string, fields: Partial<UnitRow> = {}): Hit {
  const best = score(q, [unit(text, fields)])?.units[0];
  if (best === undefined) expect.fail(`${JSON.stringify(q)} does not match ${JSON.stringify(text)}`);
  return hitOf(best);
}

/** What each highlight covers of the snippet. */
const covered = (h: Hit) => h.highlights.map(([start, end]) => h.snippet.slice(start, end));

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("matcherOf", () => {
  const { whole, edge, part, typo } = QUALITY;

  it("matches a term under 3 characters only at a word's start, a whole word best", () => {
    expect(found(matcherOf(only("ex")), "ex example text EX")).toEqual([
      [0, 2, whole],
      [3, 5, edge],
      [16, 18, whole],
    ]);
  });

  it("matches a term of 3 or more characters anywhere in words: a whole word, then a word's start or end, then its middle", () => {
    expect(found(matcherOf(only("text")), "text textof subtext pretexts")).toEqual([
      [0, 4, whole],
      [5, 9, edge],
      [15, 19, edge],
      [23, 27, part],
    ]);
  });

  it("matches a sequence exactly, whole when it does not run on into more letters or digits", () => {
    expect(found(matcherOf(only("localhost:1234")), "localhost:1234 localhost:12345 xlocalhost:1234")).toEqual([
      [0, 14, whole],
      [15, 29, part],
      [32, 46, part],
    ]);
    expect(found(matcherOf(only("src/index.ts")), "(SRC/index.ts) src index ts")).toEqual([[1, 13, whole]]);
  });

  it("matches a phrase's words in order with anything but letters and digits between them, whole words only", () => {
    expect(found(matcherOf(only('"ring buffer"')), "the ring  buffer, ring-buffer ringbuffer buffer ring rings buffer ring buffers")).toEqual([
      [4, 16, whole],
      [18, 29, whole],
    ]);
  });

  it("matches the index's words one typo away as whole words, below every exact match", () => {
    expect(found(matcherOf(only("buffer"), ["bufer"]), "bufer bufers buffer")).toEqual([
      [0, 5, typo],
      [13, 19, whole],
    ]);
    expect(typo).toBeLessThan(part);
  });
});

describe("scoreSession", () => {
  it("ranks an exact word above a word's start above the middle of a word above a typo", () => {
    const scores = ["buffer", "buffers", "rebuffers", "bufer"].map((text) => relevance("buffer", [unit(text)], ["bufer"]));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(scores).size).toBe(4);
  });

  it("weighs fields: id, title and tags above the model, above user text, above assistant text, above tool text", () => {
    const meta = (field: UnitRow["field"]) => unit("kiwi", { field, message_index: null, role: null });
    const scores = [
      relevance("kiwi in:tools", [meta("title")]),
      relevance("kiwi in:tools", [meta("model")]),
      relevance("kiwi in:tools", [unit("kiwi")]),
      relevance("kiwi in:tools", [unit("kiwi", { role: "assistant" })]),
      relevance("kiwi in:tools", [unit("kiwi", { role: "tool", tools: 1 })]),
    ];
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(new Set(scores).size).toBe(5);
    expect(relevance("kiwi", [meta("id")])).toBe(relevance("kiwi", [meta("title")]));
    expect(relevance("kiwi", [meta("tags")])).toBe(relevance("kiwi", [meta("title")]));
  });

  it("adds a little for a term's other places, never as much as a better field", () => {
    const said = Array.from({ length: 10 }, (_, i) => unit("kiwi kiwi", { message_index: i }));
    expect(relevance("kiwi", said)).toBeGreaterThan(relevance("kiwi", [unit("kiwi")]));
    expect(relevance("kiwi", said)).toBeLessThan(relevance("kiwi", [unit("kiwi", { field: "title", message_index: null, role: null })]));
  });

  it("needs every term somewhere, and no exclusion anywhere it looks", () => {
    const units = [unit("alpha", { field: "title", message_index: null, role: null }), unit("beta"), unit("banana", { role: "tool", tools: 1 })];
    expect(score("alpha beta", units)).not.toBeNull();
    expect(score("alpha gamma", units)).toBeNull();
    expect(score("alpha -beta", units)).toBeNull();
    expect(score('alpha -"beta"', units)).toBeNull();
    expect(score("alpha -banana", units)).not.toBeNull(); // tool output is not looked at without in:tools
    expect(score("alpha -banana in:tools", units)).toBeNull();
  });

  it("counts only the units role: and in:tools let it look at", () => {
    const call = unit("grep kiwi", { message_index: 1, role: "assistant", tools: 1 });
    const output = unit("kiwi found", { message_index: 2, role: "tool", tools: 1 });
    const said = unit("kiwi", { message_index: 3, role: "assistant" });
    expect(score("kiwi role:user", [said])).toBeNull();
    expect(score("kiwi", [call, output])).toBeNull();
    expect(score("kiwi in:tools", [call, output])?.units.map((u) => u.unit.message_index)).toEqual([1, 2]);
    expect(score("kiwi role:tool", [call, output, said])?.units.map((u) => u.unit.message_index)).toEqual([2]);
    expect(score("kiwi role:assistant in:tools", [call, output, said])?.units.map((u) => u.unit.message_index)).toEqual([3, 1]);
  });

  it("matches every session equally for operators alone, with no units to show", () => {
    expect(score("model:qwen", [unit("anything")])).toEqual({ relevance: 1, units: [] });
  });

  it("puts a session's best units first, ties in message order", () => {
    const units = [unit("kiwi", { message_index: 0, role: "assistant" }), unit("kiwi", { message_index: 1 }), unit("kiwi", { message_index: 2 })];
    expect(score("kiwi", units)?.units.map((u) => u.unit.message_index)).toEqual([1, 2, 0]);
  });
});

describe("hitOf", () => {
  it("shows a short text whole, with every occurrence highlighted", () => {
    expect(hit("kiwi", "a kiwi and a KIWI", { message_index: 7, role: "assistant" })).toEqual({
      field: "message",
      message_index: 7,
      role: "assistant",
      snippet: "a kiwi and a KIWI",
      highlights: [
        [2, 6],
        [13, 17],
      ],
    });
    expect(hit("kiwi", "Kiwi notes", { field: "title", message_index: null, role: null })).toMatchObject({ field: "title", message_index: null, role: null });
  });

  it("merges the highlights of overlapping terms", () => {
    expect(hit("kiwi iwi", "a kiwi").highlights).toEqual([[2, 6]]);
  });

  it("cuts a long text to 200 characters around the best match, with … where it was cut", () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");
    const cases: [string, RegExp][] = [
      [`${words(60)} needle ${words(60)}`, /^….+ needle .+…$/],
      [`needle ${words(60)}`, /^needle .+…$/],
      [`${words(60)} needle`, /^….+ needle$/],
    ];
    for (const [text, shape] of cases) {
      const h = hit("needle", text);
      expect(h.snippet).toMatch(shape);
      expect(h.snippet.length).toBeLessThanOrEqual(200);
      expect(h.snippet.length).toBeGreaterThanOrEqual(190);
      expect(covered(h)).toEqual(["needle"]);
    }
  });

  it("cuts around the best match, not the first: a whole word over an earlier part of one", () => {
    const h = hit("needle", `needles ${"x ".repeat(200)}needle ${"y ".repeat(200)}end`);
    expect(h.snippet).toMatch(/^….+ needle .+…$/);
    expect(covered(h)).toEqual(["needle"]);
  });

  it("never cuts a surrogate pair in two", () => {
    const emoji = "😀".repeat(150);
    for (const text of [`${emoji} kiwi ${emoji}`, `a${emoji} kiwi ${emoji}`]) {
      const h = hit("kiwi", text);
      expect(h.snippet).not.toMatch(LONE_SURROGATE);
      expect(h.snippet.length).toBeLessThanOrEqual(200);
      expect(covered(h)).toEqual(["kiwi"]);
    }
  });

  it.each<[string, string, string, string[]]>([
    ["an accent", "cafe", "Le Café au lait", ["Café"]],
    ["a combining accent", "cafe", "Le Cafe\u0301 au lait", ["Cafe\u0301"]],
    ["a ligature", "file", "the ﬁle is saved", ["ﬁle"]],
    ["emoji before the match", "kiwi", "😀🎉 a kiwi", ["kiwi"]],
    ["astral letters before the match", "kiwi", "𝒳𝒴 a kiwi", ["kiwi"]],
    ["a character that folds to many", "kiwi", "ﷺ kiwi", ["kiwi"]],
    ["a dotted capital I", "kiwi", "İstanbul kiwi", ["kiwi"]],
    ["Hangul written as conjoining jamo", "kiwi", "\u1100\u1161\u11a8 kiwi", ["kiwi"]],
    ["a match in Hangul jamo", "각", "x \u1100\u1161\u11a8 y", ["\u1100\u1161\u11a8"]],
  ])("highlights in UTF-16 offsets of the original text past %s", (_label, q, text, expected) => {
    expect(covered(hit(q, text))).toEqual(expected);
  });
});
