import { describe, expect, it } from "vitest";
import { hasSlot, Slots, slotsOf, TrigramBuckets } from "../../../src/sessions/search/trigram-buckets.js";
import { signaturesOf, termHashes } from "../../../src/sessions/search/trigrams.js";

const coarse = (text: string) => signaturesOf(text).buckets;

describe("TrigramBuckets", () => {
  it("names as candidates every session holding a term, across growth past its first capacity", () => {
    const buckets = new TrigramBuckets();
    const texts = Array.from({ length: 3000 }, (_, i) => `session ${i} talks about ${i % 7 === 0 ? "kubernetes" : "nothing"} here`);
    const slots = texts.map((text, slot) => {
      buckets.add(slot, coarse(text));
      return slot;
    });
    const candidates = buckets.candidates(termHashes("kubernetes"));
    texts.forEach((text, i) => {
      if (text.includes("kubernetes")) expect(hasSlot(candidates, slots[i] as number)).toBe(true);
    });
    const falsePositives = texts.filter((text, i) => !text.includes("kubernetes") && hasSlot(candidates, slots[i] as number)).length;
    expect(falsePositives).toBeLessThan(texts.length / 20);
  });

  it("forgets a removed session, so its slot can be reused for the next one", () => {
    const buckets = new TrigramBuckets();
    const slots = new Slots();
    const slot = slots.take();
    buckets.add(slot, coarse("the zebra crossing"));
    expect(hasSlot(buckets.candidates(termHashes("zebra")), slot)).toBe(true);
    buckets.remove(slot);
    slots.give(slot);
    expect(hasSlot(buckets.candidates(termHashes("zebra")), slot)).toBe(false);
    const reused = slots.take();
    buckets.add(reused, coarse("a quiet pond"));
    expect(reused).toBe(slot);
    expect(hasSlot(buckets.candidates(termHashes("zebra")), reused)).toBe(false);
    expect(hasSlot(buckets.candidates(termHashes("pond")), reused)).toBe(true);
    expect(slotsOf(buckets.candidates(termHashes("pond")))).toEqual([reused]);
  });

  it("treats a term too short for a trigram as a candidate everywhere", () => {
    const buckets = new TrigramBuckets();
    const slot = 5;
    buckets.add(slot, coarse("anything"));
    expect(hasSlot(buckets.candidates(termHashes("zz")), slot)).toBe(true);
  });
});
