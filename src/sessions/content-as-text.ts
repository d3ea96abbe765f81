import type { SessionMessage } from "../http/schemas.js";
import { isRecord } from "./parse.js";

// A part's type shown as its placeholder, when it is a short name (a file may hold anything there).
const PART_TYPE = /^[A-Za-z0-9_-]{1,40}$/;

/**
 * A message as the compatibility switch sends it (--content-as-text): `content` always a string
 * or null, because the existing dashboard renders it as a React child and a parts array breaks its
 * page. Text parts are joined with a space, other parts become a placeholder (`[image]`); content
 * that is neither a string, an array nor null becomes its JSON text. Everything else is kept.
 */
export function withContentAsText(message: SessionMessage): SessionMessage {
  if (!isRecord(message) || message.content === undefined || message.content === null || typeof message.content === "string") return message;
  const { content } = message;
  return { ...message, content: Array.isArray(content) ? content.map(partText).join(" ") : JSON.stringify(content) };
}

function partText(part: unknown): string {
  if (!isRecord(part)) return "[part]";
  if (part.type === "text" && typeof part.text === "string") return part.text;
  if (part.type === "image_url") return "[image]";
  return typeof part.type === "string" && PART_TYPE.test(part.type) ? `[${part.type}]` : "[part]";
}
