import type { SessionFull } from "../http/schemas.js";
import type { Sleep } from "../shared/clock.js";
import type { SessionStore } from "../storage/store.js";
import { parseSessionFile } from "./parse.js";

/** What a session id may be (the CLI's are nanoid(12)); kept free of zod so loader workers start fast. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** A trash item: the session's id, a dot, the deletion time in ms since the epoch. */
export const TRASH_ID_PATTERN = /^([A-Za-z0-9_-]{1,128})\.([0-9]{1,15})$/;

const SESSION_FILE = /^([A-Za-z0-9_-]{1,128})\.json$/;

/** How long to wait between reads of a file that fails to parse: the CLI may be mid-write. */
export const RETRY_DELAYS_MS = [20, 60, 120, 250];

/** `index` (any case: macOS file names ignore case) names the index file, never a session. */
export function isReservedId(id: string): boolean {
  return id.toLowerCase() === "index";
}

export function sessionFileName(id: string): string {
  if (!SESSION_ID_PATTERN.test(id) || isReservedId(id)) throw new Error("not a session id");
  return `${id}.json`;
}

/** The session id a directory entry stands for, or null if the entry is not a session file. */
export function sessionIdOf(fileName: string): string | null {
  const id = SESSION_FILE.exec(fileName)?.[1];
  return id === undefined || isReservedId(id) ? null : id;
}

/** `trailing`: the file held bytes after its leading object (two overlapping CLI saves), left out. */
type SessionRead = { status: "ok"; session: SessionFull; trailing: boolean } | { status: "missing" } | { status: "corrupt" };

/**
 * Reads and parses one session. The CLI writes without temp + rename, so a parse failure may be a
 * file caught mid-write: it is re-read a few times (about half a second in all) before it counts
 * as corrupt.
 */
export async function readSession(
  store: Pick<SessionStore, "read">,
  id: string,
  sleep: Sleep,
  retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
): Promise<SessionRead> {
  const name = sessionFileName(id);
  for (let attempt = 0; ; attempt++) {
    const file = await store.read(name);
    if (file.status === "missing") return { status: "missing" };
    if (file.status === "not-a-file") return { status: "corrupt" };
    const parsed = parseSessionFile(id, file.text, file.mtimeMs);
    if (parsed) return { status: "ok", ...parsed };
    const delay = retryDelaysMs[attempt];
    if (delay === undefined) return { status: "corrupt" };
    await sleep(delay);
  }
}
