import { describe, expect, it } from "vitest";
import { mean, ndcgAt, precisionAt1, reciprocalRank } from "./metrics.js";

const GRADES = { want: 2, also: 1, too: 1 };

describe("precisionAt1", () => {
  it("is 1 when the first result is the best-graded answer", () => {
    expect(precisionAt1(["want", "x"], GRADES)).toBe(1);
  });
  it("is 0 when the first result is only also relevant, unjudged, or missing", () => {
    expect(precisionAt1(["also", "want"], GRADES)).toBe(0);
    expect(precisionAt1(["x", "want"], GRADES)).toBe(0);
    expect(precisionAt1([], GRADES)).toBe(0);
  });
  it("takes grade 1 as the best when no answer has grade 2", () => {
    expect(precisionAt1(["also"], { also: 1, too: 1 })).toBe(1);
  });
});

describe("reciprocalRank", () => {
  it("is 1 over the rank of the first best-graded answer", () => {
    expect(reciprocalRank(["want"], GRADES)).toBe(1);
    expect(reciprocalRank(["x", "also", "want"], GRADES)).toBeCloseTo(1 / 3, 12);
  });
  it("is 0 when the best answer is not in the ranking", () => {
    expect(reciprocalRank(["also", "too", "x"], GRADES)).toBe(0);
  });
});

describe("ndcgAt", () => {
  it("is 1 for the ideal order", () => {
    expect(ndcgAt(10, ["want", "also", "too"], GRADES)).toBeCloseTo(1, 12);
  });
  it("matches a hand-computed value for a worse order", () => {
    // DCG = 0/log2(2) + 1/log2(3) + 3/log2(4) = 0.63093 + 1.5 = 2.13093
    // IDCG = 3/log2(2) + 1/log2(3) + 1/log2(4) = 3 + 0.63093 + 0.5 = 4.13093
    expect(ndcgAt(10, ["x", "also", "want"], GRADES)).toBeCloseTo(2.13093 / 4.13093, 5);
  });
  it("counts only the first k results, and caps the ideal at k too", () => {
    // k = 1: DCG = 1 (grade 1 first), IDCG = 3 (grade 2 first)
    expect(ndcgAt(1, ["also", "want"], GRADES)).toBeCloseTo(1 / 3, 12);
    expect(ndcgAt(2, ["x", "y", "want"], GRADES)).toBe(0);
  });
  it("is 0 for a query with no relevant answer judged", () => {
    expect(ndcgAt(10, ["x"], {})).toBe(0);
  });
});

describe("mean", () => {
  it("averages, and is 0 over nothing", () => {
    expect(mean([1, 0, 0.5])).toBeCloseTo(0.5, 12);
    expect(mean([])).toBe(0);
  });
});
