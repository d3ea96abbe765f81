import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CORPORA_ROOT, CORPUS_NOW, ensureCorpus } from "./corpus.mjs";
import {
  bareScan,
  createClient,
  healthzProbe,
  median,
  percentilesBetween,
  readParseStringify,
  sequentialLatency,
  throughput,
  timeToCompleteList,
  waitForIdle,
} from "./measure.mjs";
import { RESULTS_PATH, summaryLines, writeResults } from "./report.mjs";
import { cpuTimeOf, memoryOf, searchIndexBytes, startServer } from "./server.mjs";
import { createRandom } from "./text.mjs";

/** `npm run bench [-- --sizes 2000,20000] [--quick]`: see bench/RESULTS.md for what it measures. */

const SETTINGS = {
  full: {
    sizes: [2000, 20000, 100000],
    warmup: 50,
    count: 500,
    maxMs: 60_000,
    searchCount: 200,
    searchMaxMs: 30_000,
    bigRuns: 5,
    durationSec: 10,
    bareRuns: 3,
  },
  quick: { sizes: [2000], warmup: 10, count: 100, maxMs: 20_000, searchCount: 30, searchMaxMs: 10_000, bigRuns: 3, durationSec: 3, bareRuns: 1 },
};
const THROUGHPUT_CONNECTIONS = 16;
const LIST_PAGE = 50;
const DAY_MS = 86_400_000;
/** The line the server logs when a catch-up of many sessions ends (its first build): sessions read, seconds, sessions in the index. */
const INDEX_BUILT = /search index: (\d+) sessions indexed in ([\d.]+) s; (\d+) in the index/;
/** The search kind answered by GET /admin/search (with hits); the others go to the compat route. */
const RANKED_KIND = "ranked";
/** The restart's first search: a common term, so it reads much of the index. */
const RESTART_QUERY = "refactor";

const log = (line) => console.log(`[bench] ${line}`);

function settingsFromArgs(argv) {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: "string" }, quick: { type: "boolean" } } });
  const settings = { ...(values.quick ? SETTINGS.quick : SETTINGS.full), quick: Boolean(values.quick), argsShown: argv.length ? ` -- ${argv.join(" ")}` : "" };
  if (values.sizes) {
    settings.sizes = values.sizes.split(",").map((size) => Number(size.trim()));
    if (settings.sizes.some((size) => !Number.isSafeInteger(size) || size < 100)) throw new Error("--sizes takes a comma list of whole numbers >= 100");
  }
  return settings;
}

/**
 * The list requests: limit 50 under a mix of filters, offsets spread over each filter's matches.
 * Totals are asked of the server first, so the offsets fit whatever it counts.
 */
async function listMix(client, count) {
  const day = (daysAgo) => new Date(CORPUS_NOW - daysAgo * DAY_MS).toISOString();
  const filters = [
    "",
    "",
    "",
    "model=llama",
    "model=QWEN",
    "tag=work",
    "tag=perf",
    `since=${day(30).slice(0, 10)}`,
    `since=${day(180)}`,
    `model=minimax&since=${day(90).slice(0, 10)}`,
  ];
  const totals = new Map();
  for (const filter of new Set(filters)) {
    const { status, body } = await client.get(`/admin/sessions?limit=1&${filter}`);
    if (status !== 200) throw new Error(`list with "${filter}" answered ${status}`);
    totals.set(filter, JSON.parse(body.toString("utf8")).total);
  }
  const random = createRandom(7);
  return Array.from({ length: count }, (_, n) => {
    const filter = filters[n % filters.length];
    const offset = Math.floor(random.next() * Math.max(1, totals.get(filter) - LIST_PAGE + 1));
    return `/admin/sessions?limit=${LIST_PAGE}&offset=${offset}${filter ? `&${filter}` : ""}`;
  });
}

/**
 * Checks each query once (warming it up) against the hit counts the generator recorded: the compat
 * route's page, and GET /admin/search's `total` (every match counted) and hits.
 */
async function checkSearch(client, kind, queries, notes) {
  for (const { q, hits } of queries) {
    if (kind !== RANKED_KIND) {
      const { status, body } = await client.get(searchPath(kind, q));
      if (status !== 200) throw new Error(`search "${q}" answered ${status}: ${body.toString("utf8", 0, 300)}`);
      const found = JSON.parse(body.toString("utf8")).length;
      if (found !== Math.min(hits, 20))
        notes.push(`GET /admin/sessions/search?q=${q} returned ${found} results; the corpus has ${hits} matching sessions (limit 20).`);
    }
    const { status, body } = await client.get(rankedPath(q));
    if (status !== 200) throw new Error(`GET /admin/search "${q}" answered ${status}: ${body.toString("utf8", 0, 300)}`);
    const { total, results } = JSON.parse(body.toString("utf8"));
    if (total !== hits) notes.push(`GET /admin/search?q=${q} counted total ${total}; the corpus has ${hits} matching sessions.`);
    if (results.length !== Math.min(hits, 20))
      notes.push(`GET /admin/search?q=${q} returned ${results.length} results; the corpus has ${hits} matching sessions (limit 20).`);
    const withoutHits = results.filter((result) => result.hits.length === 0).length;
    if (withoutHits) notes.push(`GET /admin/search?q=${q}: ${withoutHits} of ${results.length} results have no hits.`);
  }
}

const rankedPath = (q) => `/admin/search?q=${encodeURIComponent(q)}`;
const searchPath = (kind, q) => (kind === RANKED_KIND ? rankedPath(q) : `/admin/sessions/search?q=${encodeURIComponent(q)}`);

async function benchSize(size, settings) {
  const { dir, meta } = ensureCorpus(size, log);
  const r = { size, meta, notes: [] };
  const adminKey = randomBytes(18).toString("base64url");
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), "opta-sessions-bench-cache-"));
  const timeoutMs = 60_000 + size * 5;
  const clients = [];
  const newClient = (url) => {
    const created = createClient(url, adminKey);
    clients.push(created);
    return created;
  };
  let server;
  try {
    log(
      `${size}: search queries and their matching sessions: ${Object.entries(meta.queries)
        .map(([kind, queries]) => `${kind} ${queries.map(({ q, hits }) => `${q} (${hits})`).join(", ")}`)
        .join("; ")}`,
    );
    log(`${size}: bare scan baseline`);
    await bareScan(dir); // untimed: brings the corpus into the page cache for every timed run
    const bareRuns = [];
    for (let n = 0; n < settings.bareRuns; n++) bareRuns.push(await bareScan(dir));
    r.bareScan = { ms: median(bareRuns.map((run) => run.ms)) };
    r.notes.push(`The bare scan parsed ${bareRuns[0].parsed} files; ${bareRuns[0].failed} failed to parse (JSON arrays parse but are not sessions).`);

    log(`${size}: cold start`);
    server = await startServer({ dir, adminKey, cacheDir });
    if (!server.cacheDirUsed) r.notes.push("The server does not accept `--cache-dir` yet: it ran without one, so the restart had no persisted cache to use.");
    await coldStart(r, server, newClient(server.url), timeoutMs, cacheDir);

    log(`${size}: warm list, /healthz and search`);
    const warm = newClient(server.url);
    const listPaths = await listMix(warm, settings.count);
    await warmLatencies(r, warm, listPaths, settings);
    r.memory = memoryOf(server.pid);

    log(`${size}: GET of the ${(meta.bigSession.bytes / 2 ** 20).toFixed(1)} MiB session`);
    r.bigSession = await bigSession(warm, path.join(dir, `${meta.bigSession.id}.json`), meta.bigSession, settings.bigRuns);

    log(`${size}: throughput (${settings.durationSec} s each)`);
    const options = { connections: THROUGHPUT_CONNECTIONS, durationSec: settings.durationSec };
    r.throughput = {
      list: await throughput(server.url, adminKey, listPaths, options),
      healthz: await throughput(server.url, adminKey, ["/healthz"], options),
    };
    for (const [name, run] of Object.entries(r.throughput)) {
      if (run.errors || run.non2xx)
        r.notes.push(`Throughput (${name}): ${run.errors} errors/timeouts and ${run.non2xx} non-2xx answers out of ${run.requests}.`);
    }

    log(`${size}: restart`);
    await server.stop();
    server = undefined; // a failed start must not report the stopped server's output as its own
    r.indexBuild.bytesAtRest = searchIndexBytes(cacheDir);
    server = await startServer({ dir, adminKey, cacheDir });
    await restart(r, server, newClient(server.url), timeoutMs);
  } catch (error) {
    r.error = error.message.split("\n")[0];
    log(`${size}: FAILED: ${error.stack}`);
    if (server) log(`server output (tail):\n${server.output()}`);
  } finally {
    for (const created of clients) created.close();
    await server?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  return r;
}

/**
 * Spawn to first complete list, then to the search index's first build (its log line), with /healthz
 * probed all along and until the server goes idle.
 */
async function coldStart(r, server, client, timeoutMs, cacheDir) {
  const probe = healthzProbe(server.url);
  let probed;
  try {
    r.cold = await timeToCompleteList(client, r.meta.valid, server.spawnedAt, timeoutMs);
    const built = await server.waitForIndexLine(INDEX_BUILT, timeoutMs);
    if (built) {
      const [, sessions, seconds, inIndex] = INDEX_BUILT.exec(built.line);
      r.indexBuild = {
        ms: Number(built.at - server.spawnedAt) / 1e6,
        at: built.at,
        sessions: Number(sessions),
        seconds: Number(seconds),
        inIndex: Number(inIndex),
        bytes: searchIndexBytes(cacheDir),
      };
    } else {
      r.indexBuild = {};
      r.notes.push(`The server logged no "search index: N sessions indexed" line within ${timeoutMs / 1000} s of its start.`);
    }
    // Work the server defers past the first complete list (indexing, cache writes) must end before "warm".
    const idle = await waitForIdle(() => cpuTimeOf(server.pid), { timeoutMs });
    r.settleMs = idle === null ? null : Number(process.hrtime.bigint() - r.cold.at) / 1e6;
  } finally {
    probed = await probe.stop();
  }
  r.healthzDuringScan = percentilesBetween(probed.samples, server.listeningAt, r.cold.at);
  r.healthzAfterList = percentilesBetween(probed.samples, r.cold.at, process.hrtime.bigint());
  if (r.indexBuild.at) r.healthzDuringBuild = percentilesBetween(probed.samples, server.listeningAt, r.indexBuild.at);
  r.notes.push(
    `Listening ${Math.round(Number(server.listeningAt - server.spawnedAt) / 1e6)} ms after spawn; first complete list after ${r.cold.polls} poll(s).`,
  );
  r.notes.push(`The server warned ${server.warnings()} times during the cold start; the corpus has ${r.meta.damaged} damaged files.`);
  if (r.settleMs === null) r.notes.push(`The server was still busy (CPU) ${timeoutMs / 1000} s after its first complete list; warm figures were taken anyway.`);
  if (probed.failures) r.notes.push(`${probed.failures} /healthz probes failed during start-up.`);
}

/** List and /healthz interleaved on one keep-alive connection, then each kind of search. */
async function warmLatencies(r, client, listPaths, settings) {
  const listAndHealthz = { list: listPaths, healthz: ["/healthz"] };
  await sequentialLatency(client, listAndHealthz, { count: settings.warmup, maxMs: settings.maxMs });
  ({ list: r.list, healthz: r.healthz } = await sequentialLatency(client, listAndHealthz, settings));

  r.search = {};
  for (const [kind, queries] of Object.entries(r.meta.queries)) {
    await checkSearch(client, kind, queries, r.notes);
    const paths = { [kind]: queries.map(({ q }) => searchPath(kind, q)) };
    ({ [kind]: r.search[kind] } = await sequentialLatency(client, paths, { count: settings.searchCount, maxMs: settings.searchMaxMs }));
    if (r.search[kind].n < settings.searchCount)
      r.notes.push(`Search (${kind}) ran out of its ${settings.searchMaxMs / 1000} s budget after ${r.search[kind].n} requests.`);
  }
}

/**
 * A restart over the unchanged corpus and cache dir: spawn to first complete list, then the first
 * search (timed alone, and from the spawn: the index is ready when it answers in full), then idle.
 * The index must not be rebuilt: no build line, and little CPU from the spawn to idle. Then its RSS
 * after one pass of every search.
 */
async function restart(r, server, client, timeoutMs) {
  r.restart = await timeToCompleteList(client, r.meta.valid, server.spawnedAt, timeoutMs);
  const hits = r.meta.queries[RANKED_KIND].find(({ q }) => q === RESTART_QUERY)?.hits;
  const { status, body, ms } = await client.get(rankedPath(RESTART_QUERY));
  if (status !== 200) throw new Error(`the first search after the restart answered ${status}: ${body.toString("utf8", 0, 300)}`);
  const { total } = JSON.parse(body.toString("utf8"));
  r.restartSearch = { ms, fromSpawnMs: Number(process.hrtime.bigint() - server.spawnedAt) / 1e6, total };
  if (total !== hits) r.notes.push(`The first search after the restart (${RESTART_QUERY}) counted ${total} matches of ${hits}: the index was not ready.`);
  r.restartSettleMs = await waitForIdle(() => cpuTimeOf(server.pid), { timeoutMs });
  r.restartCpuMs = cpuTimeOf(server.pid);
  // RSS without the first build's leftovers: the list and one pass of every search over the index on disk.
  await client.get("/admin/sessions?limit=50");
  for (const [kind, queries] of Object.entries(r.meta.queries)) for (const { q } of queries) await client.get(searchPath(kind, q));
  r.restartMemory = memoryOf(server.pid);
  const lines = server
    .indexLines()
    .map(({ line }) => INDEX_BUILT.exec(line)?.[1])
    .filter(Boolean);
  r.notes.push(
    lines.length
      ? `After the restart the server logged a search index build of ${lines.join(", ")} sessions: unchanged sessions were read again.`
      : `After the restart the server logged no search index build (a catch-up of 100 sessions or more is logged): unchanged sessions were not read again. Its CPU time from spawn to idle: ${Math.round(r.restartCpuMs)} ms.`,
  );
}

/** The server's answer for one big session vs this process reading, parsing and serializing it. */
async function bigSession(client, file, { id, bytes }, runs) {
  const served = [];
  const baseline = [];
  let servedBytes = 0;
  for (let n = 0; n < runs; n++) {
    const { status, body, ms } = await client.get(`/admin/sessions/${id}`);
    if (status !== 200) throw new Error(`GET /admin/sessions/${id} answered ${status}`);
    served.push(ms);
    servedBytes = body.length;
    baseline.push((await readParseStringify(file)).ms);
  }
  return { id, bytes, servedBytes, ms: median(served), baselineMs: median(baseline) };
}

async function main() {
  const settings = settingsFromArgs(process.argv.slice(2));
  log(`sizes ${settings.sizes.join(", ")}${settings.quick ? " (quick)" : ""}; corpora in ${CORPORA_ROOT} (kept for the next run; delete it to free the space)`);
  const results = [];
  for (const size of settings.sizes) results.push(await benchSize(size, settings));
  writeResults(results, settings);
  console.log(["", ...summaryLines(results), "", `Full results: ${RESULTS_PATH.pathname}`].join("\n"));
  if (results.some((r) => r.error)) process.exitCode = 1;
}

await main();
