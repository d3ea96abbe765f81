import { createHash } from "node:crypto";
import path from "node:path";

/** Node edge: what the filesystem adapters share about names and errors. */

// A plain file name: no separators, no NUL, not "." or "..". Anything else never reaches the disk.
const PLAIN_NAME = /^(?!\.\.?$)[^/\\\0]+$/;

/** `name` inside `directory`; throws for anything that is not a plain file name (so never outside it). */
export function pathIn(directory: string, name: string): string {
  if (!PLAIN_NAME.test(name)) throw new Error("refusing a name that is not a plain file name");
  return path.join(directory, name);
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes(codeOf(error));
}

export function codeOf(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : "unknown error";
}

/** What names our own files after a directory (or a deployment's address): the first 16 hex digits of its SHA-256. */
export function nameKey(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
