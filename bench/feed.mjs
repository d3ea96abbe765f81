import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ensureCorpus } from "./corpus.mjs";
import { createClient, timeToCompleteList } from "./measure.mjs";
import { cpuTimeOf, memoryOf, startServer } from "./server.mjs";

/**
 * `npm run bench:feed [-- --sizes 2000,20000] [--changes 150] [--burst 1500]`: the live feed on the
 * real server over the bench corpora. Latency: a subscriber follows GET /admin/sessions/events while
 * this process, as the CLI would, creates, rewrites and removes session files of its own beside the
 * corpus (removed again at the end: the corpus is shared with `npm run bench`); the time from a
 * write's return to its event's arrival is the latency. Memory: a burst of sessions with ~40 KB
 * summaries, written once with a reading subscriber plus one that stopped reading, once with the
 * reading one alone (a fresh server each time); the server's RSS is sampled every 100 ms, and the
 * peak growth over the pre-burst RSS compared.
 */

const log = (line) => console.log(`[bench:feed] ${line}`);
const { values } = parseArgs({
  options: { sizes: { type: "string", default: "2000,20000" }, changes: { type: "string", default: "150" }, burst: { type: "string", default: "1500" } },
});
const sizes = values.sizes.split(",").map(Number);
const changes = Number(values.changes);
const burst = Number(values.burst);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** One subscriber: resolves `next(id)` with the arrival time (hrtime ms) of the next event naming that session. */
async function subscribe(url, adminKey) {
  const res = await fetch(`${url}/admin/sessions/events`, { headers: { "X-Admin-Key": adminKey } });
  if (res.status !== 200) throw new Error(`the feed answered ${res.status}`);
  const waiting = new Map();
  const arrived = [];
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let unparsed = "";
  let bytes = 0;
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      const at = performance.now();
      bytes += value.byteLength;
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
    bytes: () => bytes,
    close: () => reader.cancel().catch(() => {}),
  };
}

const session = (id, version, title = `feed bench ${id} v${version}`) =>
  JSON.stringify(
    {
      id,
      created: "2026-11-01T00:00:00.000Z",
      updated: new Date(Date.UTC(2026, 10, 1) + version * 1000).toISOString(),
      model: "bench-model",
      cwd: "/bench",
      title,
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

const DROPPED = "dropped a live-feed subscriber that stopped reading";

/** A client that sends its request, then never reads: the server's socket buffers fill, then its queue for it. */
async function stalledSubscriber(url, adminKey) {
  const socket = connect(Number(new URL(url).port), "127.0.0.1");
  await once(socket, "connect");
  socket.write(`GET /admin/sessions/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Key: ${adminKey}\r\n\r\n`);
  socket.pause();
  socket.on("error", () => {}); // the server cuts it
  return socket;
}

/** Resolves once the server has used under 5% of a core for a second (its first scan and text indexing done): a steady RSS to start from. */
async function settled(pid) {
  for (let tries = 0; tries < 120; tries++) {
    const cpu = cpuTimeOf(pid);
    await sleep(1000);
    if (cpuTimeOf(pid) - cpu < 50) return;
  }
  throw new Error("the server never went idle");
}

/**
 * One burst run on a fresh server: `burst` new sessions with a 40,000-character title (~40 KB an event: past what
 * the sockets buffer, then past the 1,000 messages the server queues for a subscriber), written 100 at a time 150 ms apart as a busy CLI would, while a reading
 * subscriber (and, with `withStalled`, one that stopped reading) follows the feed. RSS is sampled every 100 ms from
 * just before the burst until a second after the reader has every event.
 */
async function burstRun(size, withStalled) {
  const { dir, meta } = ensureCorpus(size, log);
  const adminKey = randomBytes(18).toString("base64url");
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), "opta-sessions-bench-cache-"));
  const written = [];
  const server = await startServer({ dir, adminKey, cacheDir });
  const client = createClient(server.url, adminKey);
  let feed;
  let stalled;
  let sampler;
  try {
    await timeToCompleteList(client, meta.valid, server.spawnedAt, 60_000 + size * 5);
    feed = await subscribe(server.url, adminKey);
    if (withStalled) stalled = await stalledSubscriber(server.url, adminKey);
    await settled(server.pid);
    const baseline = [];
    for (let n = 0; n < 10; n++, await sleep(100)) baseline.push(memoryOf(server.pid).rss);
    const before = baseline.reduce((sum, rss) => sum + rss, 0) / baseline.length;

    const started = performance.now();
    let peak = before;
    let droppedAfter = null;
    sampler = setInterval(() => {
      peak = Math.max(peak, memoryOf(server.pid).rss);
      if (droppedAfter === null && server.output().includes(DROPPED)) droppedAfter = performance.now() - started;
    }, 100);
    const title = "t".repeat(40_000);
    const bytesBefore = feed.bytes();
    for (let i = 0; i < burst; i++) {
      const id = `feedburst${String(i).padStart(6, "0")}`;
      const file = path.join(dir, `${id}.json`);
      written.push(file);
      await writeFile(file, session(id, 1, title));
      if (i % 100 === 99) await sleep(150);
    }
    const wroteIn = performance.now() - started;
    const deadline = performance.now() + 60_000;
    const received = () => feed.arrived.filter((event) => String(event.id).startsWith("feedburst")).length;
    while (received() < burst && performance.now() < deadline) await sleep(100);
    const receivedIn = performance.now() - started;
    await sleep(1000);
    clearInterval(sampler);
    return {
      before,
      growth: peak - before,
      events: received(),
      eventBytes: (feed.bytes() - bytesBefore) / Math.max(1, received()),
      wroteIn,
      receivedIn,
      dropped: droppedAfter !== null,
      droppedAfter,
    };
  } finally {
    clearInterval(sampler);
    stalled?.destroy();
    await feed?.close();
    client.close();
    await server.stop();
    for (const file of written) rmSync(file, { force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

const rows = [];
const bursts = [];
for (const size of sizes) {
  log(`${size}: ${changes} changes`);
  rows.push(await benchSize(size));
  log(`${size}: a burst of ${burst} big sessions, (A) a reading subscriber and one that stopped reading`);
  const withStalled = await burstRun(size, true);
  log(`${size}: the same burst, (B) the reading subscriber alone`);
  const readerOnly = await burstRun(size, false);
  bursts.push({ size, withStalled, readerOnly });
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

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const burstCells = (run) => `${mb(run.growth)} (${run.events}/${burst} events in ${(run.receivedIn / 1000).toFixed(1)} s)`;
console.log(
  "\n| sessions | burst | event size | pre-burst RSS A / B | peak growth A: reader + stalled | peak growth B: reader alone | A/B | stalled one dropped |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const { size, withStalled: a, readerOnly: b } of bursts) {
  const dropped = a.dropped ? `yes, ${(a.droppedAfter / 1000).toFixed(1)} s into the burst` : "no";
  console.log(
    `| ${size} | ${burst} | ${(a.eventBytes / 1024).toFixed(0)} KB | ${mb(a.before)} / ${mb(b.before)} | ${burstCells(a)} | ${burstCells(b)} | ${(a.growth / b.growth).toFixed(2)} | ${dropped} |`,
  );
}
