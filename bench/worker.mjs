import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureCorpus } from "./corpus.mjs";
import { createClient, sequentialLatency } from "./measure.mjs";
import { startServer } from "./server.mjs";

/**
 * `npm run bench:worker [-- --size 2000]`: the Cloudflare deployment, all local. `wrangler dev`
 * runs src/worker.ts from wrangler.example.toml with a local R2 bucket; `opta-sessions sync`
 * fills it from a bench corpus; then the same list and search requests go to the Worker and to
 * the Node server over the same corpus. Figures are ratios against baselines taken in the same
 * run (/healthz of the same server, the first sync). Writes bench/notes/3-worker.md.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NOTES_PATH = new URL("./notes/3-worker.md", import.meta.url);
const ADMIN_KEY = "bench-worker-key-0123456789";
const COUNT = 200;
const log = (line) => console.log(`[bench:worker] ${line}`);
const msSince = (start) => Number(process.hrtime.bigint() - start) / 1e6;

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `wrangler dev` on loopback over the persisted local bucket in `state`; resolves once /healthz answers. */
async function startWrangler(state) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config",
      "wrangler.example.toml",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      state,
      "--var",
      `OPTA_ADMIN_KEY:${ADMIN_KEY}`,
      "--log-level",
      "error",
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" }, stdio: ["ignore", "ignore", "inherit"] },
  );
  const until = Date.now() + 90_000;
  while (
    !(await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    ))
  ) {
    if (Date.now() > until || child.exitCode !== null) throw new Error("wrangler dev did not start");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

/** Runs `node dist/cli.js sync` as a user would; returns its wall time and summary line. */
async function sync(dir, url) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ["dist/cli.js", "sync", "--dir", dir, "--to", url], {
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

/** The first answer to one GET, in ms (a fresh isolate or a fresh server pays its setup here). */
async function firstAnswer(client, pathAndQuery) {
  const { status, ms } = await client.get(pathAndQuery);
  if (status !== 200) throw new Error(`GET ${pathAndQuery} answered ${status}`);
  return ms;
}

const GROUPS = {
  healthz: ["/healthz"],
  list: ["/admin/sessions?limit=50", "/admin/sessions?limit=50&offset=500", "/admin/sessions?limit=50&model=llama"],
  search: ["/admin/sessions/search?q=zorbulex", "/admin/sessions/search?q=refactor", "/admin/sessions/search?q=refactor%20websocket"],
};

async function measureWarm(url) {
  const client = createClient(url, ADMIN_KEY);
  await sequentialLatency(client, GROUPS, { count: 10, maxMs: 60_000 }); // warm-up
  const result = await sequentialLatency(client, GROUPS, { count: COUNT, maxMs: 120_000 });
  client.close();
  return result;
}

const { values } = parseArgs({ args: process.argv.slice(2), options: { size: { type: "string", default: "2000" } } });
const size = Number(values.size);
const cacheHome = mkdtempSync(path.join(os.tmpdir(), "opta-bench-worker-cache-"));
const state = mkdtempSync(path.join(os.tmpdir(), "opta-bench-worker-state-"));
try {
  const { dir, meta } = ensureCorpus(size, log);
  let wrangler = await startWrangler(state);
  log(`wrangler dev on ${wrangler.url}; syncing ${size} sessions`);
  const firstSync = await sync(dir, wrangler.url);
  log(`first sync: ${(firstSync.ms / 1000).toFixed(1)} s (${firstSync.summary})`);
  const secondSync = await sync(dir, wrangler.url);
  log(`second sync, nothing changed: ${secondSync.ms.toFixed(0)} ms (${secondSync.summary})`);

  // A fresh isolate: what the first dashboard poll after a deploy or an eviction pays.
  await wrangler.stop();
  wrangler = await startWrangler(state);
  const cold = createClient(wrangler.url, ADMIN_KEY);
  const coldHealthz = await firstAnswer(cold, "/healthz");
  const coldList = await firstAnswer(cold, "/admin/sessions?limit=50");
  const coldSearch = await firstAnswer(cold, "/admin/sessions/search?q=zorbulex");
  cold.close();
  log(`fresh isolate: healthz ${coldHealthz.toFixed(1)} ms, first list ${coldList.toFixed(0)} ms, first search ${coldSearch.toFixed(0)} ms`);
  const workerWarm = await measureWarm(wrangler.url);
  await wrangler.stop();

  const node = await startServer({ dir, adminKey: ADMIN_KEY, cacheDir: path.join(cacheHome, "node") });
  const nodeWarm = await measureWarm(node.url);
  await node.stop();

  const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
  const row = (name, w, n) =>
    `| ${name} | ${w.p50.toFixed(2)} ms (${ratio(w.p50, workerWarm.healthz.p50)}) | ${n.p50.toFixed(2)} ms (${ratio(n.p50, nodeWarm.healthz.p50)}) |`;
  const text = `## Cloudflare Worker (wrangler dev, local R2)

Generated by \`npm run bench:worker\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${os.cpus().length} cores, Node ${process.versions.node};
corpus: ${size} sessions (${meta.valid} valid, ${meta.damaged} damaged, giants of 5-20 MB included). The Worker runs in workerd
under \`wrangler dev\` with the bucket on local disk: R2 over the network adds its own latency, so read these as the
cost of our code, not of Cloudflare's.

- First sync of the whole corpus: ${(firstSync.ms / 1000).toFixed(1)} s (\`${firstSync.summary}\`).
- Second sync with nothing changed: ${secondSync.ms.toFixed(0)} ms = ${ratio(secondSync.ms, firstSync.ms)} of the first (one manifest request; no file read, hashed or sent).
- Fresh isolate: the first list took ${coldList.toFixed(0)} ms (${ratio(coldList, coldHealthz)} its first /healthz, ${coldHealthz.toFixed(1)} ms): one R2 list
  call per 1,000 sessions, summaries from custom metadata, no object read. The first search took ${coldSearch.toFixed(0)} ms: it reads every
  session once to index message text (${ratio(coldSearch, coldList)} the first list).
- Warm, p50 over ${COUNT} requests each, as a ratio to /healthz of the same server:

| request | Worker | Node |
| --- | --- | --- |
${row("/healthz", workerWarm.healthz, nodeWarm.healthz)}
${row("list (limit 50, with and without filters)", workerWarm.list, nodeWarm.list)}
${row("search (rare, common, two terms)", workerWarm.search, nodeWarm.search)}

The Worker re-lists the bucket when its listing is over 1 s old, so a warm Worker list includes an R2 list call about
once a second; Node follows its directory by watching it.
`;
  writeFileSync(NOTES_PATH, text);
  console.log(`\n${text}`);
  log(`written to ${fileURLToPath(NOTES_PATH)}; \`npm run bench\` includes it in bench/RESULTS.md`);
} finally {
  rmSync(cacheHome, { recursive: true, force: true });
  rmSync(state, { recursive: true, force: true });
}
