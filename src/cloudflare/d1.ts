import type { SqlDatabase, SqlStatement, SqlValue } from "../sessions/search/sql.js";

/** The part of Cloudflare's D1 binding we use. */
export interface D1DatabaseLike {
  prepare(sql: string): D1PreparedStatementLike;
  batch(statements: D1PreparedStatementLike[]): Promise<unknown>;
}

interface D1PreparedStatementLike {
  bind(...values: SqlValue[]): D1PreparedStatementLike;
  all<T>(): Promise<{ results: T[] }>;
}

/** D1 refuses a row or value over 2,000,000 bytes; a character is up to 3 bytes in UTF-8 (a pair of UTF-16 units, 4). */
const D1_MAX_TEXT_LENGTH = 600_000;

/** The search index's database on the Worker: D1, every isolate's one copy. `batch` is one transaction. */
export class D1Database implements SqlDatabase {
  readonly #db: D1DatabaseLike;
  readonly maxTextLength = D1_MAX_TEXT_LENGTH;

  constructor(db: D1DatabaseLike) {
    this.#db = db;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return (
      await this.#db
        .prepare(sql)
        .bind(...params)
        .all<T>()
    ).results;
  }

  async batch(statements: SqlStatement[]): Promise<void> {
    if (statements.length === 0) return;
    await this.#db.batch(statements.map(({ sql, params }) => this.#db.prepare(sql).bind(...params)));
  }
}
