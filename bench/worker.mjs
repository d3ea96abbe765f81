import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startWranglerDev } from "../scripts/wrangler-dev.mjs";
import { ensureCorpus } from "./corpus.mjs";
import { createClient, sequentialLatency } from "./measure.mjs";
import { memoryOf } from "./server.mjs";

/**
 * `npm run bench:worker [-- --size 20000]`: the Cloudflare deployment, all local. `wrangler dev` runs
 * src/cloudflare/worker.ts from wrangler.example.toml with a local R2 bucket and D1 database;
 * `opta-sessions sync` fills them from a bench corpus; then a fresh wrangler dev process (a fresh
 * isolate) answers list and search, and warm requests are timed. Figures are ratios against the
 * Worker's /healthz in the same run; costs come from the Worker's X-Opta-Cost header. Writes the
 * size's section of bench/notes/3-worker.md.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NOTES_PATH = new URL("./notes/3-worker.md", import.meta.url);
const ADMIN_KEY = "bench-worker-key-0123456789";
const COUNT = 200;
// How long the request sent right after a long one may go unanswered before the bench counts it as held (workerd's hang, notes).
const HELD_AFTER_MS = 10_000;
// The corpus's largest session is 20 MB: above the Worker's default 16 MiB limit, so the bench raises it.
const WRANGLER_VARS = { OPTA_ADMIN_KEY: ADMIN_KEY, OPTA_MAX_SESSION_MB: "32", OPTA_COST_HEADER: "1" };
const log = (line) => console.log(`[bench:worker] ${line}`);
const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);

/** Runs `node dist/node/cli.js sync` as a user would; returns its wall time and summary line. */
async function sync(dir, url) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ["dist/node/cli.js", "sync", "--dir", dir, "--to", url], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", OPTA_ADMIN_KEY: ADMIN_KEY, XDG_CACHE_HOME: cacheHome },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`sync exited with ${code}:\n${output}`);
  return { ms: msSince(started), summary: output.trim().split("\n")[0] };
}

/** The RSS (bytes) of the largest workerd process under wrangler: the one running our Worker beside the local bucket. */
function workerdRss(wranglerPid) {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid=,comm="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/));
  const below = new Set([String(wranglerPid)]);
  for (let size = 0; size !== below.size; ) {
    size = below.size;
    for (const [pid, ppid] of table) if (below.has(ppid)) below.add(pid);
  }
  const sizes = table.filter(([pid, , comm]) => below.has(pid) && comm === "workerd").map(([pid]) => memoryOf(pid).rss);
  return Math.max(...sizes);
}

/** Bytes of the files under a directory (the local D1 database, the local bucket). */
function sizeOf(directory) {
  if (!existsSync(directory)) return 0;
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size, 0);
}

/** One GET (the key on admin paths): its time, and what the Worker says it cost. */
async function costed(baseUrl, pathAndQuery, init = {}) {
  const started = process.hrtime.bigint();
  const res = await fetch(`${baseUrl}${pathAndQuery}`, { ...init, headers: { "X-Admin-Key": ADMIN_KEY, ...init.headers } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${pathAndQuery} answered ${res.status}: ${text.slice(0, 200)}`);
  const cost = Object.fromEntries((res.headers.get("X-Opta-Cost") ?? "").split(", ").map((part) => part.split("=")));
  return { ms: msSince(started), cost, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : null };
}

const costText = ({ cost }) =>
  `R2 ${cost["r2-class-a"]} class A + ${cost["r2-class-b"]} class B, D1 ${cost["d1-queries"]} queries, ${cost["d1-rows-read"]} rows read, ${cost["d1-rows-written"]} written`;

/** One GET on a connection of its own, answered within `timeoutMs`. */
function getOnce(baseUrl, pathAndQuery, timeoutMs) {
  const { hostname, port } = new URL(baseUrl);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const request = http.get({ agent: false, hostname, port, path: pathAndQuery }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode, ms: msSince(started) }));
      response.on("error", reject);
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`GET ${pathAndQuery}: no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}

/**
 * Issue 16's hang, watched for: under wrangler dev, a request that reaches the Worker right after one that kept its
 * isolate busy with local R2 and D1 calls for seconds can be held by workerd, before the Worker's fetch runs, until
 * another request arrives (bench/notes/3-worker.md). Sends /healthz at once; if it is held, a second one frees it.
 */
async function requestRightAfter(url) {
  const first = getOnce(url, "/healthz", 30 * 60_000);
  const answered = await Promise.race([first, new Promise((resolve) => setTimeout(resolve, HELD_AFTER_MS, null))]);
  if (answered !== null) return `answered in ${answered.ms.toFixed(0)} ms`;
  await getOnce(url, "/healthz", HELD_AFTER_MS);
  return `held ${((await first).ms / 1000).toFixed(1)} s, until a second request freed it`;
}

/** A batch as sync sends it: the first `count` sessions of the corpus, one multipart request. */
function batchOf(dir, count) {
  const form = new FormData();
  const names = readdirSync(dir)
    .filter((name) => name.endsWith(".json") && name !== "index.json")
    .sort()
    .slice(0, count * 2);
  let taken = 0;
  for (const name of names) {
    const bytes = readFileSync(path.join(dir, name));
    if (taken === count || bytes.length > 64 * 1024) continue;
    try {
      if (typeof JSON.parse(bytes.toString()) !== "object") continue;
    } catch {
      continue;
    }
    form.append(name.slice(0, -5), new Blob([bytes]), name);
    taken++;
  }
  return form;
}

const GROUPS = {
  healthz: ["/healthz"],
  list: ["/admin/sessions?limit=50", "/admin/sessions?limit=50&offset=500", "/admin/sessions?limit=50&model=llama"],
  search: ["/admin/sessions/search?q=zorbulex", "/admin/sessions/search?q=refactor", "/admin/sessions/search?q=refactor%20websocket"],
};

async function measureWarm(url) {
  const client = createClient(url, ADMIN_KEY);
  await sequentialLatency(client, GROUPS, { count: 10, maxMs: 120_000 }); // warm-up
  const result = await sequentialLatency(client, GROUPS, { count: COUNT, maxMs: 300_000 });
  client.close();
  return result;
}

const { values } = parseArgs({ args: process.argv.slice(2), options: { size: { type: "string", default: "2000" } } });
const size = Number(values.size);
const cacheHome = mkdtempSync(path.join(os.tmpdir(), "opta-bench-worker-cache-"));
const state = mkdtempSync(path.join(os.tmpdir(), "opta-bench-worker-state-"));
try {
  const { dir, meta } = ensureCorpus(size, log);
  let wrangler = await startWranglerDev({ state, vars: WRANGLER_VARS, logLevel: "info" });
  log(`wrangler dev on ${wrangler.url}; syncing ${size} sessions`);
  const firstSync = await sync(dir, wrangler.url);
  log(`first sync: ${(firstSync.ms / 1000).toFixed(1)} s (${firstSync.summary})`);
  const afterSync = await requestRightAfter(wrangler.url);
  log(`the request right after it: ${afterSync}`);
  const secondSync = await sync(dir, wrangler.url);
  log(`second sync, nothing changed: ${secondSync.ms.toFixed(0)} ms (${secondSync.summary})`);
  const manifest = await costed(wrangler.url, "/admin/sync/manifest");
  const batch = await costed(wrangler.url, "/admin/sync/sessions", { method: "POST", body: batchOf(dir, 100) });
  log(`a sync round's manifest: ${costText(manifest)}; a batch of 100 sessions: ${batch.ms.toFixed(0)} ms, ${costText(batch)}`);

  // A fresh isolate: what the first dashboard poll after a deploy or an eviction pays.
  await wrangler.stop();
  const d1Bytes = sizeOf(path.join(state, "v3", "d1"));
  const r2Bytes = sizeOf(path.join(state, "v3", "r2"));
  wrangler = await startWranglerDev({ state, vars: WRANGLER_VARS, logLevel: "info" });
  const rssAtStart = workerdRss(wrangler.pid);
  const coldHealthz = await costed(wrangler.url, "/healthz");
  const coldList = await costed(wrangler.url, "/admin/sessions?limit=50");
  const coldSearch = await costed(wrangler.url, "/admin/sessions/search?q=zorbulex");
  log(
    `fresh isolate: healthz ${coldHealthz.ms.toFixed(1)} ms, first list ${coldList.ms.toFixed(0)} ms (${costText(coldList)}), first search ${coldSearch.ms.toFixed(0)} ms (${costText(coldSearch)})`,
  );
  const workerWarm = await measureWarm(wrangler.url);
  const rssWarm = workerdRss(wrangler.pid);
  const costs = {};
  const listed = coldList.body.sessions;
  const weekBefore = new Date(Date.parse(listed[0].updated_at) - 7 * 86_400_000).toISOString().slice(0, 10);
  for (const [name, pathAndQuery] of [
    ["list page, asked again (remembered until the index changes)", "/admin/sessions?limit=50"],
    // the rest are new to the isolate (their answers not remembered): what a changed index or a new question costs
    ["list page (the dashboard's poll)", "/admin/sessions"],
    ["list page 11 (offset 500)", "/admin/sessions?limit=49&offset=500"],
    ["list, model filter", "/admin/sessions?limit=49&model=llama"],
    ["list, since filter (the newest session's last 7 days)", `/admin/sessions?limit=50&since=${weekBefore}`],
    ["search, rare term", "/admin/search?q=zorbulex"],
    ["search, common term", "/admin/search?q=refactor%20-zorbulex"],
    ["search, two common terms (the compat route, limit 100)", "/admin/sessions/search?q=refactor%20websocket&limit=100"],
    ["GET one session", `/admin/sessions/${listed[10].id}`],
  ]) {
    costs[name] = await costed(wrangler.url, pathAndQuery);
  }
  log(`workerd RSS: ${mib(rssAtStart)} MiB at start, ${mib(rssWarm)} MiB after the warm requests; D1 ${mib(d1Bytes)} MiB, R2 ${mib(r2Bytes)} MiB on disk`);
  await wrangler.stop();

  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  const h = workerWarm.healthz.p50;
  const row = (name, w, goal) => `| ${name} | ${w.p50.toFixed(2)} ms | ${ratio(w.p50, h)} | ${goal} |`;
  const costRows = Object.entries(costs)
    .map(([name, { cost }]) => `| ${name} | ${cost["r2-class-a"]} | ${cost["r2-class-b"]} | ${cost["d1-queries"]} | ${cost["d1-rows-read"]} |`)
    .join("\n");
  const text = `### ${size.toLocaleString("en")} sessions

Generated by \`npm run bench:worker -- --size ${size}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${os.cpus().length} cores, Node ${process.versions.node};
corpus: ${size} sessions (${meta.valid} valid, ${meta.damaged} damaged, giants of 5-20 MB included), under \`wrangler dev\` with the
bucket and the D1 database on local disk (OPTA_MAX_SESSION_MB=32, so the 20 MB giant is stored; OPTA_COST_HEADER=1).

- First sync of the whole corpus: ${(firstSync.ms / 1000).toFixed(1)} s (\`${firstSync.summary}\`).
- The request right after it (/healthz): ${afterSync}.
- Second sync with nothing changed: ${secondSync.ms.toFixed(0)} ms (one manifest request, read from D1: ${costText(manifest)}).
- One batch of 100 sessions, as sync sends them: ${batch.ms.toFixed(0)} ms, ${costText(batch)}.
- Fresh isolate (a new wrangler dev process over the same state): first /healthz ${coldHealthz.ms.toFixed(1)} ms; first list
  ${coldList.ms.toFixed(0)} ms (${costText(coldList)}); first search ${coldSearch.ms.toFixed(0)} ms (${costText(coldSearch)}).
- Warm, p50 over ${COUNT} requests each, as a ratio to the Worker's /healthz:

| request | p50 | ratio to /healthz | goal |
| --- | ---: | ---: | --- |
${row("/healthz", workerWarm.healthz, "")}
${row("list (limit 50: first page, offset 500, model filter)", workerWarm.list, "<= 3x")}
${row("search (rare, common, two terms)", workerWarm.search, "<= 10x")}

- What one request costs, asked once each after the warm runs (X-Opta-Cost):

| request | R2 class A | R2 class B | D1 queries | D1 rows read |
| --- | ---: | ---: | ---: | ---: |
${costRows}

- Memory and disk: workerd RSS ${mib(rssAtStart)} MiB at start, ${mib(rssWarm)} MiB after the warm requests; the D1 database
  ${mib(d1Bytes)} MiB, the bucket ${mib(r2Bytes)} MiB on disk.
`;
  const previous = existsSync(NOTES_PATH) ? readFileSync(NOTES_PATH, "utf8") : "";
  // one section per size, each size's last run (npm run bench pastes every note into RESULTS.md)
  const sessionsOf = (section) => Number(/^#{2,3} ([\d,]+) sessions/.exec(section)?.[1]?.replace(/,/g, "") ?? Number.NaN);
  const sections = previous
    .split(/^(?=#{2,3} [\d,]+ sessions)/m)
    .filter((section) => sessionsOf(section) > 0 && sessionsOf(section) !== size)
    .map((section) => section.replace(/^#{2,3} /, "### "));
  const intro = "## Cloudflare Worker at scale (issue 16): `npm run bench:worker -- --size N`, a section per size\n\n";
  writeFileSync(NOTES_PATH, intro + [...sections, text].sort((a, b) => sessionsOf(a) - sessionsOf(b)).join("\n"));
  console.log(`\n${text}`);
  log(`written to ${fileURLToPath(NOTES_PATH)}`);
} finally {
  rmSync(cacheHome, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
}
