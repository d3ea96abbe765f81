import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { IndexResult, LoadOptions, LoadResult, SessionLoader } from "../../sessions/loader.js";
import type { ServeResult, SessionView } from "../../sessions/session-view.js";
import type { FsStore, FsStoreShare } from "../../storage/fs/fs-store.js";

/** A file to digest for the catalog (`options`), GET's answer to serialize (`view`), or a file to write into the search index (`index`). */
export type LoadJob = { id: number; name: string } & (
  | { options: LoadOptions; view?: undefined; index?: undefined }
  | { view: SessionView; options?: undefined; index?: undefined }
  | { index: { database: string; stamp: string }; options?: undefined; view?: undefined }
);
type JobResult = LoadResult | ServeResult | IndexResult;
export type LoadReply = { id: number; result: JobResult; error?: undefined } | { id: number; error: string; result?: undefined };
/** What each thread starts with: the store it reads, as the main thread opened it. */
export interface LoaderThreadData {
  store: FsStoreShare;
}

interface Pending {
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Workers idle this long are stopped: each holds its own heap, sized by the biggest file it parsed. */
const IDLE_MS = 1000;

/**
 * A SessionLoader that parses in worker threads (Node only): the main thread keeps answering
 * while a cold scan parses thousands of files, some of them tens of MB. Workers start on demand
 * and stop when idle, so their memory is given back between scans.
 */
export class WorkerLoader implements SessionLoader {
  // Enough jobs queued per worker that none waits on a round trip to the main thread.
  readonly concurrency: number;
  readonly #store: FsStoreShare;
  readonly #size: number;
  #workers: PoolWorker[] = [];
  /** The one thread that writes the search index: two writers would wait on SQLite's lock, holding up every job queued behind them. */
  #writer: PoolWorker | null = null;
  #nextId = 0;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(store: FsStore, size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#store = store.share();
    this.#size = size;
    this.concurrency = 32 * size;
  }

  load(name: string, options: LoadOptions): Promise<LoadResult> {
    return this.#run({ name, options }) as Promise<LoadResult>;
  }

  /** GET's answer, parsed and serialized in a worker: the main thread only sends the bytes. */
  serve(name: string, view: SessionView): Promise<ServeResult> {
    return this.#run({ name, view }) as Promise<ServeResult>;
  }

  /** The search document written into the index by the worker itself, on its own connection to the database. */
  indexInto(database: string, name: string, stamp: string): Promise<IndexResult> {
    return this.#run({ name, index: { database, stamp } }) as Promise<IndexResult>;
  }

  #run(job: Omit<LoadJob, "id">): Promise<JobResult> {
    if (this.#closed) return Promise.reject(new Error("the loader is closed"));
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    let target: PoolWorker;
    if (job.index) target = this.#writer ??= this.#spawn();
    else {
      while (this.#workers.length < this.#size) this.#workers.push(this.#spawn());
      target = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.postMessage({ id, ...job } as LoadJob);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#stopAll();
  }

  #spawn(): PoolWorker {
    const worker = new Worker(new URL("./loader-thread.js", import.meta.url), { workerData: { store: this.#store } satisfies LoaderThreadData });
    const entry: PoolWorker = { worker, pending: new Map() };
    worker.unref(); // never what keeps the process alive
    worker.on("message", (reply: LoadReply) => {
      const job = entry.pending.get(reply.id);
      entry.pending.delete(reply.id);
      if (reply.result) job?.resolve(reply.result);
      else job?.reject(new Error(reply.error));
      if (this.#all().every((w) => w.pending.size === 0)) this.#idleTimer ??= setTimeout(() => void this.#stopAll(), IDLE_MS).unref();
    });
    worker.on("error", (error) => this.#drop(entry, error));
    worker.on("exit", () => this.#drop(entry, new Error("a loader worker stopped")));
    return entry;
  }

  async #stopAll(): Promise<void> {
    this.#idleTimer = null;
    const stopping = this.#all();
    this.#workers = [];
    this.#writer = null;
    await Promise.all(stopping.map(({ worker }) => worker.terminate()));
  }

  /** A worker that died fails its jobs (the catalog reports them); the next load starts a new one. */
  #drop(entry: PoolWorker, error: Error): void {
    for (const job of entry.pending.values()) job.reject(error);
    entry.pending.clear();
    this.#workers = this.#workers.filter((w) => w !== entry);
    if (this.#writer === entry) this.#writer = null;
  }

  #all(): PoolWorker[] {
    return this.#writer ? [...this.#workers, this.#writer] : this.#workers;
  }
}
