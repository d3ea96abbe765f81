import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { LoadOptions, LoadResult, SessionLoader } from "../sessions/loader.js";

export interface LoadJob {
  id: number;
  name: string;
  options: LoadOptions;
}
export type LoadReply = { id: number; result: LoadResult; error?: undefined } | { id: number; error: string; result?: undefined };

interface Pending {
  resolve: (result: LoadResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * A SessionLoader that parses in worker threads (Node only): the main thread keeps answering
 * while a cold scan parses thousands of files, some of them tens of MB.
 */
export class WorkerLoader implements SessionLoader {
  // Enough jobs queued per worker that none waits on a round trip to the main thread.
  readonly concurrency: number;
  readonly #directory: string;
  readonly #workers: PoolWorker[] = [];
  #nextId = 0;
  #closed = false;

  constructor(directory: string, size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#directory = directory;
    this.concurrency = 32 * size;
    for (let i = 0; i < size; i++) this.#workers.push(this.#spawn());
  }

  load(name: string, options: LoadOptions): Promise<LoadResult> {
    if (this.#closed) return Promise.reject(new Error("the loader is closed"));
    const target = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.postMessage({ id, name, options } satisfies LoadJob);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }

  #spawn(): PoolWorker {
    const worker = new Worker(new URL("./load-worker.js", import.meta.url), { workerData: { directory: this.#directory } });
    const entry: PoolWorker = { worker, pending: new Map() };
    worker.unref(); // never what keeps the process alive
    worker.on("message", (reply: LoadReply) => {
      const job = entry.pending.get(reply.id);
      entry.pending.delete(reply.id);
      if (reply.result) job?.resolve(reply.result);
      else job?.reject(new Error(reply.error));
    });
    worker.on("error", (error) => this.#replace(entry, error));
    worker.on("exit", () => this.#replace(entry, new Error("a loader worker stopped")));
    return entry;
  }

  /** A worker that died fails its jobs (the catalog reports them) and is replaced. */
  #replace(entry: PoolWorker, error: Error): void {
    const index = this.#workers.indexOf(entry);
    if (index === -1) return;
    for (const job of entry.pending.values()) job.reject(error);
    entry.pending.clear();
    if (this.#closed) return;
    this.#workers[index] = this.#spawn();
  }
}
