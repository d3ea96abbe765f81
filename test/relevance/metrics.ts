/**
 * The relevance figures the search is judged by, over one query's ranking (session ids, best first) and its judged
 * grades (2 = the session you want, 1 = also relevant; an id with no grade counts as 0).
 */
export type Grades = Readonly<Record<string, number>>;

/** The grade the query's best answers have: what rank 1 should hold. */
function bestGrade(grades: Grades): number {
  return Math.max(0, ...Object.values(grades));
}

/** 1 when the first result is one of the best-graded answers, else 0 (a "relevant but not the one" first result scores 0). */
export function precisionAt1(ranking: readonly string[], grades: Grades): number {
  const first = ranking[0];
  const best = bestGrade(grades);
  return best > 0 && first !== undefined && grades[first] === best ? 1 : 0;
}

/** 1 / the rank of the first best-graded answer, 0 when none is in the ranking (its mean over queries is MRR). */
export function reciprocalRank(ranking: readonly string[], grades: Grades): number {
  const best = bestGrade(grades);
  if (best === 0) return 0;
  const rank = ranking.findIndex((id) => grades[id] === best);
  return rank === -1 ? 0 : 1 / (rank + 1);
}

/** Discounted cumulative gain of grades in this order, gain 2^grade - 1 and discount log2(rank + 1). */
function dcg(gradesInOrder: readonly number[]): number {
  return gradesInOrder.reduce((sum, grade, i) => sum + (2 ** grade - 1) / Math.log2(i + 2), 0);
}

/** nDCG@k: the ranking's DCG over its first k results, over the DCG of the judged answers in the best order. */
export function ndcgAt(k: number, ranking: readonly string[], grades: Grades): number {
  const ideal = dcg(
    Object.values(grades)
      .filter((grade) => grade > 0)
      .sort((a, b) => b - a)
      .slice(0, k),
  );
  if (ideal === 0) return 0;
  return dcg(ranking.slice(0, k).map((id) => grades[id] ?? 0)) / ideal;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}
