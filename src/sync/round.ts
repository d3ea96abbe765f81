import { forEachLimited } from "../shared/concurrency.js";
import { DeploymentState } from "./deployment-memory.js";

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
  /** As listed: what the batches are planned by (the bytes read when sent may differ). */
  size: number;
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

/** A session to send: its bytes as just read, their digest, and the file's modification time. */
export interface Upload {
  id: string;
  bytes: Uint8Array;
  sha256: string;
  mtimeMs: number;
}

export interface RemoteSessions {
  readonly display: string;
  /** id -> SHA-256 of the bytes the deployment holds. */
  manifest(): Promise<Map<string, string>>;
  /** `mtimeMs`: the file's modification time, which the deployment may keep as the session's time of last change. */
  put(id: string, bytes: Uint8Array, sha256: string, mtimeMs: number): Promise<void>;
  /**
   * Stores several sessions, in one request where the deployment takes it. Answers the failure of each that
   * failed, by id (the others are stored); throws a fatal SyncError to stop the round, another to fail them all.
   */
  putMany(uploads: readonly Upload[]): Promise<Map<string, SyncError>>;
  /** Already gone counts as deleted. */
  remove(id: string): Promise<void>;
}

/** A refusal more tries cannot change (400, 413, ...), remembered with the digest of the content refused. */
export interface Refusal {
  sha256: string;
  reason: string;
}

/** What sync knows of one deployment between rounds (memory.ts keeps it in the cache folder). */
export interface DeploymentMemory {
  /** The digest the deployment was last known to hold for the id: uploaded by sync, or seen in its manifest. */
  held(id: string): string | undefined;
  setHeld(id: string, sha256: string | null): void;
  refusal(id: string): Refusal | undefined;
  setRefusal(id: string, refusal: Refusal | null): void;
  /** Forgets every other id, so what is remembered stays the size of the directory and the deployment. */
  keepOnly(ids: ReadonlySet<string>): void;
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

/** The deployment refused this content for good (413, 400, ...; not 401, 408, 429 or 5xx): not sent again until it changes. */
export class RefusedContent extends SyncError {
  constructor(message: string) {
    super(message, false);
  }
}

/**
 * What one request sends at most: the deployment takes 100 sessions and 16 MiB (POST /admin/sync/sessions); half
 * of that in bytes leaves room for files that grew since they were listed. A larger session goes alone, by PUT.
 */
export const BATCH_LIMITS = { sessions: 100, bytes: 8 * 1024 * 1024 };

/** One round deletes at most as many sessions as the directory holds, and at least this many. */
export const MASS_DELETE_MIN = 100;

export interface RoundResult {
  target: string;
  uploaded: string[];
  deleted: string[];
  unchanged: number;
  /** Sessions deleted on the deployment (through its API) whose file has not changed since: kept deleted, not sent. */
  keptDeleted: string[];
  /** Sessions whose content the deployment refused for good in an earlier round: not sent again until they change. */
  refusedBefore: { id: string; reason: string }[];
  /** Entries named like sessions that are not sessions: never sent, and their copies on the deployment are kept. */
  skipped: { name: string; reason: string }[];
  /** `forGood`: refused for this content (RefusedContent), so not sent again until the file changes. */
  failed: { id: string; reason: string; forGood?: boolean }[];
  /** Why the round stopped before the end (wrong key, unreachable, no directory), else null. */
  stopped: string | null;
}

interface RoundOptions {
  /** Requests in flight at once. */
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
  /** What is known of the deployment from earlier rounds (none: this round learns for itself only). */
  memory?: DeploymentMemory;
  /** Lets one round delete more sessions than the directory holds (--allow-mass-delete). */
  allowMassDelete?: boolean;
  /** How much one request sends at most (tests lower it). */
  batchLimits?: { sessions: number; bytes: number };
}

export function roundSucceeded(result: RoundResult): boolean {
  return result.stopped === null && result.failed.length === 0 && result.refusedBefore.length === 0;
}

export async function syncRound(local: LocalSessions, remote: RemoteSessions, options: RoundOptions): Promise<RoundResult> {
  const result: RoundResult = {
    target: remote.display,
    uploaded: [],
    deleted: [],
    unchanged: 0,
    keptDeleted: [],
    refusedBefore: [],
    skipped: [],
    failed: [],
    stopped: null,
  };
  const memory = options.memory ?? (await DeploymentState.open(null));
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
  const gone = [...manifest.keys()].filter((id) => !localIds.has(id));
  // A directory emptied by mistake, or the wrong --dir, must not empty the deployment in one go.
  const mostDeletions = Math.max(MASS_DELETE_MIN, entries.length);
  if (gone.length > mostDeletions && !options.allowMassDelete) {
    result.stopped =
      `the deployment holds ${gone.length} sessions that have no file here, more than one round deletes ` +
      `(${mostDeletions}: as many as the directory holds, at least ${MASS_DELETE_MIN}): nothing synced. ` +
      "Is --dir the right directory? If they were removed here on purpose, run once with --allow-mass-delete";
    return result;
  }
  memory.keepOnly(new Set([...localIds, ...manifest.keys()]));
  for (const [id, sha256] of manifest) memory.setHeld(id, sha256);

  /** Whether nothing is to be sent for this content (counted here). */
  function settled(entry: LocalEntry, sha256: string): boolean {
    const remoteDigest = manifest.get(entry.id);
    const refusal = memory.refusal(entry.id);
    if (sha256 === remoteDigest) result.unchanged++;
    // Held by the deployment once and not now: deleted there (through its API); it stays so until the file changes.
    else if (remoteDigest === undefined && sha256 === memory.held(entry.id)) result.keptDeleted.push(entry.id);
    else if (refusal && sha256 === refusal.sha256) result.refusedBefore.push({ id: entry.id, reason: refusal.reason });
    else return false;
    return true;
  }

  /** Whether the entry may have to be sent: its digest (remembered, else read) against what is known of the deployment. */
  async function toSend(entry: LocalEntry): Promise<boolean> {
    // Nothing to compare with (a first sync): read once, when its batch is sent, not now as well.
    if (!manifest.has(entry.id) && memory.held(entry.id) === undefined && memory.refusal(entry.id) === undefined) return true;
    const file = await local.digest(entry);
    if (file.status === "missing") return false; // removed since the listing: deleted remotely next round
    if (file.status === "damaged") {
      result.skipped.push({ name: entry.name, reason: file.reason });
      return false;
    }
    return !settled(entry, file.sha256);
  }

  /** What one request's answer means for each session sent: the failures it names, or its own for them all. */
  async function send(uploads: readonly Upload[], request: () => Promise<Map<string, SyncError>>): Promise<void> {
    let failures: Map<string, SyncError>;
    try {
      failures = await request();
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      if (error.fatal) {
        result.stopped ??= error.message;
        return;
      }
      failures = new Map(uploads.map((upload) => [upload.id, error]));
    }
    for (const { id, sha256 } of uploads) {
      const failure = failures.get(id);
      if (failure?.fatal) result.stopped ??= failure.message;
      else if (failure) {
        if (failure instanceof RefusedContent) memory.setRefusal(id, { sha256, reason: failure.message });
        result.failed.push({ id, reason: failure.message, ...(failure instanceof RefusedContent ? { forGood: true } : {}) });
      } else {
        memory.setHeld(id, sha256);
        memory.setRefusal(id, null);
        result.uploaded.push(id);
      }
    }
  }

  /** Reads the batch's files now (only this batch's bytes are held), then sends what is still to be sent. */
  async function push(batch: readonly LocalEntry[]): Promise<void> {
    const uploads: Upload[] = [];
    for (const entry of batch) {
      // A digest remembered is not the bytes: read them (a file remembered as damaged is not read again).
      const known = await local.digest(entry);
      const file = known.status === "ok" && known.bytes === null ? await local.read(entry) : known;
      if (file.status === "missing") continue;
      if (file.status === "damaged") result.skipped.push({ name: entry.name, reason: file.reason });
      else if (!settled(entry, file.sha256)) uploads.push({ id: entry.id, bytes: file.bytes, sha256: file.sha256, mtimeMs: entry.mtimeMs });
    }
    for (const upload of uploads.filter((upload) => upload.bytes.byteLength > limits.bytes)) {
      await send([upload], async () => {
        await remote.put(upload.id, upload.bytes, upload.sha256, upload.mtimeMs);
        return new Map();
      });
    }
    const together = uploads.filter((upload) => upload.bytes.byteLength <= limits.bytes);
    if (together.length > 0) await send(together, () => remote.putMany(together));
  }

  async function remove(id: string): Promise<void> {
    try {
      await remote.remove(id);
    } catch (error) {
      if (!(error instanceof SyncError)) throw error;
      if (error.fatal) result.stopped ??= error.message;
      else result.failed.push({ id, reason: error.message });
      return;
    }
    memory.setHeld(id, null);
    result.deleted.push(id);
  }

  const total = entries.length + gone.length;
  let done = 0;
  const progressed = (count: number) => {
    done += count;
    options.onProgress?.(done, total);
  };
  options.onProgress?.(0, total);

  // First what each entry needs, a few at once (digests mostly remembered); then the requests, batch by batch.
  const sending: LocalEntry[] = [];
  await forEachLimited(entries, options.concurrency, async (entry) => {
    if (await toSend(entry)) sending.push(entry);
    else progressed(1);
  });
  const limits = options.batchLimits ?? BATCH_LIMITS;
  const tasks: { size: number; run: () => Promise<void> }[] = [
    ...batchesOf(sending, limits).map((batch) => ({ size: batch.length, run: () => push(batch) })),
    ...gone.map((id) => ({ size: 1, run: () => remove(id) })),
  ];
  await forEachLimited(tasks, options.concurrency, async (task) => {
    if (result.stopped !== null) return; // a fatal error stops the round: what is left is not started
    await task.run();
    progressed(task.size);
  });
  return result;
}

/** The entries in order, cut into batches within the limits by their listed sizes; one larger than a batch alone. */
function batchesOf(entries: readonly LocalEntry[], limits: { sessions: number; bytes: number }): LocalEntry[][] {
  const batches: LocalEntry[][] = [];
  let batch: LocalEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (batch.length > 0 && (batch.length === limits.sessions || bytes + entry.size > limits.bytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
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
  // The two rarer counts show only when there is something to count.
  const kept = result.keptDeleted.length > 0 ? `, ${result.keptDeleted.length} deleted there (kept deleted)` : "";
  const refused = result.refusedBefore.length > 0 ? `, ${result.refusedBefore.length} refused before (not sent again until changed)` : "";
  const counts = `${result.uploaded.length} uploaded, ${result.deleted.length} deleted, ${result.unchanged} unchanged${kept}${refused}, ${skipped.length} skipped${damaged}, ${result.failed.length} failed`;
  return [
    `${result.stopped === null ? "synced" : "partly synced"} to ${result.target}: ${counts}`,
    ...result.failed.map((failure) => `failed ${failure.id}: ${failure.reason}${failure.forGood ? "; not sent again until the file changes" : ""}`),
  ];
}

/** Whether the round did anything at all: one stopped before its first request has nothing to summarize. */
export function roundStarted(result: RoundResult): boolean {
  const counted = result.uploaded.length + result.deleted.length + result.unchanged + result.keptDeleted.length + result.refusedBefore.length;
  return counted + result.skipped.length + result.failed.length > 0 || result.stopped === null;
}
