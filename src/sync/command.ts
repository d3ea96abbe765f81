import os from "node:os";
import { ConfigError } from "../shared/config-values.js";
import { printable } from "../shared/log.js";
import { FsOwnFile } from "../storage/fs/fs-own-file.js";
import { nameKey } from "../storage/fs/fs-paths.js";
import { FsStore } from "../storage/fs/fs-store.js";
import { parseSyncConfig, SYNC_USAGE, type SyncConfig } from "./config.js";
import { DeploymentState } from "./deployment-memory.js";
import { LocalDirectory } from "./local.js";
import { ProgressBar, type ProgressOutput } from "./progress.js";
import { Remote } from "./remote.js";
import { describeRound, type RoundResult, roundStarted, roundSucceeded, syncRound } from "./round.js";
import { watchRounds } from "./watch.js";

/** Node edge: `opta-sessions sync`, from arguments to exit code. */

interface SyncIo {
  env: Record<string, string | undefined>;
  homedir: string;
  platform: string;
  /** The summary lines. */
  stdout: { write(text: string): unknown };
  /** Warnings, errors and, on a terminal, the progress bar. */
  stderr: ProgressOutput;
  /** Aborted to stop: requests in flight are dropped and --watch ends (the command wires SIGINT and SIGTERM to it). */
  stop: AbortSignal;
  fetch?: typeof fetch;
  /** The first retry's delay (doubled for each next one); tests shorten it. */
  retryDelayMs?: number;
  /** --watch's quiet time after a change and its full-round period; tests shorten them. */
  watchTimings?: { debounceMs: number; periodMs: number };
}

/** Runs the command; resolves with its exit code: 0 in sync, 1 something failed, 2 bad arguments. */
export async function runSync(argv: readonly string[], io: SyncIo): Promise<number> {
  // Every line goes through printable: paths, names and the deployment's words may hold control or bidi characters.
  const print = (out: { write(text: string): unknown }, lines: string[]) => out.write(lines.map((line) => `${printable(line)}\n`).join(""));
  let config: SyncConfig;
  try {
    const parsed = parseSyncConfig(argv, io);
    if (parsed.action === "help") {
      print(io.stdout, SYNC_USAGE.split("\n"));
      return 0;
    }
    config = parsed.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    print(io.stderr, [`error: ${error.message}`]);
    return 2;
  }

  const warn = (line: string) => print(io.stderr, [`warning: ${line}`]);
  const store = new FsStore(config.dir, { warn });
  // One state file per sessions directory, and one per directory and deployment; names not a session's (the dots).
  const state = new FsOwnFile(config.cacheDir, `sync.${nameKey(store.directory)}.json`);
  const local = new LocalDirectory(store, { state, where: store.directory, exists: () => store.exists() });
  const remote = new Remote({ baseUrl: config.to, adminKey: config.adminKey, fetch: io.fetch, retryDelayMs: io.retryDelayMs, signal: io.stop });
  const memoryFile = new FsOwnFile(config.cacheDir, `sync.${nameKey(store.directory)}.to.${nameKey(config.to.href)}.json`);
  const memory = await DeploymentState.open(memoryFile);
  let warned = new Set<string>();
  let previous: RoundResult | null = null;

  /** One round, reported: true in sync, false failed, null interrupted. */
  const round = async (): Promise<boolean | null> => {
    const bar = new ProgressBar(io.stderr);
    let result: RoundResult;
    try {
      result = await syncRound(local, remote, {
        concurrency: config.concurrency,
        onProgress: (done, total) => bar.update(done, total),
        memory,
        allowMassDelete: config.allowMassDelete,
      });
    } finally {
      bar.clear();
      await local.save().catch((error: unknown) => warn(`cannot remember what was hashed in ${state.file} (${String(error)}): the next run hashes again`));
      await memory
        .save()
        .catch((error: unknown) =>
          warn(`cannot remember what the deployment holds in ${memoryFile.file} (${String(error)}): the next run may send again what it refused or deleted`),
        );
    }
    // Once per damaged entry while it stays damaged, once per refusal while the file stays as it was (--watch would repeat them every round).
    const now = new Set<string>();
    for (const { name, reason } of [...result.skipped].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      now.add(`${name}:${reason}`);
      if (!warned.has(`${name}:${reason}`)) warn(`skipped ${name}: ${reason}, so not a session (its copy on the deployment, if any, is kept)`);
    }
    for (const { id, reason } of [...result.failed, ...result.refusedBefore]) now.add(`${id}:${reason}`);
    for (const { id, reason } of result.refusedBefore) {
      if (!warned.has(`${id}:${reason}`))
        warn(`not sending ${id}: the deployment refused it before as it is now (${reason}); it is sent again once the file changes`);
    }
    warned = now;
    const interrupted = io.stop.aborted && result.stopped !== null;
    const succeeded = roundSucceeded(result);
    // In --watch, quiet rounds say nothing (a refusal already told stays quiet); the first round, any change or failure, and a recovery do.
    const news =
      result.uploaded.length + result.deleted.length + result.failed.length > 0 ||
      result.stopped !== null ||
      previous === null ||
      (succeeded && !roundSucceeded(previous));
    if (news && roundStarted(result)) print(io.stdout, describeRound(result));
    if (interrupted) print(io.stderr, ["interrupted: the sessions sent so far are in place; the next run continues from there"]);
    else if (result.stopped !== null) print(io.stderr, [`error: ${result.stopped}`]);
    previous = result;
    return interrupted ? null : succeeded;
  };

  if (!config.watch) return (await round()) ? 0 : 1;
  print(io.stderr, [`watching ${store.directory}: syncing every change to ${remote.display} (Ctrl-C to stop)`]);
  const inSync = await watchRounds(round, { watch: (onChange) => store.watch(onChange), stop: io.stop, ...io.watchTimings });
  return inSync ? 0 : 1;
}

/** The command as the CLI runs it: the process's environment and streams, SIGINT and SIGTERM to stop. */
export async function syncCommand(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(1); // a second Ctrl-C: stop now
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await runSync(argv, {
      env: process.env,
      homedir: os.homedir(),
      platform: process.platform,
      stdout: process.stdout,
      stderr: process.stderr,
      stop: controller.signal,
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
