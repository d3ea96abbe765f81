import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

/** Turns the results into bench/RESULTS.md and a short summary for the terminal. */

export const RESULTS_PATH = new URL("./RESULTS.md", import.meta.url);
const MiB = 1024 * 1024;
/** Above this growth from the smallest to the largest corpus, a warm figure is not "flat". */
const FLAT_GROWTH = 1.5;
/** Issue 14's goals are set at 20,000 sessions and, looser, at this size and above. */
const LARGE_CORPUS = 100_000;

/** The search kinds (bench/corpus.mjs's SEARCH_QUERIES) as the tables name them. */
const SEARCH_KINDS = {
  rare: "rare term (5 sessions)",
  common: "common term (60-80% of sessions)",
  twoTerm: "two terms",
  twoCommon: "two common terms",
  phrase: "phrase (words alone in 30-40%, side by side in 1-3%)",
  fragment: "3-character prefix/infix",
  operator: "operator + term (tag:, model:)",
  ranked: "GET /admin/search (hits=3)",
};

const fmtMs = (ms) => (ms === undefined || Number.isNaN(ms) ? "—" : ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(ms >= 10 ? 1 : 2)} ms`);
const fmtRps = (rps) => (rps === undefined ? "—" : `${Math.round(rps).toLocaleString("en-US")} req/s`);
const fmtBytes = (bytes) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`);
const fmtRatio = (ratio) => (ratio === undefined || !Number.isFinite(ratio) ? "—" : `${ratio.toFixed(ratio >= 10 ? 1 : 2)}x`);
const ratioOf = (value, baseline) => (value === undefined || baseline === undefined ? undefined : value / baseline);
const count = (n) => n.toLocaleString("en-US");

/**
 * Every figure of one corpus size as table rows: what, figure, baseline, ratio, target, verdict.
 * A target is `{ max }` / `{ min }` on the ratio, or `{ below }` / `{ atMost }` on the figure itself.
 */
function rowsOf(r) {
  const rows = [];
  const add = (what, value, shown, baseline, baselineShown, target) => {
    const ratio = ratioOf(value, baseline);
    rows.push({ what, shown, baselineShown, ratio, target, verdict: verdictOf(target, value, ratio) });
  };
  const large = r.size >= LARGE_CORPUS;
  const search = (kind, label) => {
    const s = r.search?.[kind];
    add(`Warm search p50, ${label}`, s?.p50, fmtMs(s?.p50), r.healthz?.p50, `/healthz p50 ${fmtMs(r.healthz?.p50)}`, { max: large ? 20 : 10 });
    add(`Warm search p99, ${label}`, s?.p99, fmtMs(s?.p99), r.healthz?.p50, `/healthz p50 ${fmtMs(r.healthz?.p50)}`);
  };
  const bare = `bare scan ${fmtMs(r.bareScan?.ms)}`;
  add("Cold start to first complete list", r.cold?.ms, fmtMs(r.cold?.ms), r.bareScan?.ms, bare, { max: 1.5 });
  add("Restart to first complete list (corpus unchanged)", r.restart?.ms, fmtMs(r.restart?.ms), r.bareScan?.ms, bare, { max: 0.25 });
  add(
    "Restart: spawn to its first search answered in full (index ready)",
    r.restartSearch?.fromSpawnMs,
    fmtMs(r.restartSearch?.fromSpawnMs),
    r.restart?.ms,
    `restart to first complete list ${fmtMs(r.restart?.ms)}`,
  );
  add(
    "Restart: the first search's latency (GET /admin/search, common term)",
    r.restartSearch?.ms,
    fmtMs(r.restartSearch?.ms),
    r.healthz?.p50,
    `/healthz p50 ${fmtMs(r.healthz?.p50)}`,
  );
  add("Warm list p50 (filters, offsets)", r.list?.p50, fmtMs(r.list?.p50), r.healthz?.p50, `/healthz p50 ${fmtMs(r.healthz?.p50)}`, { max: 3 });
  add("Warm list p99", r.list?.p99, fmtMs(r.list?.p99), r.healthz?.p99, `/healthz p99 ${fmtMs(r.healthz?.p99)}`);
  for (const [kind, label] of Object.entries(SEARCH_KINDS)) search(kind, label);
  add(
    `GET /admin/sessions/:id, ${r.bigSession ? fmtBytes(r.bigSession.bytes) : "~10 MiB"} session (median)`,
    r.bigSession?.ms,
    fmtMs(r.bigSession?.ms),
    r.bigSession?.baselineMs,
    `read+parse+stringify ${fmtMs(r.bigSession?.baselineMs)}`,
  );
  add(
    "List throughput, 16 connections",
    r.throughput?.list.rps,
    fmtRps(r.throughput?.list.rps),
    r.throughput?.healthz.rps,
    `/healthz ${fmtRps(r.throughput?.healthz.rps)}`,
    { min: 0.5 },
  );
  const rssTarget = large ? 400 : 300;
  add(
    "Server RSS after warm-up (list and every search)",
    r.memory?.rss,
    r.memory ? fmtBytes(r.memory.rss) : "—",
    undefined,
    r.memory?.peak ? `peak ${fmtBytes(r.memory.peak)}` : "—",
    {
      atMost: rssTarget * MiB,
      label: `≤ ${rssTarget} MiB`,
    },
  );
  add(
    "Server RSS after the restart, the list and one pass of every search",
    r.restartMemory?.rss,
    r.restartMemory ? fmtBytes(r.restartMemory.rss) : "—",
    undefined,
    r.restartMemory?.peak ? `peak ${fmtBytes(r.restartMemory.peak)}` : "—",
  );
  const build = r.indexBuild;
  add(
    "Search index first build: spawn to its log line",
    build?.ms,
    build?.ms === undefined ? "no line" : `${fmtMs(build.ms)} (${count(build.sessions)} read in ${build.seconds} s; ${count(build.inIndex)} in the index)`,
    r.cold?.ms,
    `first complete list ${fmtMs(r.cold?.ms)}`,
  );
  add(
    "Search index on disk after the first build (sqlite + wal + shm)",
    build?.bytes,
    build?.bytes === undefined ? "—" : fmtBytes(build.bytes),
    r.meta?.bytes.sessions,
    `session bytes ${r.meta ? fmtBytes(r.meta.bytes.sessions) : "—"}`,
  );
  add(
    "Search index on disk after warm-up, server stopped",
    build?.bytesAtRest,
    build?.bytesAtRest === undefined ? "—" : fmtBytes(build.bytesAtRest),
    r.meta?.bytes.sessions,
    `session bytes ${r.meta ? fmtBytes(r.meta.bytes.sessions) : "—"}`,
  );
  const duringBuild = r.healthzDuringBuild;
  add(
    "/healthz p99 from listening until the index build's line",
    duringBuild?.p99,
    duringBuild ? `${fmtMs(duringBuild.p99)} (n=${duringBuild.n}, max ${fmtMs(duringBuild.max)})` : "—",
    r.healthz?.p99,
    `warm /healthz p99 ${fmtMs(r.healthz?.p99)}`,
    { below: 50, label: "< 50 ms" },
  );
  const during = r.healthzDuringScan;
  add(
    "/healthz p99 during the cold scan",
    during?.p99,
    during ? `${fmtMs(during.p99)} (n=${during.n}, max ${fmtMs(during.max)})` : "—",
    r.healthz?.p99,
    `warm /healthz p99 ${fmtMs(r.healthz?.p99)}`,
    { below: 50, label: "< 50 ms" },
  );
  const after = r.healthzAfterList;
  add(
    "/healthz p99 from the first complete list until the server is idle",
    after?.p99,
    after?.n ? `${fmtMs(after.p99)} (n=${after.n}, max ${fmtMs(after.max)})` : "no samples",
    r.healthz?.p99,
    `warm /healthz p99 ${fmtMs(r.healthz?.p99)}`,
  );
  add(
    "Busy (CPU) after the first complete list, until idle",
    r.settleMs ?? undefined,
    r.settleMs === null ? "still busy at the time limit" : fmtMs(r.settleMs),
    undefined,
    "—",
  );
  return rows;
}

function verdictOf(target, value, ratio) {
  if (!target) return "";
  if (value === undefined || Number.isNaN(value)) return "—";
  if (target.max !== undefined) return ratio <= target.max ? "met" : "not met";
  if (target.min !== undefined) return ratio >= target.min ? "met" : "not met";
  if (target.atMost !== undefined) return value <= target.atMost ? "met" : "not met";
  return value < target.below ? "met" : "not met";
}

function targetText(target) {
  if (!target) return "";
  if (target.label) return target.label;
  return target.max !== undefined ? `≤ ${target.max}x` : `≥ ${target.min}x`;
}

function machine() {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  if (process.platform === "linux") {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
    if (pretty) osName = `${pretty} (Linux ${os.release()})`;
  }
  return `${cpus[0]?.model ?? "unknown CPU"}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ${osName}, Node ${process.version}`;
}

function corpusTable(results) {
  const lines = [
    "| sessions (files) | valid | damaged (truncated / not JSON / array) | 5-20 MB giants | session bytes | median file | p99 file | largest file | index.json | index entries (for missing files / files without one) |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const { meta: m } of results) {
    lines.push(
      `| ${count(m.size)} | ${count(m.valid)} | ${m.damaged} (${m.damagedKinds.truncated} / ${m.damagedKinds.notJson} / ${m.damagedKinds.array}) | ${m.giants} | ${fmtBytes(m.bytes.sessions)} | ${fmtBytes(m.bytes.median)} | ${fmtBytes(m.bytes.p99)} | ${fmtBytes(m.bytes.max)} | ${fmtBytes(m.bytes.index)} | ${count(m.index.entries)} (${m.index.phantom} / ${m.index.unlisted}) |`,
    );
  }
  return lines.join("\n");
}

function sizeSection(r) {
  const lines = [`## ${count(r.size)} sessions`, ""];
  if (r.error) lines.push(`**The run failed:** ${r.error}`, "");
  lines.push("| measure | figure | baseline | ratio | target | verdict |", "| --- | ---: | ---: | ---: | --- | --- |");
  for (const row of rowsOf(r)) {
    lines.push(`| ${row.what} | ${row.shown} | ${row.baselineShown} | ${fmtRatio(row.ratio)} | ${targetText(row.target)} | ${row.verdict} |`);
  }
  lines.push("");
  if (r.meta?.queries) {
    const queries = Object.entries(r.meta.queries).map(([kind, list]) => `${kind}: ${list.map(({ q, hits }) => `\`${q}\` (${count(hits)})`).join(", ")}`);
    lines.push(`- Search queries (matching sessions): ${queries.join("; ")}.`);
  }
  for (const note of r.notes) lines.push(`- ${note}`);
  if (r.notes.length) lines.push("");
  return lines.join("\n");
}

/** The warm figures side by side: the issue wants them flat as the corpus grows. */
function scalingSection(results) {
  const done = results.filter((r) => r.list);
  if (done.length < 2) return "## Warm figures across corpus sizes\n\nNeeds at least two corpus sizes in one run (`npm run bench` runs all three).\n";
  const first = done[0];
  const last = done.at(-1);
  const series = [
    ["/healthz p50", (r) => r.healthz?.p50, fmtMs],
    ["Warm list p50", (r) => r.list?.p50, fmtMs],
    ["Warm list p99", (r) => r.list?.p99, fmtMs],
    ...Object.entries(SEARCH_KINDS).map(([kind, label]) => [`Warm search p50, ${label}`, (r) => r.search?.[kind]?.p50, fmtMs]),
    ["List throughput", (r) => r.throughput?.list.rps, fmtRps],
    ["Server RSS after warm-up", (r) => r.memory?.rss, (v) => (v === undefined ? "—" : fmtBytes(v))],
    ["Search index on disk", (r) => r.indexBuild?.bytes, (v) => (v === undefined ? "—" : fmtBytes(v))],
    ["Cold start (not a warm figure; grows with the corpus by nature)", (r) => r.cold?.ms, fmtMs],
  ];
  const lines = [
    "## Warm figures across corpus sizes",
    "",
    `Growth is the ${count(last.size)}-session figure over the ${count(first.size)}-session one (corpus ${fmtRatio(last.size / first.size)} larger); "flat" means at most ${FLAT_GROWTH}x (for throughput: at least 1/${FLAT_GROWTH} as much).`,
    "",
    `| figure | ${done.map((r) => count(r.size)).join(" | ")} | growth | |`,
    `| --- | ${done.map(() => "---:").join(" | ")} | ---: | --- |`,
  ];
  for (const [label, value, format] of series) {
    const growth = ratioOf(value(last), value(first));
    const higherIsBetter = label === "List throughput";
    const flat = growth === undefined ? "" : (higherIsBetter ? growth >= 1 / FLAT_GROWTH : growth <= FLAT_GROWTH) ? "flat" : "grows";
    lines.push(`| ${label} | ${done.map((r) => format(value(r))).join(" | ")} | ${fmtRatio(growth)} | ${label.startsWith("Cold") ? "" : flat} |`);
  }
  return `${lines.join("\n")}\n`;
}

/** bench/notes/*.md: what a person wrote about the figures (analysis, the soak run), kept across runs. */
function handWrittenSections() {
  const folder = new URL("./notes/", import.meta.url);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `${readFileSync(new URL(name, folder), "utf8").trimEnd()}\n`);
}

export function writeResults(results, settings) {
  const text = [
    "# Benchmark results",
    "",
    `Written by \`npm run bench${settings.argsShown}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.`,
    "",
    `**Machine:** ${machine()}.`,
    "",
    "## Method",
    "",
    "- The server is the real one (what `npm start` runs, with `--dir <corpus> --port 0 --host 127.0.0.1 --cache-dir <fresh temp dir>`), started fresh for each corpus.",
    "- **Cold start** runs from the spawn to the first `GET /admin/sessions?limit=1` that answers 200 with `total` equal to the number of valid sessions (polled every 10 ms). Its baseline is `bench/bare-scan.mjs`, a separate Node process that reads and `JSON.parse`s every session file, timed from spawn to exit (median of the timed runs). Both run with the corpus in the page cache (an untimed bare scan goes first), so they compare CPU work, not disk.",
    "- **Restart** stops the server with SIGTERM and starts it again on the unchanged corpus with the same `--cache-dir`.",
    `- **Warm latencies** are sequential requests on one keep-alive connection after a warm-up: ${settings.count} list requests (limit 50 over a mix of no filter, \`model=\`, \`tag=\`, \`since=\` and combinations, offsets spread over each filter's matches) against ${settings.count} \`/healthz\`; then, on the same connection, up to ${settings.searchCount} searches per kind (the kind's queries in turn), each query first checked once against the matching sessions the generator knows (the compat route's page, and \`GET /admin/search\`'s \`total\`). Ratios compare p50 (and p99) to \`/healthz\` p50. Search goals (issue 14): p50 ≤ 10x at 20,000 sessions, ≤ 20x at 100,000 and more.`,
    "- **Search index build**: from the spawn to the server's `search index: N sessions indexed in X s` line (its first catch-up, which starts after the first scan); its size is the `search-<key>.sqlite`, `-wal` and `-shm` files in the cache dir, summed, when that line appears and again once the server has stopped after the warm runs. `/healthz` is probed as below (every 10 ms) from listening until that line.",
    "- **Restart** also times the first search (`GET /admin/search?q=refactor`) sent once the list is complete: alone, and from the spawn (the index is ready when it counts every match), and checks that the server logs no index build (unchanged sessions are not read again).",
    `- **Throughput**: autocannon, 16 connections, ${settings.durationSec} s each, cycling through the same list mix, against \`/healthz\` the same way (autocannon shares the machine's cores with the server).`,
    "- **/healthz during the cold scan**: a request every 10 ms, not waiting for earlier answers, from the moment the server listens until the first complete list; latency counts from when the request was due. The probe goes on until the server's CPU use stays under 10% of a core for 0.5 s (work it defers past the first list, such as indexing, ends before the warm runs start); that phase is reported separately.",
    "- **RSS**: VmRSS of the server process after the warm list and search runs, every search kind included (peak is VmHWM at the end of the warm runs). Goal: ≤ 300 MiB below 100,000 sessions, ≤ 400 MiB at 100,000 (issue 14).",
    `- Targets are the issue's, set for 20,000 sessions; at other sizes the verdicts are for reference.`,
    "",
    "## Corpora",
    "",
    "Generated by `bench/corpus.mjs` (seeded, so every run writes the same bytes) in the CLI's format: `JSON.stringify(session, null, 2)`, nanoid(12) ids, OpenAI-style messages with tool calls and inline tool output, some parts-array contents, file mtimes set to `updated`; a stale `index.json`; damaged files; stray non-session files. The 100,000-session corpus keeps the same 8 giants as the 20,000 one instead of 5x as many, to keep it a sane size on disk.",
    "",
    corpusTable(results),
    "",
    ...results.map(sizeSection),
    scalingSection(results),
    ...handWrittenSections(),
  ].join("\n");
  writeFileSync(RESULTS_PATH, text);
}

/** A few lines per size for the terminal. */
export function summaryLines(results) {
  const lines = [];
  for (const r of results) {
    lines.push(`${count(r.size)} sessions${r.error ? ` (FAILED: ${r.error})` : ""}`);
    for (const row of rowsOf(r).filter((row) => row.target)) {
      lines.push(`  ${row.what}: ${row.shown} vs ${row.baselineShown} = ${fmtRatio(row.ratio)} (target ${targetText(row.target)}: ${row.verdict})`);
    }
  }
  return lines;
}
