import { type SessionFull, SessionSummarySchema } from "../schemas.js";
import type { StoreEntry, StoreMetadata } from "../storage/store.js";
import { sessionIdOf } from "./files.js";
import type { LoadedSession } from "./loader.js";
import { summarize } from "./parse.js";
import { parseInstant } from "./time.js";

/**
 * What we keep beside a session written through PUT (R2 custom metadata): its digest, for sync,
 * and its summary, so listing a bucket never reads the objects. R2 allows 2,048 bytes of
 * metadata keys and values together; a summary that does not fit is left out, and that session
 * is read like a file instead.
 */
const METADATA_BUDGET_BYTES = 2048;
const DIGEST_KEY = "sha256";
const SUMMARY_KEY = "summary";

/** The lowercase hex SHA-256 of bytes (a text's UTF-8): what sync compares. Web Crypto, so it runs in both runtimes. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export function storedMetadata(session: SessionFull, sha256: string): StoreMetadata {
  const { id: _id, created_at: _created, updated_at: _updated, ...rest } = summarize(session);
  // ASCII only: metadata travels as HTTP headers through R2's S3 API.
  const summary = JSON.stringify(rest).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const size = DIGEST_KEY.length + sha256.length + SUMMARY_KEY.length + summary.length;
  return size <= METADATA_BUDGET_BYTES ? { [DIGEST_KEY]: sha256, [SUMMARY_KEY]: summary } : { [DIGEST_KEY]: sha256 };
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
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof stored !== "object" || stored === null) return null;
  const fields = stored as Record<string, unknown>;
  const parsed = SessionSummarySchema.safeParse({ ...fields, id, created_at: fields.created, updated_at: fields.updated });
  if (!parsed.success) return null;
  const summary = parsed.data;
  return { summary, time: parseInstant(summary.updated) ?? parseInstant(summary.created) };
}
