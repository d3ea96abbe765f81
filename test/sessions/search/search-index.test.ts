import { describe, expect, it } from "vitest";
import { type Searchable, SearchIndex } from "../../../src/sessions/search/search-index.js";
import { Slots, TrigramBuckets } from "../../../src/sessions/search/trigram-buckets.js";
import { mayContain, signaturesOf, termHashes } from "../../../src/sessions/search/trigrams.js";

/** A small deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ALPHABET = "abcdeé中😀 \n";

function text(next: () => number, length: number): string {
  let out = "";
  while (out.length < length) out += [...ALPHABET][Math.floor(next() * [...ALPHABET].length)];
  return out;
}

describe("trigram signatures", () => {
  it("never rule out a substring that is there (no false negatives), over random texts", () => {
    const next = random(42);
    for (let round = 0; round < 300; round++) {
      const body = text(next, Math.floor(next() * 400));
      const { signature } = signaturesOf(body);
      for (let probe = 0; probe < 20; probe++) {
        const start = Math.floor(next() * body.length);
        const term = body.slice(start, start + 1 + Math.floor(next() * 8));
        expect(mayContain(signature, termHashes(term)), JSON.stringify({ body, term })).toBe(true);
      }
    }
  });

  it("rule out most terms that are absent", () => {
    const body = "the quick brown fox jumps over the lazy dog ".repeat(20);
    const { signature } = signaturesOf(body);
    const absent = ["zebra", "xylophone", "quartz", "mnbvcx", "kettle", "jigsaw", "wxyz", "pqrs"];
    expect(absent.filter((term) => mayContain(signature, termHashes(term))).length).toBeLessThanOrEqual(1);
  });
});

describe("SearchIndex", () => {
  const models: string[] = [];
  const slots = new Slots();
  const buckets = { names: new TrigramBuckets(), text: new TrigramBuckets() };
  function entry(id: string, names: string, model: string, messages: string): Searchable & { id: string } {
    const modelId = models.includes(model) ? models.indexOf(model) : models.push(model) - 1;
    const { signature, buckets: coarse } = signaturesOf(messages);
    const slot = slots.take();
    buckets.names.add(slot, signaturesOf(names).buckets);
    buckets.text.add(slot, coarse);
    return { id, names: { names, model }, modelId, search: { messages, signature }, slot };
  }

  /** The contract's rule, written the slow and obvious way. */
  function naive(entries: ReturnType<typeof entry>[], terms: string[], limit: number): string[] {
    const ranked = entries
      .map((e, position) => {
        const ranks = terms.map((t) => (e.names.names.includes(t) ? 0 : e.names.model.includes(t) ? 1 : e.search.messages.includes(t) ? 2 : null));
        return ranks.includes(null) ? null : { id: e.id, rank: Math.max(0, ...(ranks as number[])), position };
      })
      .filter((hit): hit is { id: string; rank: number; position: number } => hit !== null)
      .sort((a, b) => a.rank - b.rank || a.position - b.position);
    return ranked.slice(0, limit).map((hit) => hit.id);
  }

  it("agrees with the obvious implementation on random corpora and queries", () => {
    const next = random(7);
    for (let round = 0; round < 200; round++) {
      const entries = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, i) =>
        entry(`e${i}`, `${text(next, 3)}\n${text(next, 3)}`, text(next, 1 + Math.floor(next() * 2)), text(next, Math.floor(next() * 200))),
      );
      const terms = Array.from({ length: 1 + Math.floor(next() * 3) }, () => text(next, 1 + Math.floor(next() * 3)).replace(/\s/g, "a"));
      if (next() < 0.1) terms.push("\0"); // the separator of the packed names must never match
      const limit = 1 + Math.floor(next() * 10);
      expect(
        new SearchIndex(entries, models, buckets, slots.size).search(terms, limit).map((e) => e.id),
        JSON.stringify(terms),
      ).toEqual(naive(entries, terms, limit));
    }
  });

  it("agrees with the obvious implementation where candidates are many (common terms, a large list)", () => {
    const next = random(11);
    for (let round = 0; round < 20; round++) {
      const entries = Array.from({ length: 400 + Math.floor(next() * 400) }, (_, i) =>
        entry(`e${i}`, text(next, 5), text(next, 1), text(next, 20 + Math.floor(next() * 60))),
      );
      for (const terms of [["abc"], ["ab", "cd"], ["éa"], ["bcd", "dea"], ["a"]]) {
        for (const limit of [1, 5, 40]) {
          expect(
            new SearchIndex(entries, models, buckets, slots.size).search(terms, limit).map((e) => e.id),
            JSON.stringify(terms),
          ).toEqual(naive(entries, terms, limit));
        }
      }
    }
  });
});
