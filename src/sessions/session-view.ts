import type { MessagePage, SessionFull } from "../http/schemas.js";
import type { Sleep } from "../shared/clock.js";
import type { SessionStore } from "../storage/store.js";
import { withContentAsText } from "./content-as-text.js";
import { RETRY_DELAYS_MS, readSession, sessionIdOf } from "./session-files.js";

/** What GET of a session sends: the whole session, or one page of its messages; content as text under the compatibility switch. */
export interface SessionView {
  page?: { offset: number; limit: number };
  contentAsText: boolean;
}

/** GET's answer as the JSON bytes sent, or why there is none. */
export type ServeResult = { status: "ok"; json: Uint8Array<ArrayBuffer> } | { status: "missing" } | { status: "corrupt" };

/**
 * Reads a session and serializes GET's answer for it: the whole job, wherever it runs (the Node
 * edge runs it in a worker thread, so parsing and serializing a 50 MiB session never stalls answers).
 */
export async function serveSession(store: Pick<SessionStore, "read">, name: string, sleep: Sleep, view: SessionView): Promise<ServeResult> {
  const id = sessionIdOf(name);
  if (id === null) return { status: "missing" };
  const read = await readSession(store, id, sleep, RETRY_DELAYS_MS);
  if (read.status !== "ok") return read;
  return { status: "ok", json: new TextEncoder().encode(JSON.stringify(answerOf(read.session, view))) };
}

function answerOf(session: SessionFull, view: SessionView): SessionFull | MessagePage {
  const shown = (messages: SessionFull["messages"]) => (view.contentAsText ? messages.map(withContentAsText) : messages);
  if (view.page === undefined) return { ...session, messages: shown(session.messages) };
  const { offset, limit } = view.page;
  return { messages: shown(session.messages.slice(offset, offset + limit)), total: session.messages.length, offset };
}
