import { env } from "cloudflare:workers";
import { beforeEach, vi } from "vitest";
import worker, { type WorkerEnv } from "../../src/cloudflare/worker.js";
import type { R2BucketLike } from "../../src/storage/r2-store.js";

/** One request to the Worker entry, as workerd hands it over; answers once the work given to waitUntil is done too. */
export async function callWorker(workerEnv: WorkerEnv, path: string, init: RequestInit = {}): Promise<Response> {
  const waits: Promise<unknown>[] = [];
  const response = await worker.fetch(new Request(`http://worker.test${path}`, init), workerEnv, { waitUntil: (p) => void waits.push(p) });
  await Promise.all(waits);
  return response;
}

/** Drops the Worker's one info line per request (thousands in some files, and not what is checked); warnings and errors still show. */
export function muteRequestLog(): void {
  beforeEach(() => {
    vi.spyOn(console, "log").mockImplementation(() => {});
  });
}

/**
 * The pool keeps one bucket and one D1 database per test file, not per test: a test that needs empty
 * ones empties both (the index is dropped and made again by the next app that opens it).
 */
export async function emptyBucket(): Promise<void> {
  await env.SEARCH.prepare("DROP TABLE IF EXISTS search_meta").run();
  const bucket: R2BucketLike = env.SESSIONS;
  for (;;) {
    const { objects } = await bucket.list();
    if (objects.length === 0) return;
    await bucket.delete(objects.map((object) => object.key));
  }
}

/** The Worker's cron, run now: what was put into the bucket by other means is indexed, rows of objects gone removed. */
export async function runCron(workerEnv: WorkerEnv): Promise<void> {
  const waits: Promise<unknown>[] = [];
  await worker.scheduled({}, workerEnv, { waitUntil: (p) => void waits.push(p) });
  await Promise.all(waits);
}
