import { parentPort, workerData } from "node:worker_threads";
import { type IndexResult, loadSession } from "../../sessions/loader.js";
import { textLengthOf } from "../../sessions/search/document.js";
import { type IndexedSession, indexedSessionOf, putStatements } from "../../sessions/search/engine.js";
import { serveSession } from "../../sessions/session-view.js";
import { realSleep } from "../../shared/clock.js";
import { blockingReaderOf } from "../../storage/fs/fs-store.js";
import { openSqlite, type SqliteDatabase } from "../sqlite.js";
import type { LoaderThreadData, LoadJob, LoadReply } from "./loader-pool.js";

/** A worker thread that reads and digests session files, so big JSON.parse calls never block the server. */

const store = blockingReaderOf((workerData as LoaderThreadData).store);

/** This thread's own connection to each search index it writes (one per sessions directory; in practice one). */
const databases = new Map<string, Promise<SqliteDatabase>>();

interface IndexJob {
  name: string;
  index: { database: string; stamp: string };
  done: (result: IndexResult) => void;
  failed: (error: unknown) => void;
}

/** Index jobs waiting: written together, a few dozen per transaction (each commit costs FTS5 a merge step and SQLite a sync). */
const indexQueue: IndexJob[] = [];
let draining = false;
const SESSIONS_PER_TRANSACTION = 32;
const TEXT_PER_TRANSACTION = 4_000_000;

function indexSession(name: string, index: IndexJob["index"]): Promise<IndexResult> {
  return new Promise((done, failed) => {
    indexQueue.push({ name, index, done, failed });
    if (!draining) {
      draining = true;
      setImmediate(() => void drainIndexQueue()); // let the jobs already posted arrive first
    }
  });
}

/** Reads the queued sessions and writes their documents, a transaction per batch and database. */
async function drainIndexQueue(): Promise<void> {
  while (indexQueue.length > 0) {
    const batch = indexQueue.splice(0, SESSIONS_PER_TRANSACTION);
    const byDatabase = new Map<string, { job: IndexJob; indexed: IndexedSession }[]>();
    let text = 0;
    for (const [i, job] of batch.entries()) {
      if (text > TEXT_PER_TRANSACTION) {
        indexQueue.unshift(...batch.slice(i)); // the rest in the next transaction
        break;
      }
      try {
        const loaded = await loadSession(store, job.name, realSleep, { retry: false, search: true });
        const indexed = loaded.status === "ok" ? indexedSessionOf(loaded.session, job.index.stamp) : null;
        if (indexed === null) {
          job.done(loaded.status === "ok" ? { status: "corrupt" } : loaded);
          continue;
        }
        const writes = byDatabase.get(job.index.database) ?? [];
        writes.push({ job, indexed });
        byDatabase.set(job.index.database, writes);
        text += textLengthOf(indexed.document);
      } catch (error) {
        job.failed(error);
      }
    }
    for (const [database, writes] of byDatabase) {
      try {
        const db = await databaseAt(database);
        await db.batch(
          putStatements(
            writes.map((write) => write.indexed),
            db.maxTextLength,
          ),
        );
        for (const write of writes) write.job.done({ status: "indexed" });
      } catch (error) {
        for (const write of writes) write.job.failed(error);
      }
    }
  }
  draining = false;
}

function databaseAt(path: string): Promise<SqliteDatabase> {
  let database = databases.get(path);
  if (database === undefined) {
    database = openSqlite(path);
    databases.set(path, database);
  }
  return database;
}

parentPort?.on("message", async (job: LoadJob) => {
  let reply: LoadReply;
  try {
    reply = {
      id: job.id,
      result: job.view
        ? await serveSession(store, job.name, realSleep, job.view)
        : job.index
          ? await indexSession(job.name, job.index)
          : await loadSession(store, job.name, realSleep, job.options),
    };
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  const result = reply.result?.status === "ok" ? reply.result : undefined;
  // An answer's bytes move to the main thread instead of being copied.
  parentPort?.postMessage(reply, result && "json" in result ? [result.json.buffer] : []);
});
