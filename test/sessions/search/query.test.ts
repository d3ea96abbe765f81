import { describe, expect, it } from "vitest";
import { foldText, type Match, type Phrase, parseQuery, type Query, type Term, wordsOf } from "../../../src/sessions/search/query.js";
import judgments from "../../relevance/judgments.json" with { type: "json" };

/** The parsed query, failing the test with the parser's message when q is refused. */
function parsed(q: string): Query {
  const result = parseQuery(q);
  if (!result.ok) expect.fail(`${JSON.stringify(q)} was refused: ${result.message}`);
  return result.query;
}

/** The message q is refused with, failing the test when it parses. */
function refused(q: string): string {
  const result = parseQuery(q);
  if (result.ok) expect.fail(`${JSON.stringify(q)} parsed: ${JSON.stringify(result.query)}`);
  return result.message;
}

function term(text: string, match: Term["match"], typos = false): Term {
  return { kind: "term", text, match, typos };
}

function phrase(...words: string[]): Phrase {
  return { kind: "phrase", words };
}

const NO_FILTERS = { model: [], tag: [], cwd: [], session: [], since: null, until: null, role: null, inTools: false };

describe("foldText", () => {
  it("ignores case and accents, both ways (cafe finds Café)", () => {
    expect(foldText("Café")).toBe("cafe");
    expect(foldText("CAFE")).toBe("cafe");
    expect(foldText("Naïve Façade ÉCOLE école Zürich")).toBe("naive facade ecole ecole zurich");
  });

  it("folds compatibility forms: ligatures and full-width letters", () => {
    expect(foldText("ﬁle")).toBe("file");
    expect(foldText("ＡＢＣ１２")).toBe("abc12");
  });

  it("folds the dotted capital I to i, and a final sigma to sigma", () => {
    expect(foldText("İstanbul")).toBe("istanbul");
    expect(foldText("ΟΔΟΣ")).toBe(foldText("οδοσ"));
  });

  it("folds the letters Unicode does not split into letter and mark, as a reader would: Łódź, smørrebrød, Straße, ırmak", () => {
    expect(foldText("Łódź")).toBe("lodz");
    expect(foldText("smørrebrød SMØRREBRØD")).toBe("smorrebrod smorrebrod");
    expect(foldText("Straße")).toBe("strasse");
    expect(foldText("ırmak Ærø Œuvre Þing Đuro Ħamrun")).toBe("irmak aero oeuvre thing duro hamrun");
  });

  it("keeps other scripts whole: Hangul syllables stay syllables, kanji stay kanji", () => {
    expect(foldText("한국어")).toBe("한국어");
    expect(foldText("東京タワー")).toBe("東京タワー");
  });

  it("leaves what is not a letter as it is", () => {
    expect(foldText("src/Index.ts:12")).toBe("src/index.ts:12");
    expect(foldText("a\u0000b\ud800")).toBe("a\u0000b\ud800");
  });

  it("is idempotent, so folding the index and the query agree", () => {
    for (const text of ["Café", "ﬁle", "İstanbul", "ΟΔΟΣ", "한국어", "Ǆ", "ẞ"]) expect(foldText(foldText(text))).toBe(foldText(text));
  });
});

describe("wordsOf", () => {
  it("splits at anything that is not a letter or a digit", () => {
    expect(wordsOf("parse_session_file(src/index.ts) 東京タワー x2")).toEqual(["parse", "session", "file", "src", "index", "ts", "東京タワー", "x2"]);
    expect(wordsOf(" -- ")).toEqual([]);
  });
});

describe("parseQuery: terms", () => {
  it("separates terms by whitespace, each one required", () => {
    expect(parsed("ring buffer")).toEqual({ include: [term("ring", "infix"), term("buffer", "infix", true)], exclude: [], filters: NO_FILTERS });
    expect(parsed("  websocket \t reconnect\njitter ").include.map((match) => (match as Term).text)).toEqual(["websocket", "reconnect", "jitter"]);
  });

  it("folds terms (Café is cafe, ÉCOLE is ecole)", () => {
    expect(parsed("Café").include).toEqual([term("cafe", "infix")]);
    expect(parsed("ÉCOLE").include).toEqual([term("ecole", "infix", true)]);
  });

  it("matches a term of 3 or more characters inside words, a shorter one at the start of a word", () => {
    expect(parsed("textof").include).toEqual([term("textof", "infix", true)]);
    expect(parsed("kub").include).toEqual([term("kub", "infix")]);
    expect(parsed("io").include).toEqual([term("io", "prefix")]);
    expect(parsed("x").include).toEqual([term("x", "prefix")]);
    // Characters are code points: two kanji are a short term.
    expect(parsed("東京").include).toEqual([term("東京", "prefix")]);
    expect(parsed("𝒜𝒜").include).toEqual([term("aa", "prefix")]);
  });

  it("counts a term's length after folding (ﬁ is two letters)", () => {
    expect(parsed("ﬁ").include).toEqual([term("fi", "prefix")]);
    expect(parsed("ﬁx").include).toEqual([term("fix", "infix")]);
  });

  it("matches a term holding other characters as that exact sequence", () => {
    for (const q of ["src/index.ts", "unique-marker-123", "file.ts:12", "parse_session_file", "ringBuffer.ts", "0042_add_tags.sql", "C++", "..."]) {
      expect(parsed(q).include).toEqual([term(foldText(q), "sequence")]);
    }
  });

  it("allows one typo in a term of 5 or more letters, letters only", () => {
    expect(parsed("tokenizr").include).toEqual([term("tokenizr", "infix", true)]);
    expect(parsed("retreive").include).toEqual([term("retreive", "infix", true)]);
    expect(parsed("naïve").include).toEqual([term("naive", "infix", true)]);
    expect(parsed("ledge").include).toEqual([term("ledge", "infix", true)]);
    expect(parsed("ledg").include).toEqual([term("ledg", "infix")]);
    expect(parsed("utf8x").include).toEqual([term("utf8x", "infix")]);
    expect(parsed("web_fetch").include).toEqual([term("web_fetch", "sequence")]);
  });

  it("drops a term that folds to nothing (only combining marks)", () => {
    expect(parsed("\u0301\u0308 ring").include).toEqual([term("ring", "infix")]);
  });
});

describe("parseQuery: phrases", () => {
  it('matches "a quoted phrase" as its words in that order', () => {
    expect(parsed('"ring buffer"').include).toEqual([phrase("ring", "buffer")]);
    expect(parsed('"Ring  Buffer" overflow').include).toEqual([phrase("ring", "buffer"), term("overflow", "infix", true)]);
  });

  it("splits a phrase into words as the text is split (anything but letters and digits separates)", () => {
    expect(parsed('"parse_session_file failed"').include).toEqual([phrase("parse", "session", "file", "failed")]);
  });

  it("keeps a quoted single word a phrase: the whole word, not a part of one", () => {
    expect(parsed('"ring"').include).toEqual([phrase("ring")]);
  });

  it("runs an unbalanced quote to the end of the query", () => {
    expect(parsed('"lock free stack').include).toEqual([phrase("lock", "free", "stack")]);
    expect(parsed('ring "lock free').include).toEqual([term("ring", "infix"), phrase("lock", "free")]);
    expect(parsed('a "b c" "d e').include).toEqual([term("a", "prefix"), phrase("b", "c"), phrase("d", "e")]);
  });

  it("takes a quote as the start of a phrase wherever it is, and the text after its end as a new term", () => {
    expect(parsed('say"hello world"now').include).toEqual([term("say", "infix"), phrase("hello", "world"), term("now", "infix")]);
  });

  it("reads typographic quotes as quotes", () => {
    expect(parsed("\u201cring buffer\u201d").include).toEqual([phrase("ring", "buffer")]);
  });

  it("keeps operators inside a phrase as words", () => {
    expect(parsed('"tag:bugfix in:tools"')).toEqual({ include: [phrase("tag", "bugfix", "in", "tools")], exclude: [], filters: NO_FILTERS });
  });

  it("drops a phrase with no word in it", () => {
    expect(parsed('ring "" "--"').include).toEqual([term("ring", "infix")]);
  });
});

describe("parseQuery: exclusions", () => {
  it('excludes -term and -"a phrase"', () => {
    expect(parsed("tokenizer -python")).toEqual({
      include: [term("tokenizer", "infix", true)],
      exclude: [term("python", "infix", true)],
      filters: NO_FILTERS,
    });
    expect(parsed('rollback migration -"dry run"')).toEqual({
      include: [term("rollback", "infix", true), term("migration", "infix", true)],
      exclude: [phrase("dry", "run")],
      filters: NO_FILTERS,
    });
  });

  it("classifies an excluded term like any term", () => {
    expect(parsed("canary -staging -io -src/x.ts").exclude).toEqual([term("staging", "infix", true), term("io", "prefix"), term("src/x.ts", "sequence")]);
  });

  it("excludes only at the start of a term: a hyphen inside is part of it", () => {
    expect(parsed("perf-regression").include).toEqual([term("perf-regression", "sequence")]);
    expect(parsed("x --verbose").exclude).toEqual([term("-verbose", "sequence")]);
  });

  it("ignores a lone -", () => {
    expect(parsed("ring - buffer")).toEqual(parsed("ring buffer"));
  });

  it("excludes an unbalanced quoted phrase to the end of the query", () => {
    expect(parsed('canary -"dry run').exclude).toEqual([phrase("dry", "run")]);
  });
});

describe("parseQuery: operators", () => {
  it("reads model:, tag:, cwd: and session: as filters, values as typed", () => {
    expect(parsed("model:Qwen tag:bugfix cwd:opta-lmx session:V1StGXR8_Z5j tokenizer")).toEqual({
      include: [term("tokenizer", "infix", true)],
      exclude: [],
      filters: { ...NO_FILTERS, model: ["Qwen"], tag: ["bugfix"], cwd: ["opta-lmx"], session: ["V1StGXR8_Z5j"] },
    });
  });

  it("reads since: and until: as the list's since (ISO 8601, no offset is UTC)", () => {
    const { filters } = parsed("canary since:2026-10-01 until:2026-10-02T12:30:00+02:00");
    expect(filters.since).toBe(Date.UTC(2026, 9, 1));
    expect(filters.until).toBe(Date.UTC(2026, 9, 2, 10, 30));
  });

  it("keeps every repeated operator: both must hold", () => {
    const { filters } = parsed("tag:ops tag:canary model:qwen model:coder since:2026-01-01 since:2026-03-01 until:2026-12-01 until:2026-06-01");
    expect(filters.tag).toEqual(["ops", "canary"]);
    expect(filters.model).toEqual(["qwen", "coder"]);
    expect(filters.since).toBe(Date.UTC(2026, 2, 1));
    expect(filters.until).toBe(Date.UTC(2026, 5, 1));
  });

  it("reads role:user|assistant|tool, and role:tool implies in:tools", () => {
    expect(parsed("role:user backpressure").filters).toEqual({ ...NO_FILTERS, role: "user" });
    expect(parsed("role:assistant flamegraph").filters).toEqual({ ...NO_FILTERS, role: "assistant" });
    expect(parsed("role:tool EADDRINUSE").filters).toEqual({ ...NO_FILTERS, role: "tool", inTools: true });
    expect(parsed("role:user role:user x").filters.role).toBe("user");
  });

  it("reads in:tools", () => {
    expect(parsed("in:tools web_fetch")).toEqual({ include: [term("web_fetch", "sequence")], exclude: [], filters: { ...NO_FILTERS, inTools: true } });
  });

  it("accepts an operator alone as a query", () => {
    expect(parsed("tag:Incident")).toEqual({ include: [], exclude: [], filters: { ...NO_FILTERS, tag: ["Incident"] } });
    expect(parsed("in:tools").filters.inTools).toBe(true);
    expect(parsed("since:2026-01-01 -canary").exclude).toEqual([term("canary", "infix", true)]);
  });

  it("reads operator names, and the values of role: and in:, ignoring case", () => {
    expect(parsed("TAG:x Role:User IN:Tools").filters).toEqual({ ...NO_FILTERS, tag: ["x"], role: "user", inTools: true });
  });

  it("takes a quoted value right after the colon, spaces and all", () => {
    expect(parsed('cwd:"/Users/me/My Projects" readme').filters.cwd).toEqual(["/Users/me/My Projects"]);
    expect(parsed('since:"2026-07-01 12:00" x').filters.since).toBe(Date.UTC(2026, 6, 1, 12));
    expect(parsed('tag:"ops').filters.tag).toEqual(["ops"]);
  });

  it("reads a quote after an operator's value as a phrase of its own", () => {
    expect(parsed('tag:ops"dry run"')).toEqual({ include: [phrase("dry", "run")], exclude: [], filters: { ...NO_FILTERS, tag: ["ops"] } });
  });

  it("splits an operator at its first colon only (a time's colons are the value's)", () => {
    expect(parsed("session:a:b").filters.session).toEqual(["a:b"]);
    expect(parsed("until:2026-07-01T12:00:00Z").filters.until).toBe(Date.UTC(2026, 6, 1, 12));
  });

  it("reads a word with a colon that is no operator as an ordinary term (a URL, file:line, host:port)", () => {
    for (const q of ["http://x", "http://localhost:1234", "file.ts:12", "tokenizer.rs:88", "localhost:1234", "models:qwen", "intools:x", ":tag", "tag"]) {
      expect(parsed(q)).toEqual({ include: [term(foldText(q), q === "tag" ? "infix" : "sequence")], exclude: [], filters: NO_FILTERS });
    }
  });
});

describe("parseQuery: refused queries (400 invalid_parameter, param q)", () => {
  it("refuses a query with no term to match and no operator", () => {
    for (const q of ["", " ", "-python", '-"dry run"', "-a -b", "-", '""', '"', "\u0000\u0001", "\ud800\udc00".slice(0, 1), "\u0301"]) {
      expect(refused(q)).toBe("q must hold a word, a phrase or an operator to search for (exclusions alone match nothing)");
    }
  });

  it("refuses an operator without a value", () => {
    expect(refused("tag: canary")).toBe("tag: needs a value, e.g. tag:bugfix");
    expect(refused('model:"" x')).toBe("model: needs a value, e.g. model:qwen");
    expect(refused("since:")).toBe("since: needs a value, e.g. since:2026-07-01");
  });

  it("refuses a since: or until: that is not an ISO 8601 date or date-time", () => {
    for (const q of ["since:yesterday", "until:2026-02-30", "since:2026-13-01", "since:12345"]) {
      expect(refused(`canary ${q}`)).toMatch(/^(since|until): must be an ISO 8601 date or date-time, e.g. /);
    }
  });

  it("refuses a role other than user, assistant or tool, and two different roles", () => {
    expect(refused("role:system x")).toBe("role: must be user, assistant or tool, e.g. role:user");
    expect(refused("role:user role:assistant x")).toBe("role: is given twice (user, assistant): a message has one role");
  });

  it("refuses in: with anything but tools", () => {
    expect(refused("in:title x")).toBe("in: takes only tools (in:tools)");
  });

  it("refuses an excluded operator rather than guess what it means", () => {
    expect(refused("canary -tag:staging")).toBe("an operator cannot be excluded (-tag:): leave out the - or quote the text");
  });

  it("never repeats the query's own text in a message", () => {
    for (const q of ["-model:qzqzqz", "since:qzqzqz", "role:qzqzqz", "in:qzqzqz"]) expect(refused(q)).not.toContain("qzqzqz");
  });
});

describe("parseQuery: hostile input", () => {
  it("parses a very long q, never throwing", () => {
    const long = `${"ab".repeat(50_000)} ${'"x '.repeat(10_000)}`;
    const query = parsed(long);
    expect(query.include[0]).toEqual(term("ab".repeat(50_000), "infix", true));
    // "x "x "x ...: a phrase and a term by turns.
    expect(query.include).toHaveLength(1 + 10_000);
    expect(parsed("a ".repeat(100_000)).include).toHaveLength(100_000);
  });

  it("reads only operators and quotes without failing", () => {
    // Quotes pair up in order: "" is empty, " ---" has no word, and the last one runs to the end.
    expect(parsed('::: """ ---"x"').include).toEqual([term(":::", "sequence"), term("x", "prefix")]);
    expect(refused('"""" - -- ---')).toMatch(/^q must hold/);
    expect(() => parseQuery("tag:a:b:c in:tools role:tool -")).not.toThrow();
  });

  it("reads control characters as separators", () => {
    expect(parsed("ring\u0000buffer\u0007x\u007f").include).toEqual([term("ring", "infix"), term("buffer", "infix", true), term("x", "prefix")]);
    expect(parsed("tag:ops\u0000canary").filters.tag).toEqual(["ops"]);
  });

  it("reads lone surrogates as separators and keeps paired ones (emoji) whole", () => {
    expect(parsed("ring\ud800buffer\udfff").include).toEqual([term("ring", "infix"), term("buffer", "infix", true)]);
    expect(parsed("😀 fix").include).toEqual([term("😀", "sequence"), term("fix", "infix")]);
    expect(parsed('"😀 fix"').include).toEqual([phrase("fix")]);
  });

  it("gives every parsed term a non-empty folded text and every phrase a word", () => {
    // A deterministic walk over awkward characters; a failure prints the q that broke it.
    const pieces = ['"', "-", ":", " ", "tag:", "in:", "x", "É", "\u0301", "\u0000", "\ud800", "😀", "/", "\u201c", "ﬁ", "東"];
    let state = 7;
    for (let n = 0; n < 2_000; n++) {
      let q = "";
      for (let i = 0; i < 12; i++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        q += pieces[state % pieces.length];
      }
      const result = parseQuery(q);
      if (!result.ok) continue;
      const matches: Match[] = [...result.query.include, ...result.query.exclude];
      for (const match of matches) {
        if (match.kind === "term") expect(match.text, q).not.toBe("");
        else expect(match.words.length, q).toBeGreaterThan(0);
      }
    }
  });
});

describe("parseQuery: the relevance set's queries", () => {
  // {key} stands for a planted session's id; a nanoid-like id with a letter first, as the corpus makes them.
  const queries = judgments.queries.map((judged) => ({ ...judged, q: judged.q.replace(/\{[\w-]+\}/g, "V1StGXR8_Z5j") }));

  it.each(queries)("parses $q ($kind)", ({ q }) => {
    parsed(q);
  });

  it("parses each one as its reason says", () => {
    const byQ = (q: string) => parsed(q);
    expect(byQ('"lock free stack').include).toEqual([phrase("lock", "free", "stack")]);
    expect(byQ("in:tools src/ingest/ringBuffer.ts")).toEqual({
      include: [term("src/ingest/ringbuffer.ts", "sequence")],
      exclude: [],
      filters: { ...NO_FILTERS, inTools: true },
    });
    expect(byQ("io uring").include).toEqual([term("io", "prefix"), term("uring", "infix", true)]);
    expect(byQ("kube").include).toEqual([term("kube", "infix")]);
    expect(byQ("kubernetse").include).toEqual([term("kubernetse", "infix", true)]);
    expect(byQ("facade pattern").include).toEqual([term("facade", "infix", true), term("pattern", "infix", true)]);
    expect(byQ("cwd:opta-lmx websocket").filters.cwd).toEqual(["opta-lmx"]);
    expect(byQ("session:V1StGXR8_Z5j jemalloc").filters.session).toEqual(["V1StGXR8_Z5j"]);
    expect(byQ("V1StGXR8_Z5j").include).toEqual([term("v1stgxr8_z5j", "sequence")]);
    expect(byQ("canary until:2025-06-01").filters.until).toBe(Date.UTC(2025, 5, 1));
  });
});
