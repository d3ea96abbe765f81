import type { SqlDatabase, SqlStatement, SqlValue } from "../sessions/search/sql.js";

/** The part of Cloudflare's D1 binding we use. */
export interface D1DatabaseLike {
  prepare(sql: string): D1PreparedStatementLike;
  batch(statements: D1PreparedStatementLike[]): Promise<{ meta?: D1Meta }[]>;
}

interface D1PreparedStatementLike {
  bind(...values: SqlValue[]): D1PreparedStatementLike;
  all<T>(): Promise<{ results: T[]; meta?: D1Meta }>;
}

/** What D1 bills: rows read and written by a query. */
interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

/** D1 refuses a row or value over 2,000,000 bytes; a character is up to 3 bytes in UTF-8 (a pair of UTF-16 units, 4). */
const D1_MAX_TEXT_LENGTH = 600_000;

/** The search index's database on the Worker: D1, every isolate's one copy. `batch` is one transaction. */
export class D1Database implements SqlDatabase {
  readonly #db: D1DatabaseLike;
  readonly #counted: (meta: D1Meta | undefined) => void;
  readonly maxTextLength = D1_MAX_TEXT_LENGTH;
  readonly billsRowsRead = true;

  /** `counted`: told of each query's rows read and written (the cost meter). */
  constructor(db: D1DatabaseLike, counted: (meta: D1Meta | undefined) => void = () => {}) {
    this.#db = db;
    this.#counted = counted;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    const { results, meta } = await this.#db
      .prepare(sql)
      .bind(...params)
      .all<T>();
    this.#counted(meta);
    return results;
  }

  async batch(statements: SqlStatement[]): Promise<void> {
    if (statements.length === 0) return;
    const results = await this.#db.batch(statements.map(({ sql, params }) => this.#db.prepare(sql).bind(...params)));
    for (const result of results) this.#counted(result.meta);
  }
}
