/**
 * The little of SQL the search index needs, over SQLite on Node (node:sqlite or better-sqlite3)
 * and D1 on the Worker: one schema, one set of statements, each runtime's driver behind this.
 */
export type SqlValue = string | number | null;

export interface SqlStatement {
  sql: string;
  params: SqlValue[];
}

export interface SqlDatabase {
  /** Rows of one query. */
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  /** Statements run in order, in one transaction: all of them, or none. */
  batch(statements: SqlStatement[]): Promise<void>;
  /**
   * The largest text one value may hold (D1 refuses rows over 2 MB; SQLite has no such limit).
   * Longer texts are cut at a space before this many UTF-16 code units.
   */
  readonly maxTextLength: number;
  /**
   * D1 bills every row a query reads: a search there lets FTS5 rank and hand over its best matches only,
   * where SQLite is quicker ranking in our own query (which reads a row per match).
   */
  readonly billsRowsRead?: boolean;
  /** Lets the database go (SQLite's file); D1 has nothing to close. */
  close?(): void;
}

export function statement(sql: string, ...params: SqlValue[]): SqlStatement {
  return { sql, params };
}
