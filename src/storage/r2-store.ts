import {
  type BytesReadResult,
  MTIME_METADATA_KEY,
  type ReadResult,
  type SessionStore,
  type StoreEntry,
  type StoreMetadata,
  type StoreWatch,
  type TrashStore,
  type Written,
} from "./store.js";

/**
 * The few calls of a Workers R2 bucket binding we use, typed here so the app needs no Workers
 * type package (the real binding satisfies this structurally).
 */
export interface R2BucketLike {
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string): Promise<R2ObjectBodyLike | R2ObjectLike | null>;
  put(key: string, value: string | Uint8Array, options?: { customMetadata?: Record<string, string> }): Promise<R2ObjectLike | null>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: { prefix?: string; cursor?: string; include?: ("customMetadata" | "httpMetadata")[] }): Promise<{
    objects: R2ObjectLike[];
    truncated: boolean;
    cursor?: string;
  }>;
}

/** An object with its body (what get() answers when the object exists and no condition failed). */
type R2ObjectBodyLike = R2ObjectLike & { arrayBuffer(): Promise<ArrayBuffer> };

interface R2ObjectLike {
  key: string;
  size: number;
  version: string;
  uploaded: Date;
  customMetadata?: Record<string, string>;
}

/** Sessions live under this prefix, one object per session named like its file (`sessions/<id>.json`). */
const SESSIONS_PREFIX = "sessions/";
/** Deleted sessions, until restored or purged (the Node server's trash directory). */
const TRASH_PREFIX = "trash/";

/**
 * Sessions in an R2 bucket. Objects are only ever written whole (R2 puts are atomic), so there is
 * no torn read and no temp file. A session's summary travels in its custom metadata, and list()
 * returns it, so a listing costs one R2 list call per 1,000 sessions and no object reads.
 */
export class R2Store implements SessionStore {
  /** The CLI never writes into a bucket: sync sends sessions only. */
  readonly cliIndex = null;

  constructor(readonly bucket: R2BucketLike) {}

  list(): Promise<StoreEntry[]> {
    return listPrefix(this.bucket, SESSIONS_PREFIX);
  }

  async stat(name: string): Promise<StoreEntry | null> {
    const object = await this.bucket.head(SESSIONS_PREFIX + name);
    return object ? entryOf(name, object) : null;
  }

  read(name: string): Promise<ReadResult> {
    return readObject(this.bucket, SESSIONS_PREFIX + name);
  }

  /** The object's exact bytes: the manifest digests these for an object written without our metadata (not by PUT). */
  readBytes(name: string): Promise<BytesReadResult> {
    return readObjectBytes(this.bucket, SESSIONS_PREFIX + name);
  }

  /**
   * R2 has no delete-if-present: the head tells whether there was one. Two deletes racing in two
   * isolates may both see it; within one isolate the service's own lock keeps it to one winner.
   */
  remove(name: string): Promise<boolean> {
    return removeObject(this.bucket, SESSIONS_PREFIX + name);
  }

  async write(name: string, bytes: Uint8Array, metadata: StoreMetadata): Promise<Written> {
    const object = await this.bucket.put(SESSIONS_PREFIX + name, bytes, { customMetadata: { ...metadata } });
    return { entry: object && entryOf(name, object) };
  }

  /** A bucket reports no changes: listings re-list it once their last look is old enough. */
  watch(): StoreWatch {
    return { active: false, close: () => {} };
  }
}

/** The trash as objects under `trash/`: a move is a copy then a delete (R2 has no rename). */
export class R2Trash implements TrashStore {
  constructor(readonly bucket: R2BucketLike) {}

  async moveIn(name: string, trashName: string): Promise<boolean> {
    return move(this.bucket, SESSIONS_PREFIX + name, TRASH_PREFIX + trashName);
  }

  async moveBack(trashName: string, name: string): Promise<"restored" | "exists" | "missing"> {
    // The item first, as on disk: restoring an item that is gone is 404 whether or not the session exists.
    if (!(await this.bucket.head(TRASH_PREFIX + trashName))) return "missing";
    if (await this.bucket.head(SESSIONS_PREFIX + name)) return "exists";
    return (await move(this.bucket, TRASH_PREFIX + trashName, SESSIONS_PREFIX + name)) ? "restored" : "missing";
  }

  list(): Promise<StoreEntry[]> {
    return listPrefix(this.bucket, TRASH_PREFIX);
  }

  read(trashName: string): Promise<ReadResult> {
    return readObject(this.bucket, TRASH_PREFIX + trashName);
  }

  async write(trashName: string, text: string): Promise<void> {
    await this.bucket.put(TRASH_PREFIX + trashName, text);
  }

  remove(trashName: string): Promise<boolean> {
    return removeObject(this.bucket, TRASH_PREFIX + trashName);
  }

  /** Nothing is set aside here: a move interrupted between its copy and its delete leaves the session in both places, whole. */
  async recover(): Promise<number> {
    return 0;
  }
}

/** Deletes an object; false if there was none (R2's delete does not tell, so a head asks first). */
async function removeObject(bucket: R2BucketLike, key: string): Promise<boolean> {
  if (!(await bucket.head(key))) return false;
  await bucket.delete(key);
  return true;
}

/** Copies `from` to `to` with its metadata, then deletes `from`: the copy exists before the original goes. */
async function move(bucket: R2BucketLike, from: string, to: string): Promise<boolean> {
  const object = await bucket.get(from);
  if (!object || !("arrayBuffer" in object)) return false;
  await bucket.put(to, new Uint8Array(await object.arrayBuffer()), { customMetadata: object.customMetadata ?? {} });
  await bucket.delete(from);
  return true;
}

async function readObjectBytes(bucket: R2BucketLike, key: string): Promise<BytesReadResult> {
  const object = await bucket.get(key);
  if (!object || !("arrayBuffer" in object)) return { status: "missing" };
  return { status: "ok", bytes: new Uint8Array(await object.arrayBuffer()), mtimeMs: mtimeOf(object) };
}

async function readObject(bucket: R2BucketLike, key: string): Promise<ReadResult> {
  const read = await readObjectBytes(bucket, key);
  return read.status === "ok" ? { status: "ok", text: textOf(read.bytes), mtimeMs: read.mtimeMs } : read;
}

/** An object's text exactly as the filesystem store reads a file's: a byte-order mark is kept (body.text() drops it; parsing skips it). */
function textOf(bytes: Uint8Array | ArrayBuffer): string {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

async function listPrefix(bucket: R2BucketLike, prefix: string): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor, include: ["customMetadata"] });
    for (const object of page.objects) {
      const name = object.key.slice(prefix.length);
      if (!name.includes("/")) entries.push(entryOf(name, object));
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor !== undefined);
  return entries;
}

function entryOf(name: string, object: R2ObjectLike): StoreEntry {
  const metadata = object.customMetadata;
  return {
    name,
    kind: "file",
    size: object.size,
    mtimeMs: mtimeOf(object),
    stamp: object.version,
    ...(metadata && Object.keys(metadata).length > 0 && { metadata }),
  };
}

/** An object's modification time: the file's, as sync recorded it, else the upload's. */
function mtimeOf(object: R2ObjectLike): number {
  const recorded = Date.parse(object.customMetadata?.[MTIME_METADATA_KEY] ?? "");
  return Number.isFinite(recorded) ? recorded : object.uploaded.getTime();
}
