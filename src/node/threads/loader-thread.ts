import { parentPort, workerData } from "node:worker_threads";
import { loadSession } from "../../sessions/loader.js";
import { serveSession } from "../../sessions/session-view.js";
import { realSleep } from "../../shared/clock.js";
import { blockingReaderOf } from "../../storage/fs/fs-store.js";
import type { LoaderThreadData, LoadJob, LoadReply } from "./loader-pool.js";

/** A worker thread that reads and digests session files, so big JSON.parse calls never block the server. */

const store = blockingReaderOf((workerData as LoaderThreadData).store);

parentPort?.on("message", async (job: LoadJob) => {
  let reply: LoadReply;
  try {
    reply = {
      id: job.id,
      result: job.view ? await serveSession(store, job.name, realSleep, job.view) : await loadSession(store, job.name, realSleep, job.options),
    };
  } catch (error) {
    reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
  }
  const result = reply.result?.status === "ok" ? reply.result : undefined;
  // An answer's bytes move to the main thread instead of being copied.
  parentPort?.postMessage(reply, result && "json" in result ? [result.json.buffer] : []);
});
