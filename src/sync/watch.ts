import { sessionIdOf } from "../sessions/session-files.js";

/** `sync --watch`: rounds after changes and on a timer, never two at once. */

interface WatchOptions {
  /** Reports changed entry names (null: anything may have changed), like SessionStore.watch. */
  watch: (onChange: (name: string | null) => void) => { close(): void };
  /** Aborting it ends the loop once the round in progress has returned. */
  stop: AbortSignal;
  /** Quiet time after a change before a round starts: the CLI saves a session and then index.json. */
  debounceMs?: number;
  /** A full round this often whatever the watch said: events can be missed (a full inotify queue, a directory made again). */
  periodMs?: number;
}

/**
 * Runs a round, then one shortly after every change and every period, until stopped. A round
 * answers true (in sync), false (failed: retried on the next change or period) or null (interrupted).
 * Resolves with the last finished round's answer (false if none finished).
 */
export async function watchRounds(round: () => Promise<boolean | null>, options: WatchOptions): Promise<boolean> {
  let due = false;
  let wake = () => {};
  const roundDue = () => {
    due = true;
    wake();
  };
  let debounce: ReturnType<typeof setTimeout> | undefined;
  // Started before the first round, so nothing written during it is missed.
  const watcher = options.watch((name) => {
    if (name !== null && sessionIdOf(name) === null) return; // index.json, temp files, dot-files: not sessions
    clearTimeout(debounce);
    debounce = setTimeout(roundDue, options.debounceMs ?? 300);
  });
  const period = setInterval(roundDue, options.periodMs ?? 60_000);
  const stopped = () => wake();
  options.stop.addEventListener("abort", stopped, { once: true });
  try {
    let inSync = (await round()) ?? false;
    while (!options.stop.aborted) {
      if (!due) await new Promise<void>((resolve) => (wake = resolve));
      if (options.stop.aborted) break;
      due = false;
      inSync = (await round()) ?? inSync;
    }
    return inSync;
  } finally {
    clearTimeout(debounce);
    clearInterval(period);
    watcher.close();
    options.stop.removeEventListener("abort", stopped);
  }
}
