import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const testCacheHome = mkdtempSync(path.join(os.tmpdir(), "opta-e2e-cache-"));
const testDataHome = mkdtempSync(path.join(os.tmpdir(), "opta-e2e-data-"));

export interface ServerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the process's exit code (or the signal that ended it). */
  exited: Promise<number | string>;
}

export interface ProcessLimits {
  /** The soft limit on open files (`ulimit -n`). */
  openFiles?: number;
  /** Run as this user and group (needs root): for permission tests, which root would pass regardless. */
  uid?: number;
  gid?: number;
}

/** Starts `node dist/node/cli.js` (what `npm start` and the bin run) with the given flags and environment (nothing inherited but PATH/HOME). */
export function startProcess(args: string[], env: Record<string, string>, limits: ProcessLimits = {}): ServerProcess {
  // A lower open-file limit is set by the shell just before it becomes node (exec), as `ulimit -n` would for a user.
  const [command, argv] =
    limits.openFiles === undefined
      ? [process.execPath, ["dist/node/cli.js", ...args]]
      : ["bash", ["-c", `ulimit -n ${limits.openFiles} && exec "$0" "$@"`, process.execPath, "dist/node/cli.js", ...args]];
  const child = spawn(command, argv, {
    cwd: root,
    uid: limits.uid,
    gid: limits.gid,
    // Cache and data (trash) folders of the test's own, never the user's.
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      TMPDIR: os.tmpdir(), // the test run's own temp folder (build.global.ts): what the process leaves there is removed with it
      XDG_CACHE_HOME: testCacheHome,
      XDG_DATA_HOME: testDataHome,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout?.on("data", (chunk) => (text += chunk));
  child.stderr?.on("data", (chunk) => (text += chunk));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "")));
  return { child, output: () => text, exited };
}

/** Waits until the output matches, or fails after the deadline with what was printed. */
export async function waitForOutput(server: ServerProcess, pattern: RegExp, deadlineMs = 10_000): Promise<RegExpMatchArray> {
  const printed = () => {
    const match = pattern.exec(server.output());
    // waitUntil stops at a throw: a process that has exited prints nothing more.
    if (!match && server.child.exitCode !== null) throw new Error("exited");
    return match;
  };
  try {
    return await vi.waitUntil(printed, { timeout: deadlineMs, interval: 20 });
  } catch {
    throw new Error(`no ${pattern} in output:\n${server.output()}`);
  }
}

/** Sends SIGTERM the moment the process says it is listening (not at the next poll: the windows this probes are that short). */
export function stopWhenListening(server: ServerProcess): void {
  const stopOnListening = () => {
    if (!/listening on/.test(server.output())) return;
    server.child.stdout?.off("data", stopOnListening);
    server.child.kill("SIGTERM");
  };
  server.child.stdout?.on("data", stopOnListening);
}

/** Ends a test's process at once (if it is still running) and waits until it has. */
export async function killProcess(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGKILL");
  await server.exited;
}
