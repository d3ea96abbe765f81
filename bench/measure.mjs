import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import http from "node:http";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

/** The measurements: HTTP timings on keep-alive connections, start-up polling, throughput, and the baselines. */

const REQUEST_TIMEOUT_MS = 120_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/** A client on its own keep-alive agent; `sockets: 1` makes every request reuse one connection. */
export function createClient(baseUrl, adminKey, { sockets = 1 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const { hostname, port } = new URL(baseUrl);

  /** GETs a path; `ms` runs from the call to the last byte of the body. Admin paths carry the key. */
  const get = (path) =>
    new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const headers = { "content-type": "application/json" }; // the dashboard sends it on every GET
      if (path.startsWith("/admin/")) headers["x-admin-key"] = adminKey;
      const request = http.get({ agent, hostname, port, path, headers }, (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks), ms: msSince(start) }));
        response.on("error", reject);
      });
      request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`GET ${path} timed out`)));
      request.on("error", reject);
    });

  return { get, close: () => agent.destroy() };
}

/** Nearest-rank percentiles of latencies in ms. */
function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

export function median(values) {
  return percentiles(values).p50;
}

/**
 * Sends requests one after another, taking the groups' paths in turn (a list request, then a
 * /healthz, ...) so every group sees the same server conditions; each group's paths cycle. Stops
 * after `count` requests per group or `maxMs`, whichever comes first. Any answer but 200 stops the
 * run: a fast error is not a fast answer. Returns percentiles per group.
 */
export async function sequentialLatency(client, groups, { count, maxMs }) {
  const names = Object.keys(groups);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const start = process.hrtime.bigint();
  for (let n = 0; n < count && msSince(start) < maxMs; n++) {
    for (const name of names) {
      const path = groups[name][n % groups[name].length];
      const { status, body, ms } = await client.get(path);
      if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${body.toString("utf8", 0, 300)}`);
      samples[name].push(ms);
    }
  }
  return Object.fromEntries(names.map((name) => [name, percentiles(samples[name])]));
}

/**
 * Polls the list until it answers 200 with `total` equal to the number of valid sessions; returns the
 * ms from `since` (the spawn). A server may answer early with a partial list: that does not count.
 */
export async function timeToCompleteList(client, expectedTotal, since, timeoutMs) {
  let last = "no answer yet";
  for (let polls = 1; msSince(since) < timeoutMs; polls++) {
    const { status, body } = await client.get("/admin/sessions?limit=1");
    if (status === 200) {
      const { total } = JSON.parse(body.toString("utf8"));
      if (total === expectedTotal) return { ms: msSince(since), polls, at: process.hrtime.bigint() };
      last = `total ${total}`;
    } else {
      last = `status ${status}`;
    }
    await sleep(10);
  }
  throw new Error(`no complete list within ${timeoutMs} ms (expected total ${expectedTotal}, last answer: ${last})`);
}

/**
 * Fires GET /healthz every `everyMs` without waiting for earlier answers (open loop), so a blocked
 * event loop shows as the delay every client arriving meanwhile would see. `stop()` returns every
 * sample with the time it was due (hrtime ns), to be cut into phases with `percentilesBetween`.
 */
export function healthzProbe(baseUrl, { everyMs = 10, maxRequests = 60_000 } = {}) {
  const client = createClient(baseUrl, "", { sockets: 32 });
  const samples = [];
  const inFlight = new Set();
  let failures = 0;
  let stopped = false;
  const start = process.hrtime.bigint();
  let fired = 0;

  const fire = () => {
    if (stopped || fired >= maxRequests) return;
    fired++;
    const dueAt = process.hrtime.bigint();
    const request = client
      .get("/healthz")
      .then(
        ({ status, ms }) => (status === 200 ? samples.push({ dueAt, ms }) : failures++),
        () => failures++,
      )
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
    // Scheduled against the start, not the last tick, so timer drift does not thin the samples.
    setTimeout(fire, Math.max(0, fired * everyMs - msSince(start)));
  };
  fire();

  return {
    async stop() {
      stopped = true;
      await Promise.race([Promise.allSettled([...inFlight]), sleep(REQUEST_TIMEOUT_MS)]);
      client.close();
      return { samples, failures };
    },
  };
}

/** Percentiles of the probe samples that were due in [from, to). */
export function percentilesBetween(samples, from, to) {
  return percentiles(samples.filter(({ dueAt }) => dueAt >= from && dueAt < to).map(({ ms }) => ms));
}

/**
 * Waits until the server's CPU use stays under `maxShare` of one core for `windowMs`: a server
 * that answers its first complete list and then keeps indexing in the background is not warm yet.
 * Returns the ms waited; gives up (returning null) after `timeoutMs`.
 */
export async function waitForIdle(cpuTime, { windowMs = 500, maxShare = 0.1, timeoutMs }) {
  const start = process.hrtime.bigint();
  let before = cpuTime();
  while (msSince(start) < timeoutMs) {
    await sleep(windowMs);
    const now = cpuTime();
    if (now - before <= windowMs * maxShare) return msSince(start);
    before = now;
  }
  return null;
}

const BARE_SCAN = fileURLToPath(new URL("./bare-scan.mjs", import.meta.url));

/** The floor for a parse-based scan: a fresh Node process reading and parsing every file. Timed from spawn to exit. */
export function bareScan(dir) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [BARE_SCAN, dir], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = msSince(start);
      if (code !== 0) reject(new Error(`bare scan exited with ${code}`));
      else resolve({ ms, ...JSON.parse(output) });
    });
  });
}

/** The in-process floor for serving one session: read, parse and serialize the file. */
export async function readParseStringify(file) {
  const start = process.hrtime.bigint();
  const text = await readFile(file, "utf8");
  const body = JSON.stringify(JSON.parse(text));
  return { ms: msSince(start), bytes: Buffer.byteLength(body) };
}

/** Requests per second at `connections` keep-alive connections, cycling through `paths`. */
export async function throughput(baseUrl, adminKey, paths, { connections, durationSec }) {
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration: durationSec,
    headers: { "x-admin-key": adminKey, "content-type": "application/json" },
    requests: paths.map((path) => ({ method: "GET", path })),
  });
  return {
    rps: result.requests.total / (result.duration || durationSec),
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
}
