// A stand-in for the Opta CLI, run as its own process by the race test (test/race) and the soak: it saves sessions exactly as
// the CLI does (plain, non-atomic writes of the whole file, each save a little longer than the last)
// and after every save rewrites the whole index.json by read-modify-write without a lock.
//
// Usage: node scripts/cli-writer.mjs <sessions dir> <duration ms> <session count> [pause ms between saves]
// Prints one JSON line at the end: what it wrote, and how often it found index.json unparseable.
import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

/** Version `version` of session `id`: every field follows from the two, so a reader can check any copy it sees. */
export function sessionVersion(id, version) {
  const messages = [];
  for (let n = 0; n < version; n++) {
    messages.push({ role: n % 2 === 0 ? "user" : "assistant", content: `${id} turn ${n} ${"lorem ipsum ".repeat(20)}` });
  }
  const created = "2026-07-01T00:00:00.000Z";
  return {
    id,
    created,
    updated: new Date(Date.parse(created) + version * 1000).toISOString(),
    model: "race-model",
    cwd: "/race",
    title: `race ${id} v${version}`,
    tags: ["race"],
    messages,
    toolCallCount: 0,
    compacted: false,
  };
}

export const raceId = (n) => `race${String(n).padStart(8, "0")}`;

/** What the CLI's `writeFile` does: truncate, then write, here in two pieces so a reader can land in between. */
function writeNonAtomic(file, text) {
  const bytes = Buffer.from(text);
  const fd = openSync(file, "w");
  try {
    const half = Math.floor(bytes.length / 2);
    writeSync(fd, bytes, 0, half);
    writeSync(fd, bytes, half, bytes.length - half);
  } finally {
    closeSync(fd);
  }
}

function run(dir, durationMs, count, pauseMs) {
  const deadline = Date.now() + durationMs;
  const versions = new Array(count).fill(1);
  const retired = new Set();
  const stats = { saves: 0, indexWrites: 0, indexUnparseable: 0, retired: [], versions: {} };
  const indexFile = path.join(dir, "index.json");
  for (let turn = 0; Date.now() < deadline && retired.size < count; turn++) {
    const n = turn % count;
    const id = raceId(n);
    if (retired.has(id)) continue;
    const file = path.join(dir, `${id}.json`);
    // Deleted from the dashboard: the chat is over. (The real CLI, still open, would save it again; the
    // test's bookkeeping is simpler if it does not. A delete landing right after this check still sees a save.)
    if (!existsSync(file)) {
      retired.add(id);
      stats.retired.push(id);
      continue;
    }
    const version = ++versions[n];
    writeNonAtomic(file, JSON.stringify(sessionVersion(id, version), null, 2));
    stats.saves++;

    let index = { entries: {}, updatedAt: "" };
    try {
      index = JSON.parse(readFileSync(indexFile, "utf8"));
    } catch {
      // Only another writer's output can be caught half-written here (ours is synchronous): the server's.
      stats.indexUnparseable++;
    }
    index.entries[id] = { title: `race ${id} v${version}`, model: "race-model", tags: ["race"], created: "2026-07-01T00:00:00.000Z", messageCount: version };
    index.updatedAt = new Date().toISOString();
    writeNonAtomic(indexFile, JSON.stringify(index, null, 2));
    stats.indexWrites++;
    if (pauseMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs); // a CLI at human speed
  }
  for (let n = 0; n < count; n++) stats.versions[raceId(n)] = versions[n];
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, durationMs, count, pauseMs = "0"] = process.argv.slice(2);
  run(dir, Number(durationMs), Number(count), Number(pauseMs));
}
