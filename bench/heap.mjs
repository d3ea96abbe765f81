import { SearchQuerySchema } from "../dist/http/schemas.js";
import { openSqlite } from "../dist/node/sqlite.js";
import { SessionService } from "../dist/sessions/service.js";
import { FsStore } from "../dist/storage/fs/fs-store.js";

/**
 * `node --expose-gc bench/heap.mjs <sessions dir>`: the JS heap that the listing and the search
 * index of a corpus hold once built, after garbage collection: what a Worker isolate keeps (the
 * same SessionService and V8), without workerd's or the local bucket's own memory. Prints MiB.
 */

const heap = () => {
  globalThis.gc();
  const { heapUsed, external, arrayBuffers } = process.memoryUsage();
  return heapUsed + external - arrayBuffers;
};
const before = heap();
const sessions = new SessionService(new FsStore(process.argv[2]), { watch: false, searchDatabase: () => openSqlite(":memory:") });
await sessions.list({ limit: 50, offset: 0 });
await sessions.search(SearchQuerySchema.parse({ q: "zorbulex" }));
console.log(((heap() - before) / 2 ** 20).toFixed(1));
await sessions.close();
