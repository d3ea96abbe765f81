/**
 * One sync round: make the deployment hold exactly the local sessions. Works over two small
 * interfaces (the local directory, the deployment) so it is tested without either.
 */

/** A directory entry named like a session (`<id>.json`, not index.json), whatever its kind. */
export interface LocalEntry {
  id: string;
  name: string;
  kind: "file" | "directory" | "other";
  /** Changes whenever the content may have (StoreEntry.stamp). */
  stamp: string;
  mtimeMs: number;
}

export type LocalFile = { status: "ok"; sha256: string; bytes: Uint8Array } | { status: "missing" } | { status: "damaged"; reason: string };

/** A digest remembered from an earlier read: the file was not read now. */
export type KnownDigest = { status: "ok"; sha256: string; bytes: null };

export interface LocalSessions {
  /** Throws when the directory cannot be listed (never answers "empty" for a missing directory). */
  list(): Promise<LocalEntry[]>;
  /** The file's digest, without reading it when its stamp has not moved since it was last hashed. */
  digest(entry: LocalEntry): Promise<LocalFile | KnownDigest>;
  /** Reads the file now: bytes and digest. */
  read(entry: LocalEntry): Promise<LocalFile>;
}

export interface RemoteSessions {
  readonly display: string;
  /** id -> SHA-256 of the bytes the deployment holds. */
  manifest(): Promise<Map<string, string>>;
  /** `mtimeMs`: the file's modification time, which the deployment may keep as the session's time of last change. */
  put(id: string, bytes: Uint8Array, sha256: string, mtimeMs: number): Promise<void>;
  /** Already gone counts as deleted. */
  remove(id: string): Promise<void>;
}

/**
 * A failure sync expects (a request refused or unanswered, a directory that cannot be listed), with
 * a message fit to print. `fatal`: nothing else in the round could succeed either, so it stops.
 */
export class SyncError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

export interface RoundResult {
  target: string;
  uploaded: string[];
  deleted: string[];
  unchanged: number;
  /** Entries named like sessions that are not sessions: never sent, and their copies on the deployment are kept. */
  skipped: { name: string; reason: string }[];
  failed: { id: string; reason: string }[];
  /** Why the round stopped before the end (wrong key, unreachable, no directory), else null. */
  stopped: string | null;
}

export interface RoundOptions {
  /** Requests in flight at once. */
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

export function roundSucceeded(result: RoundResult): boolean {
  return result.stopped === null && result.failed.length === 0;
}

export async function syncRound(local: LocalSessions, remote: RemoteSessions, options: RoundOptions): Promise<RoundResult> {
  const result: RoundResult = { target: remote.display, uploaded: [], deleted: [], unchanged: 0, skipped: [], failed: [], stopped: null };
  let entries: LocalEntry[];
  let manifest: Map<string, string>;
  try {
    entries = await local.list();
    manifest = await remote.manifest();
  } catch (error) {
    if (!(error instanceof SyncError)) throw error;
    result.stopped = error.message;
    return result;
  }

  // Any entry by the name keeps its remote copy: a damaged file may be the CLI mid-write, or a crash it will save over.
  const localIds = new Set(entries.map((entry) => entry.id));
  const tasks: { id: string; run: () => Promise<void> }[] = [
    ...entries.map((entry) => ({ id: entry.id, run: () => push(entry) })),
    ...[...manifest.keys()].filter((id) => !localIds.has(id)).map((id) => ({ id, run: () => remove(id) })),
  ];

  async function push(entry: LocalEntry): Promise<void> {
    const remoteDigest = manifest.get(entry.id);
    let file = await local.digest(entry);
    if (file.status === "ok" && file.sha256 === remoteDigest) {
      result.unchanged++;
      return;
    }
    if (file.status === "ok" && file.bytes === null) file = await local.read(entry);
    if (file.status === "missing") return; // removed since the listing: deleted remotely next round
    if (file.status === "damaged") {
      result.skipped.push({ name: entry.name, reason: file.reason });
      return;
    }
    if (file.sha256 === remoteDigest) {
      result.unchanged++;
      return;
    }
    await remote.put(entry.id, file.bytes, file.sha256, entry.mtimeMs);
    result.uploaded.push(entry.id);
  }

  async function remove(id: string): Promise<void> {
    await remote.remove(id);
    result.deleted.push(id);
  }

  let next = 0;
  let done = 0;
  options.onProgress?.(0, tasks.length);
  const worker = async () => {
    for (let task = tasks[next++]; task && result.stopped === null; task = tasks[next++]) {
      try {
        await task.run();
      } catch (error) {
        if (!(error instanceof SyncError)) throw error;
        if (error.fatal) result.stopped ??= error.message;
        else result.failed.push({ id: task.id, reason: error.message });
      }
      options.onProgress?.(++done, tasks.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, tasks.length) }, worker));
  return result;
}

/** Names listed in a summary before the rest are only counted. */
const NAMES_SHOWN = 10;

/** The round in one line (`synced to https://x: 12 uploaded, 3 deleted, ...`), then a line per failed session. */
export function describeRound(result: RoundResult): string[] {
  const skipped = result.skipped.map((entry) => entry.name).sort();
  const damaged =
    skipped.length === 0
      ? ""
      : ` (damaged: ${skipped.slice(0, NAMES_SHOWN).join(", ")}${skipped.length > NAMES_SHOWN ? `, and ${skipped.length - NAMES_SHOWN} more` : ""})`;
  const counts = `${result.uploaded.length} uploaded, ${result.deleted.length} deleted, ${result.unchanged} unchanged, ${skipped.length} skipped${damaged}, ${result.failed.length} failed`;
  return [
    `${result.stopped === null ? "synced" : "partly synced"} to ${result.target}: ${counts}`,
    ...result.failed.map((failure) => `failed ${failure.id}: ${failure.reason}`),
  ];
}

/** Whether the round did anything at all: one stopped before its first request has nothing to summarize. */
export function roundStarted(result: RoundResult): boolean {
  return result.uploaded.length + result.deleted.length + result.unchanged + result.skipped.length + result.failed.length > 0 || result.stopped === null;
}
