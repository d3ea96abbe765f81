import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import type { SessionList, SessionSummary } from "../schemas.js";

// Summaries are the same objects from one answer to the next (the catalog keeps them), so each is
// serialized once and its text reused: a list or search answer is then mostly string joining.
const serialized = new WeakMap<SessionSummary, string>();

function summaryJson(summary: SessionSummary): string {
  let text = serialized.get(summary);
  if (text === undefined) {
    text = JSON.stringify(summary);
    serialized.set(summary, text);
  }
  return text;
}

export function summariesJson(summaries: readonly SessionSummary[]): string {
  return `[${summaries.map(summaryJson).join(",")}]`;
}

export function listJson(list: SessionList): string {
  return `{"sessions":${summariesJson(list.sessions)},"total":${list.total},"limit":${list.limit},"offset":${list.offset}}`;
}

/** A JSON text (or its UTF-8 bytes) we serialized ourselves, typed as `T` for Hono's typed client like `c.json(T)` would be. */
export function jsonText<T>(c: Context, text: string | Uint8Array<ArrayBuffer>): Response & TypedResponse<JSONParsed<T>, 200, "json"> {
  return c.body(text, 200, { "Content-Type": "application/json" }) as unknown as Response & TypedResponse<JSONParsed<T>, 200, "json">;
}
