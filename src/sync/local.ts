import { createHash } from "node:crypto";
import { z } from "zod";
import { readSession, sessionIdOf } from "../sessions/session-files.js";
import { realSleep, type Sleep } from "../shared/clock.js";
import { parseJson } from "../shared/json.js";
import { codeOf } from "../storage/fs/fs-paths.js";
import { type BytesReadResult, type OwnFile, RECENT_WRITE_MS, type SessionStore } from "../storage/store.js";
import { type KnownDigest, type LocalEntry, type LocalFile, type LocalSessions, SyncError } from "./round.js";

/** Node edge: the local sessions directory as sync sees it, read through its store (the command's FsStore never follows a symlink). */

// name -> [stamp, sha256 or null for "not a session"]
const StateSchema = z.object({ version: z.literal(1), files: z.record(z.string(), z.tuple([z.string(), z.string().nullable()])) });
type Remembered = [stamp: string, sha256: string | null];

interface LocalDirectoryOptions {
  /** Where what was hashed is remembered between runs (stamp -> digest); unreadable or missing: everything is hashed again. */
  state: OwnFile;
  /** Where the sessions are, as the user named it: for messages. */
  where: string;
  /** Whether that place is there at all: a store lists a missing directory as empty, which here would delete every session on the deployment. */
  exists: () => Promise<boolean>;
  now?: () => number;
  sleep?: Sleep;
}

export class LocalDirectory implements LocalSessions {
  readonly #store: SessionStore;
  readonly #state: OwnFile;
  readonly #where: string;
  readonly #exists: () => Promise<boolean>;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  #remembered: Map<string, Remembered> | null = null;
  #changed = false;

  constructor(store: SessionStore, options: LocalDirectoryOptions) {
    this.#store = store;
    this.#state = options.state;
    this.#where = options.where;
    this.#exists = options.exists;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
  }

  async list(): Promise<LocalEntry[]> {
    if (!(await this.#exists())) throw new SyncError(`the sessions directory ${this.#where} does not exist (or is not a directory): nothing synced`, true);
    const remembered = await this.#load();
    const entries: LocalEntry[] = [];
    const listing = await this.#store.list().catch((error: unknown) => {
      throw new SyncError(`cannot list the sessions directory ${this.#where} (${codeOf(error)}): nothing synced`, true);
    });
    for (const entry of listing) {
      const id = sessionIdOf(entry.name);
      if (id !== null) entries.push({ id, name: entry.name, kind: entry.kind, stamp: entry.stamp, mtimeMs: entry.mtimeMs, size: entry.size });
    }
    // Forget files that are gone, so the state file stays the size of the directory.
    const names = new Set(entries.map((entry) => entry.name));
    for (const name of remembered.keys()) {
      if (!names.has(name)) {
        remembered.delete(name);
        this.#changed = true;
      }
    }
    return entries;
  }

  async digest(entry: LocalEntry): Promise<LocalFile | KnownDigest> {
    const known = (await this.#load()).get(entry.name);
    if (known?.[0] === entry.stamp) return known[1] === null ? NOT_JSON : { status: "ok", sha256: known[1], bytes: null };
    return this.read(entry);
  }

  async read(entry: LocalEntry): Promise<LocalFile> {
    if (entry.kind === "directory") return { status: "damaged", reason: "a directory" };
    if (entry.kind !== "file") return { status: "damaged", reason: "a symlink or other special file (never followed)" };
    // readSession re-reads a file caught mid-write; it sees the text, we keep the bytes it was decoded from.
    const last: { file: BytesReadResult } = { file: { status: "missing" } };
    const session = await readSession(
      {
        read: async (name) => {
          last.file = await this.#store.readBytes(name);
          return last.file.status === "ok" ? { status: "ok", text: UTF8.decode(last.file.bytes) } : last.file;
        },
      },
      entry.id,
      this.#sleep,
    );
    if (session.status === "missing") return { status: "missing" };
    if (last.file.status === "not-a-file") return { status: "damaged", reason: "unreadable, or not a regular file" };
    if (session.status === "corrupt" || last.file.status !== "ok") {
      this.#remember(entry, null);
      return NOT_JSON;
    }
    const sha256 = createHash("sha256").update(last.file.bytes).digest("hex");
    this.#remember(entry, sha256);
    return { status: "ok", sha256, bytes: last.file.bytes };
  }

  /** Writes what was learned this round, if anything. */
  async save(): Promise<void> {
    if (!this.#changed || this.#remembered === null) return;
    this.#changed = false;
    await this.#state.write(JSON.stringify({ version: 1, files: Object.fromEntries(this.#remembered) }));
  }

  /** `sha256` null: not a JSON object. */
  #remember(entry: LocalEntry, sha256: string | null): void {
    // A digest of a file written this recently may not hold for its stamp: not remembered.
    if (this.#now() - entry.mtimeMs < RECENT_WRITE_MS) return;
    // A file that changed between list and read is remembered under its old stamp, which never comes back: harmless.
    this.#remembered?.set(entry.name, [entry.stamp, sha256]);
    this.#changed = true;
  }

  async #load(): Promise<Map<string, Remembered>> {
    if (this.#remembered) return this.#remembered;
    const text = await this.#state.read();
    // A missing or damaged state file only means hashing everything again.
    const state = text === null ? null : parseJson(text, StateSchema);
    this.#remembered = new Map(state ? Object.entries(state.files) : []);
    return this.#remembered;
  }
}

const NOT_JSON: LocalFile = { status: "damaged", reason: "not a JSON object" };
/** Decodes as FsStore.read does: a byte-order mark is kept (parsing skips it), bad bytes become U+FFFD. */
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });
