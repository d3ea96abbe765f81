import { describe, expect, it } from "vitest";
import { hasSlot, TrigramBuckets } from "../../src/sessions/trigram-buckets.js";
import { signaturesOf, termHashes } from "../../src/sessions/trigrams.js";

const coarse = (text: string) => signaturesOf(text).buckets;

describe("TrigramBuckets", () => {
  it("names as candidates every session holding a term, across growth past its first capacity", () => {
    const buckets = new TrigramBuckets();
    const texts = Array.from({ length: 3000 }, (_, i) => `session ${i} talks about ${i % 7 === 0 ? "kubernetes" : "nothing"} here`);
    const slots = texts.map((text) => buckets.add(coarse(text)));
    const candidates = buckets.candidates(termHashes("kubernetes"));
    texts.forEach((text, i) => {
      if (text.includes("kubernetes")) expect(hasSlot(candidates, slots[i] as number)).toBe(true);
    });
    const falsePositives = texts.filter((text, i) => !text.includes("kubernetes") && hasSlot(candidates, slots[i] as number)).length;
    expect(falsePositives).toBeLessThan(texts.length / 20);
  });

  it("forgets a removed session and reuses its slot for the next one", () => {
    const buckets = new TrigramBuckets();
    const slot = buckets.add(coarse("the zebra crossing"));
    expect(hasSlot(buckets.candidates(termHashes("zebra")), slot)).toBe(true);
    buckets.remove(slot);
    expect(hasSlot(buckets.candidates(termHashes("zebra")), slot)).toBe(false);
    const reused = buckets.add(coarse("a quiet pond"));
    expect(reused).toBe(slot);
    expect(hasSlot(buckets.candidates(termHashes("zebra")), reused)).toBe(false);
    expect(hasSlot(buckets.candidates(termHashes("pond")), reused)).toBe(true);
  });

  it("treats a term too short for a trigram as a candidate everywhere", () => {
    const buckets = new TrigramBuckets();
    const slot = buckets.add(coarse("anything"));
    expect(hasSlot(buckets.candidates(termHashes("zz")), slot)).toBe(true);
  });
});
