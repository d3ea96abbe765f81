import type { CliIndexFile } from "../storage/store.js";
import { isRecord } from "./parse.js";

/** How many times a rewrite starts over because the CLI changed index.json under it; then it gives up (the index is only a hint). */
export const INDEX_ATTEMPTS = 12;

export type IndexOutcome = "updated" | "unchanged" | "gave-up";

/**
 * Changes the CLI's index.json as safely as a writer without the CLI's cooperation can: read it,
 * change the entries, write a temp file, and swap it in only if the index still holds what we read
 * (else start over). Every other entry and top-level field is kept; `updatedAt` is stamped as the
 * CLI does. A missing or unreadable index is left exactly as it is, as is one `change` leaves alone
 * (it returns false). Callers run one call at a time here.
 *
 * What remains: a CLI write that begins after our last look and before our rename is lost (its
 * entry comes back at that session's next save). See "Racing the CLI" in the README.
 */
async function updateIndex(
  index: CliIndexFile,
  change: (entries: Record<string, unknown>) => boolean,
  now: Date,
  sleep: (ms: number) => Promise<void> = async () => {},
): Promise<IndexOutcome> {
  for (let attempt = 0; attempt < INDEX_ATTEMPTS; attempt++) {
    // A random pause before each new attempt, so we drift out of step with a CLI saving on a rhythm.
    if (attempt > 0) await sleep(Math.random() * Math.min(100, 5 * 2 ** attempt));
    const file = await index.read();
    if (file.status !== "ok") return "unchanged";
    let parsed: unknown;
    try {
      parsed = JSON.parse(file.text);
    } catch {
      return "unchanged"; // truncated (maybe a CLI write in progress) or damaged: not ours to repair
    }
    if (!isRecord(parsed) || !isRecord(parsed.entries) || !change(parsed.entries)) return "unchanged";
    parsed.updatedAt = now.toISOString();
    if (await index.replace(JSON.stringify(parsed, null, 2), file.text)) return "updated";
  }
  return "gave-up";
}

/** Drops one id's entry; answers the entry removed (to put back on restore), or undefined if there was none. */
export async function removeIndexEntry(
  index: CliIndexFile,
  id: string,
  now: Date,
  sleep?: (ms: number) => Promise<void>,
): Promise<{ entry: unknown; outcome: IndexOutcome }> {
  let removed: unknown;
  const outcome = await updateIndex(
    index,
    (entries) => {
      if (!Object.hasOwn(entries, id)) return false;
      removed = entries[id];
      delete entries[id];
      return true;
    },
    now,
    sleep,
  );
  return { entry: outcome === "updated" ? removed : undefined, outcome };
}

/** Puts an entry back, unless the index already has one for that id (the CLI's newer one wins). */
export function addIndexEntry(index: CliIndexFile, id: string, entry: unknown, now: Date, sleep?: (ms: number) => Promise<void>): Promise<IndexOutcome> {
  return updateIndex(
    index,
    (entries) => {
      if (Object.hasOwn(entries, id)) return false;
      // defineProperty: an id may be `__proto__`, which plain assignment would take for the prototype.
      Object.defineProperty(entries, id, { value: entry, enumerable: true, writable: true, configurable: true });
      return true;
    },
    now,
    sleep,
  );
}
