import type { FSWatcher, watch as fsWatch } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { StoreWatch } from "../store.js";
import { codeOf } from "./fs-paths.js";

interface WatchOptions {
  /** Where a change of the directory's state goes (gone, back, cannot be watched): one line per change. */
  warn: (line: string) => void;
  /** fs.watch, replaceable so tests can make watching fail. */
  watch: typeof fsWatch;
}

/**
 * Watches the directory (inotify, FSEvents). A missing directory, or one deleted and made
 * again, is noticed by a once-a-second check of its identity (and at once when the watch
 * reports the directory's own name) and watched once it is there.
 */
export function watchDirectory(directory: string, onChange: (name: string | null) => void, options: WatchOptions): StoreWatch {
  let watcher: FSWatcher | null = null;
  let watchedIdentity: string | null = null;
  // What the last line said, so a state is reported once, not on every once-a-second check.
  // ("starting": a directory missing at start, or watched at once, is no news.)
  let reported: "starting" | "watching" | "gone" | "unwatchable" = "starting";
  const report = (state: typeof reported, line: string) => {
    if (state !== reported && !(reported === "starting" && state !== "unwatchable")) options.warn(line);
    reported = state;
  };
  const stop = () => {
    watcher?.close();
    watcher = null;
    watchedIdentity = null;
  };
  const follow = async () => {
    const stats = await stat(directory).catch(() => null);
    // Inode numbers are reused at once; a directory made again has a new birth time.
    const identity = stats?.isDirectory() ? `${stats.dev}:${stats.ino}:${stats.birthtimeMs}` : null;
    if (identity === watchedIdentity && (identity !== null || reported === "gone")) return;
    stop();
    if (identity === null) {
      report("gone", `the sessions directory ${directory} is gone: listing nothing until it is there again`);
    } else {
      try {
        const ownName = path.basename(directory);
        watcher = options.watch(directory, { persistent: false }, (_event, name) => {
          if (name === ownName) void follow(); // the directory itself went away (or was replaced)
          onChange(name ?? null);
        });
        watcher.on("error", (error) => {
          stop();
          report("unwatchable", `watching ${directory} failed (${codeOf(error)}): checking it on every request instead`);
          onChange(null);
        });
        watchedIdentity = identity;
        report("watching", `watching the sessions directory ${directory} again`);
      } catch (error) {
        watcher = null; // e.g. out of inotify watches: callers fall back to re-checking
        report("unwatchable", `cannot watch ${directory} (${codeOf(error)}): checking it on every request instead`);
      }
    }
    onChange(null); // whatever happened while we were not watching
  };
  void follow();
  const timer = setInterval(() => void follow(), 1000);
  timer.unref();
  return {
    get active() {
      return watcher !== null;
    },
    close() {
      clearInterval(timer);
      stop();
    },
  };
}
