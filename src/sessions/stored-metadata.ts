import { z } from "zod";
import { type SessionFull, SessionSummarySchema } from "../http/schemas.js";
import { parseJson } from "../shared/json.js";
import { MTIME_METADATA_KEY, type StoreEntry, type StoreMetadata } from "../storage/store.js";
import type { LoadedSession } from "./loader.js";
import { summarize } from "./parse.js";
import { sessionIdOf } from "./session-files.js";
import { browserInstant, parseInstant } from "./time.js";

/**
 * What we keep beside a session written through PUT (R2 custom metadata): its digest, for sync,
 * and its summary, so listing a bucket never reads the objects. R2 allows 2,048 bytes of
 * metadata keys and values together; a summary that does not fit is left out, and that session
 * is read like a file instead.
 */
const METADATA_BUDGET_BYTES = 2048;
const DIGEST_KEY = "sha256";
// Versioned: a summary stored by an older version (other counts, no cwd) is not trusted, and the object is read instead.
const SUMMARY_KEY = "summary-v2";

/** `mtimeMs`: the modification time sync recorded for the file (X-Session-Mtime), kept so times fall back to it. */
export function storedMetadata(session: SessionFull, sha256: string, mtimeMs?: number): StoreMetadata {
  const { id: _id, created_at: _created, updated_at: _updated, ...rest } = summarize(session);
  // ASCII only: metadata travels as HTTP headers through R2's S3 API.
  const summary = JSON.stringify({ ...rest, cwd: session.cwd }).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const facts: Record<string, string> = { [DIGEST_KEY]: sha256 };
  if (mtimeMs !== undefined) facts[MTIME_METADATA_KEY] = new Date(mtimeMs).toISOString();
  const size = Object.entries(facts).reduce((total, [key, value]) => total + key.length + value.length, SUMMARY_KEY.length + summary.length);
  return size <= METADATA_BUDGET_BYTES ? { ...facts, [SUMMARY_KEY]: summary } : facts;
}

/** The digest a store kept for this entry, if any. */
export function storedDigest(entry: StoreEntry): string | null {
  return entry.metadata?.[DIGEST_KEY] ?? null;
}

/** The summary kept with an entry, checked like any input (someone else may write to the bucket), or null. */
export function storedSummary(entry: StoreEntry): LoadedSession | null {
  const id = sessionIdOf(entry.name);
  const text = entry.metadata?.[SUMMARY_KEY];
  if (id === null || text === undefined) return null;
  const fields = parseJson(text, z.record(z.string(), z.unknown()));
  if (fields === null) return null;
  const parsed = SessionSummarySchema.safeParse({ ...fields, id, created_at: "", updated_at: "" });
  if (!parsed.success || typeof fields.cwd !== "string") return null;
  const { created, updated } = parsed.data;
  // Built in wire order, times filled in as a read of the object would (entry.mtimeMs: the recorded time, else the upload's).
  const summary = { ...parsed.data, created_at: browserInstant(created, entry.mtimeMs), updated_at: browserInstant(updated, entry.mtimeMs) };
  return { summary, time: parseInstant(updated) ?? parseInstant(created), cwd: fields.cwd };
}
