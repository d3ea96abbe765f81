import { createRequire } from "node:module";
import type { SqlDatabase, SqlStatement, SqlValue } from "../sessions/search/sql.js";

/** What node:sqlite's DatabaseSync and better-sqlite3's Database share, and all we use of them. */
interface SyncDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { all(...params: SqlValue[]): unknown[]; run(...params: SqlValue[]): unknown };
  close(): unknown;
}

type Open = (path: string) => SyncDatabase;

/**
 * SQLite as Node has it: `node:sqlite` where Node ships it unflagged (22.13+), else better-sqlite3
 * (an optional dependency, for Node 20). Both bundle SQLite with FTS5 and its trigram tokenizer.
 */
export async function openSqlite(path: string): Promise<SqliteDatabase> {
  const open = (await nodeSqlite()) ?? betterSqlite3();
  if (open === null) {
    throw new Error("search needs SQLite: Node 22.13 or later (node:sqlite), or the better-sqlite3 package on Node 20 (npm install better-sqlite3)");
  }
  const db = open(path);
  // WAL: readers never wait for the writer. A checkpoint every ~32 MiB of log rather than SQLite's 4 MiB:
  // a session the CLI saves again and again rewrites the same pages, and each checkpoint runs in a commit.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 8000");
  return new SqliteDatabase(db);
}

/** node:sqlite, without the ExperimentalWarning Node 22 prints on its first load: it is the feature we chose. */
async function nodeSqlite(): Promise<Open | null> {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes("SQLite")) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    const name = "node:sqlite"; // not a literal: @types/node 20 does not know the module
    const sqlite = (await import(name)) as { DatabaseSync: new (path: string) => SyncDatabase };
    return (path) => new sqlite.DatabaseSync(path);
  } catch {
    return null; // Node 20, or 22 before 22.13 (behind --experimental-sqlite)
  } finally {
    process.emitWarning = emitWarning;
  }
}

function betterSqlite3(): Open | null {
  try {
    const Database = createRequire(import.meta.url)("better-sqlite3") as new (path: string) => SyncDatabase;
    return (path) => new Database(path);
  } catch {
    return null;
  }
}

export class SqliteDatabase implements SqlDatabase {
  readonly #db: SyncDatabase;
  readonly #prepared = new Map<string, ReturnType<SyncDatabase["prepare"]>>();
  readonly maxTextLength = Number.POSITIVE_INFINITY;

  constructor(db: SyncDatabase) {
    this.#db = db;
  }

  #prepare(sql: string): ReturnType<SyncDatabase["prepare"]> {
    let prepared = this.#prepared.get(sql);
    if (prepared === undefined) {
      prepared = this.#db.prepare(sql);
      this.#prepared.set(sql, prepared);
    }
    return prepared;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.#prepare(sql).all(...params) as T[];
  }

  async batch(statements: SqlStatement[]): Promise<void> {
    // IMMEDIATE: take the write lock first, so two writers (worker threads) wait on each other instead of failing
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const { sql, params } of statements) this.#prepare(sql).run(...params);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    this.#prepared.clear();
    this.#db.close();
  }
}
