import type { R2BucketLike } from "../storage/r2-store.js";

/** Cloudflare's billed units: R2 operations by class (delete is free), D1 rows read and written, D1 queries. */
interface Costs {
  r2ClassA: number;
  r2ClassB: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  d1Queries: number;
}

/** R2's Class A operations (writes and listings); Class B are reads. */
const CLASS_A = new Set(["put", "list", "createMultipartUpload"]);
const CLASS_B = new Set(["get", "head"]);

/**
 * Counts what an isolate's requests cost, for OPTA_COST_HEADER (an answer's X-Opta-Cost): the bench and
 * the README's cost table read it. Counted per isolate, so requests that overlap share their counts.
 */
export class CostMeter {
  readonly #costs: Costs = { r2ClassA: 0, r2ClassB: 0, d1RowsRead: 0, d1RowsWritten: 0, d1Queries: 0 };

  /** The bucket, each call counted by its class. */
  bucket(bucket: R2BucketLike): R2BucketLike {
    return new Proxy(bucket, {
      get: (target, key) => {
        const value = Reflect.get(target, key);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (typeof key === "string" && CLASS_A.has(key)) this.#costs.r2ClassA++;
          if (typeof key === "string" && CLASS_B.has(key)) this.#costs.r2ClassB++;
          return value.apply(target, args);
        };
      },
    });
  }

  /** What D1 reported for one query (its result's meta). */
  d1(meta: { rows_read?: number; rows_written?: number } | undefined): void {
    this.#costs.d1Queries++;
    this.#costs.d1RowsRead += meta?.rows_read ?? 0;
    this.#costs.d1RowsWritten += meta?.rows_written ?? 0;
  }

  snapshot(): Costs {
    return { ...this.#costs };
  }

  /** The costs since `before`, as the X-Opta-Cost header says them. */
  since(before: Costs): string {
    const now = this.#costs;
    return [
      `r2-class-a=${now.r2ClassA - before.r2ClassA}`,
      `r2-class-b=${now.r2ClassB - before.r2ClassB}`,
      `d1-queries=${now.d1Queries - before.d1Queries}`,
      `d1-rows-read=${now.d1RowsRead - before.d1RowsRead}`,
      `d1-rows-written=${now.d1RowsWritten - before.d1RowsWritten}`,
    ].join(", ");
  }
}
