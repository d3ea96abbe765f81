/** Types for what the tests import from text.mjs (the relevance corpus draws from the same seeded randomness). */
export interface Random {
  next(): number;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Skewed towards the front of the list, like word frequencies. */
  zipf<T>(items: readonly T[]): T;
}

/** mulberry32: the same seed gives the same numbers. */
export function createRandom(seed: number): Random;
