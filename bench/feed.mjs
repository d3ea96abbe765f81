import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureCorpus } from "./corpus.mjs";
import { createClient, timeToCompleteList } from "./measure.mjs";
import { startServer } from "./server.mjs";

/**
 * `npm run bench:feed [-- --sizes 2000,20000] [--changes 150]`: the live feed's
 * change-to-event latency on the real server over the bench corpora. A subscriber follows
 * GET /admin/sessions/events while this process, as the CLI would, creates, rewrites and removes
 * session files of its own beside the corpus (removed again at the end: the corpus is shared with
 * `npm run bench`); the time from a write's return to its event's arrival is the latency.
 */

const log = (line) => console.log(`[bench:feed] ${line}`);
const { values } = parseArgs({ options: { sizes: { type: "string", default: "2000,20000" }, changes: { type: "string", default: "150" } } });
const sizes = values.sizes.split(",").map(Number);
const changes = Number(values.changes);

/** One subscriber: resolves `next(id)` with the arrival time (hrtime ms) of the next event naming that session. */
async function subscribe(url, adminKey) {
  const res = await fetch(`${url}/admin/sessions/events`, { headers: { "X-Admin-Key": adminKey } });
  if (res.status !== 200) throw new Error(`the feed answered ${res.status}`);
  const waiting = new Map();
  const arrived = [];
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let unparsed = "";
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      const at = performance.now();
      unparsed += decoder.decode(value, { stream: true });
      const end = unparsed.lastIndexOf("\n\n");
      if (end === -1) continue;
      for (const block of unparsed.slice(0, end).split("\n\n")) {
        const data = block.split("\n").find((line) => line.startsWith("data: "));
        if (!data) continue;
        const event = JSON.parse(data.slice(6));
        const id = event.id ?? event.session?.id;
        arrived.push({ type: event.type, id });
        waiting.get(id)?.({ at, type: event.type });
        waiting.delete(id);
      }
      unparsed = unparsed.slice(end + 2);
    }
  })();
  return {
    next: (id) => new Promise((resolve) => waiting.set(id, resolve)),
    arrived,
    close: () => reader.cancel().catch(() => {}),
  };
}

const session = (id, version) =>
  JSON.stringify(
    {
      id,
      created: "2026-11-01T00:00:00.000Z",
      updated: new Date(Date.UTC(2026, 10, 1) + version * 1000).toISOString(),
      model: "bench-model",
      cwd: "/bench",
      title: `feed bench ${id} v${version}`,
      tags: [],
      messages: Array.from({ length: version * 2 }, (_, n) => ({ role: n % 2 ? "assistant" : "user", content: `turn ${n} ${"lorem ipsum ".repeat(30)}` })),
      toolCallCount: 0,
      compacted: false,
    },
    null,
    2,
  );

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function benchSize(size) {
  const { dir, meta } = ensureCorpus(size, log);
  const adminKey = randomBytes(18).toString("base64url");
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), "opta-sessions-bench-cache-"));
  const written = new Set();
  const server = await startServer({ dir, adminKey, cacheDir });
  const client = createClient(server.url, adminKey);
  let feed;
  try {
    await timeToCompleteList(client, meta.valid, server.spawnedAt, 60_000 + size * 5);
    feed = await subscribe(server.url, adminKey);
    const latencies = { "session.created": [], "session.updated": [], "session.deleted": [] };
    // Cycles of create, rewrite (grown), remove, one change at a time, at varied points of the 100 ms window.
    for (let n = 0; n < changes; n++) {
      const id = `feedbench${String(Math.floor(n / 3)).padStart(5, "0")}`;
      const file = path.join(dir, `${id}.json`);
      const step = n % 3;
      const arrival = feed.next(id);
      if (step === 2) {
        unlinkSync(file);
        written.delete(file);
      } else {
        writeFileSync(file, session(id, step + 1));
        written.add(file);
      }
      const wroteAt = performance.now();
      const { at, type } = await Promise.race([
        arrival,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no event for ${id} within 5 s`)), 5000)),
      ]);
      latencies[type].push(at - wroteAt);
      await new Promise((resolve) => setTimeout(resolve, 20 + ((n * 37) % 150)));
    }
    const all = Object.values(latencies)
      .flat()
      .sort((a, b) => a - b);
    const row = { size, n: all.length, p50: percentile(all, 50), p95: percentile(all, 95), max: all.at(-1) };
    for (const [type, values] of Object.entries(latencies)) {
      const sorted = values.sort((a, b) => a - b);
      row[type] = { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
    }
    const extra = feed.arrived.filter((event) => !String(event.id).startsWith("feedbench"));
    if (extra.length) row.note = `${extra.length} events for corpus sessions arrived meanwhile (none expected)`;
    return row;
  } finally {
    await feed?.close();
    client.close();
    for (const file of written) rmSync(file, { force: true });
    await server.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

const rows = [];
for (const size of sizes) {
  log(`${size}: ${changes} changes`);
  rows.push(await benchSize(size));
}
const ms = (value) => `${value.toFixed(0)} ms`;
console.log("\n| sessions | changes | p50 | p95 | max | created p50 / p95 | updated p50 / p95 | deleted p50 / p95 |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) {
  const kind = (type) => `${ms(row[type].p50)} / ${ms(row[type].p95)}`;
  console.log(
    `| ${row.size} | ${row.n} | ${ms(row.p50)} | ${ms(row.p95)} | ${ms(row.max)} | ${kind("session.created")} | ${kind("session.updated")} | ${kind("session.deleted")} |${row.note ? ` ${row.note}` : ""}`,
  );
}
