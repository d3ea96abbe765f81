import { expect } from "vitest";
import { ADMIN_KEY } from "../fixtures/settings.js";

/**
 * What the contract suite asks of a runtime (the Node server, the Worker): start the app over a
 * given store, then talk to it. Nothing here or in the cases imports from node: (they run inside
 * workerd too).
 */
export interface ContractRuntime {
  name: string;
  /** Whether GET /admin/sessions/events streams (the Node server keeps a feed) or answers 501 (the Worker). */
  liveFeed: boolean;
  /** A fresh app over a store holding exactly `seed`: nothing from an earlier test is left. */
  start(seed: Seed, options?: StartOptions): Promise<Target>;
}

export interface Seed {
  /** Sessions as the Opta CLI writes them, stored as that runtime's writer stores them (Node: the file; the Worker: PUT, as sync does). */
  sessions?: readonly Record<string, unknown>[];
  /** Files that reach storage by other means (damaged, odd names, written by someone else), by file name, e.g. `bad.json`. */
  raw?: Readonly<Record<string, string | Uint8Array>>;
}

export interface StartOptions {
  /** The largest session served or accepted, in MiB (Node: maxSessionBytes; the Worker: OPTA_MAX_SESSION_MB). */
  maxSessionMb?: number;
  /** Whether PUT and the sync manifest exist (Node: allowWrites, default here true; the Worker: OPTA_ALLOW_WRITES, default on). */
  allowWrites?: boolean;
  /** The compatibility switch: content sent as text (Node: contentAsText; the Worker: OPTA_CONTENT_AS_TEXT=1). */
  contentAsText?: boolean;
}

export interface Target {
  /** One request to the app, as a client on the network would send it; `path` includes the query. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Writes a file into storage behind the app's back, as the CLI (Node) or another writer to the bucket (the Worker) would. */
  writeBehind(name: string, text: string): Promise<void>;
  /** Removes a file from storage behind the app's back. */
  removeBehind(name: string): Promise<void>;
}

export const KEY = { "X-Admin-Key": ADMIN_KEY };

/**
 * The modification time every seeded file gets (Node: the file's mtime; the Worker: recorded as
 * sync records it, X-Session-Mtime on PUT): what created_at/updated_at fall back to.
 */
export const SEED_MTIME = "2026-01-02T03:04:05.678Z";

/**
 * The contract: what the CLI writes, renames or removes shows in every answer within 1 second.
 * The slack is for a slow machine, not for the server.
 */
export const VISIBLE_WITHIN_MS = 1_000 + 500;

/** Status, JSON content type and the exact body text (so key order and spelling are compared too). */
export async function expectJson(res: Response, status: number, body: unknown): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: JSON.stringify(body) });
  expect(res.headers.get("Content-Type")).toBe("application/json");
}

/** The lowercase hex SHA-256 of bytes (a text: its UTF-8 bytes), computed here rather than taken from src. */
export async function sha256Of(data: string | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}
