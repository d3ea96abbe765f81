import type { SessionStore } from "../storage/store.js";
import { INDEX_FILE } from "./files.js";
import { isRecord } from "./parse.js";

/**
 * Drops one id from the CLI's index.json, keeping every other entry and top-level field and
 * stamping `updatedAt` as the CLI does. A missing or unreadable index, or one without that
 * entry, is left exactly as it is. Callers serialize calls (read-modify-write).
 */
export async function removeIndexEntry(store: SessionStore, id: string, now: Date): Promise<boolean> {
  const file = await store.read(INDEX_FILE);
  if (file.status !== "ok") return false;
  let index: unknown;
  try {
    index = JSON.parse(file.text);
  } catch {
    return false;
  }
  if (!isRecord(index) || !isRecord(index.entries) || !Object.hasOwn(index.entries, id)) return false;
  delete index.entries[id];
  index.updatedAt = now.toISOString();
  await store.replace(INDEX_FILE, JSON.stringify(index, null, 2));
  return true;
}
