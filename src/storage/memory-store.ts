import {
  type BytesReadResult,
  type CliIndexFile,
  cliIndexIn,
  MTIME_METADATA_KEY,
  type OwnFile,
  type ReadResult,
  type SessionStore,
  type StoreEntry,
  type StoreMetadata,
  type StoreWatch,
  type Written,
} from "./store.js";

/** `serial`: a new one on every write, for the stamp (a recorded mtime may repeat). */
type MemoryEntry =
  | { kind: "file"; text: string; mtimeMs: number; serial: number; metadata?: StoreMetadata }
  | { kind: "directory"; mtimeMs: number; serial: number };

/** An in-memory directory for tests and demos; behaves like the filesystem adapter, watch included. */
export class MemoryStore implements SessionStore {
  readonly #entries = new Map<string, MemoryEntry>();
  readonly #watchers = new Set<(name: string | null) => void>();
  #clock = 0;
  /** index.json among the files, as on disk. */
  readonly cliIndex: CliIndexFile = cliIndexIn(this);

  constructor(files: Record<string, string> = {}) {
    for (const [name, text] of Object.entries(files)) this.put(name, text);
  }

  /** Writes a file, as the CLI would; each write gets a new modification time. `silent`: a change a watch misses. */
  put(name: string, text: string, { silent = false } = {}): this {
    const serial = ++this.#clock;
    this.#entries.set(name, { kind: "file", text, mtimeMs: serial, serial });
    if (!silent) this.#notify(name);
    return this;
  }

  /** Like a bucket, keeps the metadata it is given and returns it with the entry. */
  async write(name: string, bytes: Uint8Array, metadata: StoreMetadata): Promise<Written> {
    const serial = ++this.#clock;
    const recorded = Date.parse(metadata[MTIME_METADATA_KEY] ?? "");
    this.#entries.set(name, { kind: "file", text: new TextDecoder().decode(bytes), mtimeMs: Number.isFinite(recorded) ? recorded : serial, serial, metadata });
    this.#notify(name);
    return { entry: await this.stat(name) };
  }

  putDirectory(name: string): this {
    const serial = ++this.#clock;
    this.#entries.set(name, { kind: "directory", mtimeMs: serial, serial });
    this.#notify(name);
    return this;
  }

  /** The text of a file, or undefined: for assertions. */
  get(name: string): string | undefined {
    const entry = this.#entries.get(name);
    return entry?.kind === "file" ? entry.text : undefined;
  }

  async list(): Promise<StoreEntry[]> {
    return [...this.#entries].map(([name, entry]) => entryOf(name, entry));
  }

  async stat(name: string): Promise<StoreEntry | null> {
    const entry = this.#entries.get(name);
    return entry ? entryOf(name, entry) : null;
  }

  async read(name: string): Promise<ReadResult> {
    const entry = this.#entries.get(name);
    if (!entry) return { status: "missing" };
    if (entry.kind !== "file") return { status: "not-a-file" };
    return { status: "ok", text: entry.text, mtimeMs: entry.mtimeMs };
  }

  async readBytes(name: string): Promise<BytesReadResult> {
    const read = await this.read(name);
    return read.status === "ok" ? { status: "ok", bytes: new TextEncoder().encode(read.text), mtimeMs: read.mtimeMs } : read;
  }

  async remove(name: string): Promise<boolean> {
    const removed = this.#entries.delete(name);
    if (removed) this.#notify(name);
    return removed;
  }

  /** Replaces a file's text; with `expected`, only if it still holds exactly that. */
  async replace(name: string, text: string, expected?: string): Promise<boolean> {
    if (expected !== undefined && this.get(name) !== expected) return false;
    this.put(name, text);
    return true;
  }

  watch(onChange: (name: string | null) => void): StoreWatch {
    this.#watchers.add(onChange);
    return { active: true, close: () => this.#watchers.delete(onChange) };
  }

  #notify(name: string): void {
    for (const watcher of this.#watchers) watcher(name);
  }
}

function entryOf(name: string, entry: MemoryEntry): StoreEntry {
  const size = entry.kind === "file" ? new TextEncoder().encode(entry.text).length : 0;
  const metadata = entry.kind === "file" ? entry.metadata : undefined;
  return { name, kind: entry.kind, size, mtimeMs: entry.mtimeMs, stamp: `${size}:${entry.serial}`, ...(metadata && { metadata }) };
}

/** A OwnFile in memory, for tests. */
export class MemoryOwnFile implements OwnFile {
  text: string | null = null;
  async read(): Promise<string | null> {
    return this.text;
  }
  async write(text: string): Promise<void> {
    this.text = text;
  }
}
