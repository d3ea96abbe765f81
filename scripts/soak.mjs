// npm run soak: the real server under mixed load for a long time (default 32 connections, 10 minutes),
// with a CLI-like writer saving sessions and a client deleting and restoring others throughout.
// Passes (exit 0) with zero errors and a flat RSS; prints a "Soak" section: paste it into bench/notes/2-soak.md (npm run bench copies bench/notes/ into RESULTS.md).
// Loopback only, bounded in time. Not part of CI.
//
// Usage: npm run soak [-- --minutes 10 --connections 32]
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { raceId, sessionVersion } from "./cli-writer.mjs";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, connections: { type: "string", default: "32" } } });
const minutes = Number(values.minutes);
const connections = Number(values.connections);
const SESSIONS = 2000;
const WRITTEN = 100; // raceId(0..99): saved by the writer throughout
const READ = 1000; // raceId(0..999): read by GET (never deleted, so every GET must be 200)
const root = fileURLToPath(new URL("..", import.meta.url));
const work = mkdtempSync(path.join(os.tmpdir(), "opta-soak-"));
const dir = path.join(work, "sessions");
const key = randomBytes(18).toString("base64url");
const children = [];

function corpus() {
  mkdirSync(dir);
  const entries = {};
  for (let n = 0; n < SESSIONS; n++) {
    const id = raceId(n);
    // Mostly small, some long agentic runs (2,000 messages: about 0.5 MB).
    const version = n % 200 === 7 ? 2000 : 1 + (n % 60);
    writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(sessionVersion(id, version), null, 2));
    entries[id] = { title: `race ${id} v${version}`, messageCount: version };
  }
  writeFileSync(path.join(dir, "index.json"), JSON.stringify({ entries, updatedAt: "" }, null, 2));
}

async function startServer() {
  const env = { PATH: process.env.PATH, HOME: work, XDG_CACHE_HOME: path.join(work, "cache"), XDG_DATA_HOME: path.join(work, "data"), OPTA_ADMIN_KEY: key };
  const child = spawn(process.execPath, ["dist/node/cli.js", "--dir", dir, "--host", "127.0.0.1", "--port", "0"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stderr.on("data", (chunk) => (output += chunk));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.once("exit", () => reject(new Error(`the server stopped:\n${output}`)));
  });
  const lines = (level) => output.split("\n").filter((line) => line.includes(`${level}:`));
  return { child, url, errorLines: () => lines("ERROR"), warnLines: () => lines("WARN") };
}

function rssMb(pid) {
  return Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim()) / 1024;
}

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const anyId = (limit) => raceId(Math.floor(Math.random() * limit));

/** The dashboard's mix: mostly lists and reads, some searches, message pages and health checks. */
function nextPath() {
  const roll = Math.random();
  if (roll < 0.3)
    return pick([`/admin/sessions?limit=50&offset=${Math.floor(Math.random() * 1950)}`, "/admin/sessions", "/admin/sessions?model=race&since=2026-07-01"]);
  if (roll < 0.5) return `/admin/sessions/search?q=${encodeURIComponent(pick(["turn", "lorem ipsum", anyId(SESSIONS), "race-model v3"]))}&limit=20`;
  if (roll < 0.85) return `/admin/sessions/${anyId(READ)}`;
  if (roll < 0.95) return `/admin/sessions/${anyId(READ)}/messages?offset=0&limit=20`;
  return "/healthz";
}

/** Deletes a session outside the read set and restores it from the trash, over and over. */
async function deleteRestoreLoop(url, until, tally) {
  const headers = { "X-Admin-Key": key };
  while (Date.now() < until) {
    const id = raceId(READ + Math.floor(Math.random() * (SESSIONS - READ)));
    const deleted = await fetch(`${url}/admin/sessions/${id}`, { method: "DELETE", headers });
    await deleted.arrayBuffer();
    if (deleted.status === 200) {
      const { items } = await (await fetch(`${url}/admin/trash`, { headers })).json();
      const item = items.find((entry) => entry.session_id === id);
      const restored = await fetch(`${url}/admin/trash/${item?.id}/restore`, { method: "POST", headers });
      await restored.arrayBuffer();
      if (restored.status === 200) tally.cycles++;
      else tally.failures.push(`restore ${id}: ${restored.status}`);
    } else tally.failures.push(`delete ${id}: ${deleted.status}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function slopePerMinute(samples) {
  const n = samples.length;
  const mx = samples.reduce((sum, s) => sum + s.minute, 0) / n;
  const my = samples.reduce((sum, s) => sum + s.rss, 0) / n;
  const sxy = samples.reduce((sum, s) => sum + (s.minute - mx) * (s.rss - my), 0);
  const sxx = samples.reduce((sum, s) => sum + (s.minute - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function main() {
  corpus();
  const server = await startServer();
  const durationMs = minutes * 60_000;
  const startedAt = Date.now();
  const writer = spawn(process.execPath, [path.join(root, "scripts", "cli-writer.mjs"), dir, String(durationMs), String(WRITTEN), "100"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(writer);
  let writerOutput = "";
  writer.stdout.on("data", (chunk) => (writerOutput += chunk));
  const writerDone = new Promise((resolve) => writer.once("exit", resolve));

  const samples = [];
  const sampler = setInterval(() => samples.push({ minute: (Date.now() - startedAt) / 60_000, rss: rssMb(server.child.pid) }), 5000);
  const tally = { cycles: 0, failures: [] };
  const cycling = deleteRestoreLoop(server.url, startedAt + durationMs - 2000, tally);
  const result = await autocannon({
    url: server.url,
    connections,
    duration: minutes * 60,
    timeout: 30,
    requests: [{ method: "GET", headers: { "X-Admin-Key": key }, setupRequest: (request) => ({ ...request, path: nextPath() }) }],
  });
  await cycling;
  await writerDone;
  clearInterval(sampler);
  samples.push({ minute: (Date.now() - startedAt) / 60_000, rss: rssMb(server.child.pid) });

  const codes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)]));
  const bad = Object.entries(codes)
    .filter(([code]) => !code.startsWith("2"))
    .reduce((sum, [, count]) => sum + count, 0);
  const warm = samples.filter((s) => s.minute >= Math.min(1, minutes / 5));
  const firstMinute = warm.filter((s) => s.minute < warm[0].minute + Math.max(1, minutes / 10));
  const lastMinute = warm.filter((s) => s.minute > samples.at(-1).minute - Math.max(1, minutes / 10));
  const avg = (list) => list.reduce((sum, s) => sum + s.rss, 0) / list.length;
  const rss = {
    afterWarmUp: avg(firstMinute),
    atEnd: avg(lastMinute),
    max: Math.max(...samples.map((s) => s.rss)),
    slope: slopePerMinute(warm),
  };
  const growth = rss.atEnd - rss.afterWarmUp;
  const flat = growth <= Math.max(0.1 * rss.afterWarmUp, 16) && rss.slope < 2;
  const writerStats = JSON.parse(writerOutput || "{}");
  const errors = result.errors + result.timeouts + bad + tally.failures.length + server.errorLines().length;
  const mb = (value) => `${value.toFixed(0)} MB`;
  const section = [
    "## Soak",
    "",
    `\`npm run soak\` (not in CI), ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores, ${os.platform()}: the real server on loopback with ${SESSIONS.toLocaleString("en")} sessions`,
    `(10 of about 0.5 MB), ${connections} connections for ${minutes} minutes of mixed load (30% list pages and filters, 20% search,`,
    `35% GET, 10% message pages, 5% /healthz), while a CLI-like process saved one of ${WRITTEN} sessions and the whole index every 100 ms and`,
    "another client deleted a session and restored it from the trash every second.",
    "",
    "| figure | value |",
    "| --- | --- |",
    `| requests | ${result.requests.total.toLocaleString("en")} (${Math.round(result.requests.average).toLocaleString("en")}/s on average) |`,
    `| latency p50 / p99 / max | ${result.latency.p50} / ${result.latency.p99} / ${result.latency.max} ms |`,
    `| status codes | ${Object.entries(codes)
      .map(([code, count]) => `${code}: ${count.toLocaleString("en")}`)
      .join(", ")} |`,
    `| connection errors / timeouts | ${result.errors} / ${result.timeouts} |`,
    `| delete + restore cycles | ${tally.cycles} (failures: ${tally.failures.length}) |`,
    `| CLI saves during the run | ${(writerStats.saves ?? 0).toLocaleString("en")} (index.json unparseable when the CLI read it: ${writerStats.indexUnparseable ?? "?"}) |`,
    `| server error lines / warning lines | ${server.errorLines().length} / ${server.warnLines().length} |`,
    `| RSS after warm-up / at the end / max | ${mb(rss.afterWarmUp)} / ${mb(rss.atEnd)} / ${mb(rss.max)} (trend ${rss.slope >= 0 ? "+" : ""}${rss.slope.toFixed(2)} MB/min) |`,
    "",
    `Result: ${errors === 0 ? "zero errors" : `${errors} errors`}, RSS ${flat ? "flat" : "NOT flat"}.`,
  ].join("\n");
  console.log(`\n${section}\n`);
  if (tally.failures.length) console.log(tally.failures.slice(0, 10).join("\n"));
  for (const line of [...server.errorLines(), ...server.warnLines()].slice(0, 10)) console.log(line);
  return errors === 0 && flat;
}

const stop = () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
};
main()
  .then((passed) => {
    stop();
    process.exit(passed ? 0 : 1);
  })
  .catch((error) => {
    console.error(error);
    stop();
    process.exit(1);
  });
