import { describe, expect, it } from "vitest";
import { relevanceCorpus } from "./corpus.js";
import { JUDGED_QUERIES } from "./evaluate.js";

/** The judgments agree with the corpus: every judged query has a best answer, and the generated sessions cannot compete by accident. */

const corpus = relevanceCorpus();

const OPERATOR = /^(model|tag|cwd|since|until|session|role|in):/i;

/** Terms and phrases of a query, quotes and exclusion signs removed; operators and {key} placeholders left out. */
function searchedUnits(q: string): string[] {
  return (q.match(/-?"[^"]*"?|\S+/g) ?? [])
    .map((unit) => unit.replace(/^-/, "").replaceAll('"', ""))
    .filter((unit) => unit !== "" && !OPERATOR.test(unit) && !/^\{[\w-]+\}$/.test(unit));
}

function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Is b one insertion, deletion, substitution or swap of two neighbours away from a (the contract's typo)? */
function oneTypoApart(a: string, b: string): boolean {
  if (a === b || Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rest = (x: string, from: number) => x.slice(from);
  return (
    rest(a, i + 1) === rest(b, i + 1) ||
    rest(a, i) === rest(b, i + 1) ||
    rest(a, i + 1) === rest(b, i) ||
    (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(a, i + 2) === rest(b, i + 2))
  );
}

describe("relevance: the judgments and the corpus", () => {
  it("judges at least 40 queries, each with a best answer among the planted sessions", () => {
    expect(JUDGED_QUERIES.length).toBeGreaterThanOrEqual(40);
    const sessions = new Map(corpus.sessions.map((session) => [session.id, session]));
    for (const query of JUDGED_QUERIES) {
      expect(Math.max(...Object.values(query.grades)), query.q).toBe(2);
      for (const [key, index] of Object.entries(query.hits ?? {})) {
        expect(query.grades[key], `${query.q}: a hit of an ungraded session`).toBeDefined();
        const messages = sessions.get(corpus.idOf(key))?.messages as { role: string }[];
        expect(["user", "assistant", "tool"], `${query.q}: hit ${index} of ${key}`).toContain(messages[index]?.role);
      }
    }
  });

  it("covers every kind of query the issue names and every operator of the query language", () => {
    const kinds = new Set(JUDGED_QUERIES.map((query) => query.kind));
    for (const kind of ["phrase", "identifier", "path", "typo", "accent", "exclusion", "operator", "recency", "field-weight", "message"]) {
      expect(kinds, kind).toContain(kind);
    }
    const queries = JUDGED_QUERIES.map((query) => query.q).join("\n");
    for (const operator of ["model:", "tag:", "cwd:", "since:", "until:", "session:", "role:user", "role:assistant", "role:tool", "in:tools", ' -"', " -"]) {
      expect(queries, operator).toContain(operator);
    }
    const params = new Set(JUDGED_QUERIES.flatMap((query) => Object.keys(query.params ?? {})));
    expect([...params].sort()).toEqual(["model", "since", "sort", "tag"]);
  });

  it("keeps the judged words (and words one typo from them) out of the generated sessions", () => {
    // Shared on purpose: the many sessions that merely contain these are what a ranking must see past ("string buffer",
    // "during"); "pattern" is search_files' argument, searched only with in:tools, which "facade pattern" does not use.
    const shared = new Set(["ring buffer", "ring", "buffer", "io", "uring", "pattern"]);
    const units = [...new Set(JUDGED_QUERIES.flatMap((query) => searchedUnits(query.q)).map(fold))].filter((unit) => !shared.has(unit));
    const generated = corpus.sessions.filter((session) => corpus.keyOf(String(session.id)) === undefined);
    // The system prompt is never searched (and names tools on purpose).
    const texts = generated.map((session) => fold(JSON.stringify({ ...session, messages: (session.messages as unknown[]).slice(1) })));
    const found = units.filter((unit) => texts.some((text) => text.includes(unit)));
    expect(found).toEqual([]);
    // Words of the text only: random ids cut at "-" and "_" give short words one typo from anything short.
    const generatedWords = new Set(texts.flatMap((text, i) => text.replaceAll(fold(String(generated[i]?.id)), " ").split(/[^\p{L}\p{N}]+/u)));
    const typoTerms = units.filter((word) => /^\p{L}{5,}$/u.test(word));
    const nearTypos = typoTerms.flatMap((term) => [...generatedWords].filter((word) => oneTypoApart(term, word)).map((word) => `${term}~${word}`));
    // A generated title cut at 60 characters through "rename"; `jemalloc arena` needs both words, so it cannot match.
    expect(nearTypos).toEqual(["arena~rena"]);
  });
});
