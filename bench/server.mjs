import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Starts and stops the real server (what `npm start` runs) and makes sure none outlives the benchmark. */

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/;
// A warning line in any of the server's log formats: plain, pino text, pino JSON.
const WARNING = /^warning:|\bWARN\b|"level":"warn"/;
// The search index's log lines (its first build's "N sessions indexed in X s"), kept with the time they arrived.
const SEARCH_INDEX = /search index: /;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const OUTPUT_TAIL_LINES = 40;

const running = new Set();
let exitHooksInstalled = false;

/** Kill every server still running when the benchmark ends, however it ends. */
function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      for (const child of running) child.kill("SIGKILL");
      process.exit(130);
    });
  }
}

/**
 * Spawns the server on 127.0.0.1 with a free port and resolves once it prints its address.
 * `spawnedAt` (hrtime ns) is taken just before the spawn, for start-up timings.
 * With `cacheDir`, passes `--cache-dir`; a server that does not know the flag yet is started again
 * without it (`cacheDirUsed: false` tells the caller).
 */
export async function startServer({ dir, adminKey, cacheDir }) {
  installExitHooks();
  if (cacheDir) {
    try {
      return { ...(await spawnServer(dir, adminKey, ["--cache-dir", cacheDir])), cacheDirUsed: true };
    } catch (error) {
      if (!(error instanceof EarlyExit && /cache-dir/.test(error.output))) throw error;
    }
  }
  return { ...(await spawnServer(dir, adminKey, [])), cacheDirUsed: false };
}

class EarlyExit extends Error {
  constructor(code, output) {
    super(`the server exited with ${code} before listening${output ? `:\n${output}` : " and printed nothing"}`);
    this.output = output;
  }
}

/** The file `npm start` runs (`node <file>`), so the benchmark always starts what users start. */
function serverEntry() {
  const start = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).scripts?.start ?? "";
  const entry = /^node\s+(\S+)/.exec(start)?.[1];
  if (!entry) throw new Error(`cannot tell the server's entry file from package.json's start script "${start}"`);
  return entry;
}

function spawnServer(dir, adminKey, extraArgs) {
  const entry = serverEntry();
  const spawnedAt = process.hrtime.bigint();
  const child = spawn(process.execPath, [entry, "--dir", dir, "--port", "0", "--host", "127.0.0.1", ...extraArgs], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", OPTA_ADMIN_KEY: adminKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal);
    }),
  );

  // The server logs every request; keep reading so a full pipe never stalls it, but keep only the tail.
  const tail = [];
  let warnings = 0;
  const indexLines = [];
  const lineWaiters = new Set();
  let onLine = () => {};
  const collect = (stream) => {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop();
      for (const line of lines) {
        if (WARNING.test(line)) warnings++;
        if (SEARCH_INDEX.test(line)) {
          indexLines.push({ line, at: process.hrtime.bigint() });
          for (const waiter of lineWaiters) waiter();
        }
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
        onLine(line);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  const server = {
    pid: child.pid,
    spawnedAt,
    exited,
    output: () => tail.join("\n"),
    warnings: () => warnings,
    /** The search index's lines so far: `{ line, at }` (hrtime ns when the bench read it). */
    indexLines: () => [...indexLines],
    /** The first search index line matching `pattern` (now or later), or null after `timeoutMs` or the server's exit. */
    waitForIndexLine(pattern, timeoutMs) {
      return new Promise((resolve) => {
        const check = () => {
          const found = indexLines.find(({ line }) => pattern.test(line));
          if (found) done(found);
        };
        const done = (found) => {
          lineWaiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => done(null), timeoutMs);
        exited.then(() => done(null));
        lineWaiters.add(check);
        check();
      });
    },
    /** SIGTERM, as a user's Ctrl-C or launchd would; SIGKILL if it does not go in time. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not print its address within ${START_TIMEOUT_MS} ms:\n${server.output()}`));
    }, START_TIMEOUT_MS);
    onLine = (line) => {
      const match = LISTENING.exec(line);
      if (!match) return;
      onLine = () => {};
      clearTimeout(timer);
      resolve({ ...server, url: match[1], listeningAt: process.hrtime.bigint() });
    };
    exited.then((code) => {
      clearTimeout(timer);
      // Give the pipes a moment to deliver the last lines (the error message) before reporting.
      setTimeout(() => reject(new EarlyExit(code, server.output())), 50);
    });
  });
}

/** Resident set size of a process in bytes, and its peak where the OS reports one. */
export function memoryOf(pid) {
  if (process.platform === "linux") {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib("VmRSS"), peak: kib("VmHWM") };
  }
  const rssKib = Number(execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" }).trim());
  return { rss: rssKib * 1024, peak: null };
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux that Node supports

/** CPU time (user + system, all threads) a process has used so far, in ms. */
export function cpuTimeOf(pid) {
  if (process.platform === "linux") {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  }
  const [rest, minutes = "0", hours = "0"] = execFileSync("ps", ["-o", "time=", "-p", String(pid)], { encoding: "utf8" })
    .trim()
    .split(":")
    .reverse();
  return ((Number(hours) * 60 + Number(minutes)) * 60 + Number(rest)) * 1000;
}

/** The search index's files in a cache dir (`search-<key>.sqlite` and its `-wal` and `-shm`): their bytes summed. */
export function searchIndexBytes(cacheDir) {
  return readdirSync(cacheDir)
    .filter((name) => /^search-.*\.sqlite(-wal|-shm)?$/.test(name))
    .reduce((sum, name) => sum + statSync(path.join(cacheDir, name)).size, 0);
}
