import { z } from "zod";
import { SessionExists, SessionNotFound, TrashItemNotFound } from "../http/errors.js";
import { SessionSummarySchema, type TrashItem, type TrashQuery } from "../http/schemas.js";
import { Limiter, Mutex } from "../shared/concurrency.js";
import { parseJson } from "../shared/json.js";
import type { SessionStore, TrashStore } from "../storage/store.js";
import { addIndexEntry, type IndexOutcome, removeIndexEntry } from "./cli-index.js";
import { parseSession, summarize } from "./parse.js";
import { isReservedId, sessionFileName, sessionIdOf, TRASH_ID_PATTERN } from "./session-files.js";

const DEFAULT_TRASH_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;

interface TrashOptions {
  now: () => number;
  warn: (line: string) => void;
  /** Told before a session file is moved (a shared listing marks it, so a move cut short halfway is repaired). */
  changing?: (name: string) => Promise<void>;
  /** Told about every session file we move, so listings see it at once. */
  changed: (name: string) => void | Promise<void>;
  /** Items deleted longer ago than this are purged by purgeExpired(). */
  maxAgeMs?: number;
  /** Waits between attempts at an index.json rewrite the CLI keeps changing. */
  sleep?: (ms: number) => Promise<void>;
}

/** What we keep beside a trashed session: read back leniently, since a crash may have left it half-done or missing. */
const TrashNoteSchema = z.object({
  summary: SessionSummarySchema.nullable().catch(null),
  /** The session's index.json entry when it was deleted, to put back on restore; absent when it had none. */
  index_entry: z.unknown().optional(),
});
type TrashNote = z.infer<typeof TrashNoteSchema>;

/** Notes read at once by a trash listing: a handful, whatever the page size or the open-file limit. */
const NOTE_READS_AT_ONCE = 8;

const dataName = (trashId: string) => `${trashId}.json`;
const noteName = (trashId: string) => `${trashId}.meta.json`;
const TRASHED_DATA = /^([A-Za-z0-9_-]{1,128}\.[0-9]{1,15})\.json$/;
const TRASHED_NOTE = /^([A-Za-z0-9_-]{1,128}\.[0-9]{1,15})\.meta\.json$/;

/**
 * Delete, restore and purge. A delete moves the file into the trash (never into nothing) and drops
 * its index entry; a restore moves it back and puts the entry back. Both change index.json by
 * read-modify-write, so they run one at a time. Without a trash store, a delete removes for good.
 */
export class SessionTrash {
  readonly #store: SessionStore;
  readonly #trash: TrashStore | null;
  readonly #options: Required<Omit<TrashOptions, "changing">> & Pick<TrashOptions, "changing">;
  readonly #changes = new Mutex();
  #lastStamp = 0;

  constructor(store: SessionStore, trash: TrashStore | null, options: TrashOptions) {
    this.#store = store;
    this.#trash = trash;
    // `??`, not a spread of defaults: an option passed through as undefined must not erase its default.
    this.#options = { ...options, maxAgeMs: options.maxAgeMs ?? DEFAULT_TRASH_MAX_AGE_MS, sleep: options.sleep ?? (async () => {}) };
  }

  /** DELETE /admin/sessions/:id: answers the trash item's id (null without a trash). Of concurrent deletes of one id, one wins; the rest find nothing. */
  async delete(id: string): Promise<string | null> {
    if (isReservedId(id)) throw new SessionNotFound();
    const name = sessionFileName(id);
    return this.#changes.run(async () => {
      const trashId = `${id}.${this.#stamp()}`;
      await this.#options.changing?.(name);
      const moved = this.#trash ? await this.#trash.moveIn(name, dataName(trashId)) : await this.#store.remove(name);
      if (!moved) throw new SessionNotFound();
      await this.#options.changed(name);
      let indexEntry: unknown;
      const index = this.#store.cliIndex;
      if (index) {
        await this.#indexChange(id, "deleted", async () => {
          const removed = await removeIndexEntry(index, id, new Date(this.#options.now()), this.#options.sleep);
          indexEntry = removed.entry;
          return removed.outcome;
        });
      }
      if (!this.#trash) return null;
      await this.#writeNote(this.#trash, id, trashId, indexEntry);
      return trashId;
    });
  }

  /** At start: finishes deletes a crash interrupted, so no session is left hidden or lost (see TrashStore.recover). */
  async recoverInterrupted(): Promise<void> {
    const trash = this.#trash;
    if (!trash) return;
    const found = await this.#changes.run(() => trash.recover((name) => dataName(`${sessionIdOf(name) ?? "unknown"}.${this.#stamp()}`)));
    if (found > 0)
      this.#options.warn(`finished ${found} delete(s) interrupted by a stop: put back, or into the trash where the CLI had made the session again`);
  }

  /** A deletion time unique even for two deletes within one millisecond (the CLI may re-create a session at once). */
  #stamp(): number {
    this.#lastStamp = Math.max(this.#options.now(), this.#lastStamp + 1);
    return this.#lastStamp;
  }

  /** GET /admin/trash: newest deletion first, one page; only the page's notes are read, a few at a time (never every file at once). */
  async list(query: TrashQuery = { limit: 50, offset: 0 }): Promise<TrashItem[]> {
    if (!this.#trash) return [];
    const trash = this.#trash;
    const page = (await this.#items(trash))
      .filter((item) => query.session_id === undefined || item.sessionId === query.session_id)
      .slice(query.offset, query.offset + query.limit);
    const notes = new Limiter(NOTE_READS_AT_ONCE);
    return Promise.all(
      page.map(async ({ trashId, sessionId, deletedAt, size }): Promise<TrashItem> => {
        const note = await notes.run(() => this.#readNote(trash, trashId));
        return {
          id: trashId,
          session_id: sessionId,
          deleted_at: new Date(deletedAt).toISOString(),
          purge_at: new Date(deletedAt + this.#options.maxAgeMs).toISOString(),
          size,
          session: note?.summary ?? null,
        };
      }),
    );
  }

  /** The trash's items from its listing alone (no file read), newest deletion first. */
  async #items(trash: TrashStore): Promise<{ trashId: string; sessionId: string; deletedAt: number; size: number }[]> {
    const items = (await trash.list()).flatMap((entry) => {
      const trashId = TRASHED_DATA.exec(entry.name)?.[1];
      return trashId ? [{ trashId, size: entry.size, ...parseTrashId(trashId) }] : [];
    });
    return items.sort((a, b) => b.deletedAt - a.deletedAt || (a.trashId < b.trashId ? -1 : 1));
  }

  /** A trash item's id as given, or for a session id its most recently deleted item. */
  async #itemId(trash: TrashStore, id: string): Promise<string> {
    if (TRASH_ID_PATTERN.test(id)) return id;
    const newest = (await this.#items(trash)).find((item) => item.sessionId === id);
    if (!newest) throw new TrashItemNotFound();
    return newest.trashId;
  }

  /** POST /admin/trash/:id/restore (a trash item id, or a session id): the file goes back under its id, never over a session made since (409). */
  async restore(id: string): Promise<string> {
    const trash = this.#trash;
    if (!trash) throw new TrashItemNotFound();
    return this.#changes.run(async () => {
      const trashId = await this.#itemId(trash, id);
      const { sessionId } = parseTrashId(trashId);
      if (isReservedId(sessionId)) throw new TrashItemNotFound();
      const name = sessionFileName(sessionId);
      await this.#options.changing?.(name);
      const outcome = await trash.moveBack(dataName(trashId), name);
      if (outcome === "missing") throw new TrashItemNotFound();
      if (outcome === "exists") throw new SessionExists();
      await this.#options.changed(name);
      const note = await this.#readNote(trash, trashId);
      const index = this.#store.cliIndex;
      if (index && note && "index_entry" in note) {
        await this.#indexChange(sessionId, "restored", () =>
          addIndexEntry(index, sessionId, note.index_entry, new Date(this.#options.now()), this.#options.sleep),
        );
      }
      await trash.remove(noteName(trashId));
      return sessionId;
    });
  }

  /** DELETE /admin/trash/:id (a trash item id, or a session id): gone for good. */
  async purge(id: string): Promise<void> {
    const trash = this.#trash;
    if (!trash) throw new TrashItemNotFound();
    await this.#changes.run(async () => {
      const trashId = await this.#itemId(trash, id);
      parseTrashId(trashId);
      const removed = await trash.remove(dataName(trashId));
      const noteRemoved = await trash.remove(noteName(trashId));
      if (!removed && !noteRemoved) throw new TrashItemNotFound();
    });
  }

  /** Purges everything deleted more than the maximum age ago (leftover notes included); answers how many items went. */
  async purgeExpired(): Promise<number> {
    if (!this.#trash) return 0;
    const trash = this.#trash;
    const cutoff = this.#options.now() - this.#options.maxAgeMs;
    let purged = 0;
    for (const entry of await trash.list()) {
      const trashId = TRASHED_DATA.exec(entry.name)?.[1] ?? TRASHED_NOTE.exec(entry.name)?.[1];
      if (!trashId || parseTrashId(trashId).deletedAt > cutoff) continue;
      if ((await this.#changes.run(() => trash.remove(entry.name))) && entry.name === dataName(trashId)) purged++;
    }
    if (purged > 0) this.#options.warn(`purged ${purged} deleted session(s) from the trash: deleted more than ${formatDays(this.#options.maxAgeMs)} ago`);
    return purged;
  }

  /** Runs purgeExpired() now and then every `everyMs`; answers a function that stops it. */
  startPurging(everyMs = 60 * 60 * 1000): () => void {
    const purge = () => void this.purgeExpired().catch((error: unknown) => this.#options.warn(`could not purge the trash: ${messageOf(error)}`));
    purge();
    const timer = setInterval(purge, everyMs);
    return () => clearInterval(timer);
  }

  /** The index is a hint: failing to update it never fails the request, but is worth a line. */
  async #indexChange(id: string, what: string, update: () => Promise<IndexOutcome>): Promise<void> {
    try {
      if ((await update()) === "gave-up") this.#options.warn(`${what} ${id} but index.json kept changing under us: left it as the CLI wrote it`);
    } catch (error) {
      this.#options.warn(`${what} ${id} but could not update index.json: ${messageOf(error)}`);
    }
  }

  async #writeNote(trash: TrashStore, id: string, trashId: string, indexEntry: unknown): Promise<void> {
    try {
      const file = await trash.read(dataName(trashId));
      const session = file.status === "ok" ? parseSession(id, file.text, file.mtimeMs) : null;
      const note: TrashNote = { summary: session ? summarize(session) : null };
      if (indexEntry !== undefined) note.index_entry = indexEntry;
      await trash.write(noteName(trashId), JSON.stringify(note));
    } catch (error) {
      // The session is safe in the trash; without its note it lists with no summary and restores without its index entry.
      this.#options.warn(`deleted ${id} into the trash but could not write its note: ${messageOf(error)}`);
    }
  }

  async #readNote(trash: TrashStore, trashId: string): Promise<TrashNote | null> {
    const file = await trash.read(noteName(trashId));
    if (file.status !== "ok") return null;
    return parseJson(file.text, TrashNoteSchema);
  }
}

function parseTrashId(trashId: string): { sessionId: string; deletedAt: number } {
  const match = TRASH_ID_PATTERN.exec(trashId);
  if (!match) throw new TrashItemNotFound();
  return { sessionId: match[1] as string, deletedAt: Number(match[2]) };
}

function formatDays(ms: number): string {
  const days = ms / 86_400_000;
  return Number.isInteger(days) ? `${days} day(s)` : `${Math.round(ms / 1000)} s`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
