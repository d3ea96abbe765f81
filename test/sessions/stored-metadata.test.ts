import { describe, expect, it } from "vitest";
import { parseSession, summarize } from "../../src/sessions/parse.js";
import { storedDigest, storedMetadata, storedSummary } from "../../src/sessions/stored-metadata.js";
import { sha256Hex } from "../../src/shared/digest.js";
import type { StoreEntry, StoreMetadata } from "../../src/storage/store.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";

const entry = (name: string, metadata?: StoreMetadata): StoreEntry => ({ name, kind: "file", size: 1, mtimeMs: 1, stamp: "s", metadata });

function sessionOf(id: string, overrides: Record<string, unknown> = {}) {
  const session = parseSession(id, cliFile(cliSession(id, overrides)), 1); // the entries' mtime below
  if (!session) throw new Error("fixture is not a session");
  return session;
}

describe("summaries kept beside a stored session (R2 custom metadata)", () => {
  it("give back exactly the summary a read would, key order included, for odd and non-ASCII fields", async () => {
    const session = sessionOf("-abc_123", {
      title: 'Ünïcødé 🚀 \u2028 "quoted" \\ back',
      model: "   ",
      tags: ["a", 1, "b"],
      updated: "not a time",
      messages: [{ role: "user", content: [{ type: "text", text: "première   ligne" }] }, null, 3],
    });
    const metadata = storedMetadata(session, await sha256Hex("x"));
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/); // ASCII: travels as headers
    const restored = storedSummary(entry("-abc_123.json", metadata));
    expect(JSON.stringify(restored?.summary)).toBe(JSON.stringify(summarize(session)));
    expect(restored?.time).toBe(Date.parse("2026-03-01T10:00:00.000Z")); // `updated` is no instant: `created` counts
  });

  it("leave the summary out when it would pass R2's 2 KiB metadata limit, keeping the digest", async () => {
    const digest = await sha256Hex("text");
    const metadata = storedMetadata(sessionOf("big", { title: "t".repeat(3000) }), digest);
    expect(Object.keys(metadata)).toEqual(["sha256"]);
    expect(storedSummary(entry("big.json", metadata))).toBeNull();
    expect(storedDigest(entry("big.json", metadata))).toBe(digest);
  });

  it("refuse metadata that is not ours to trust: bad JSON, wrong types, a non-session name", async () => {
    const good = storedMetadata(sessionOf("abc"), await sha256Hex(""));
    expect(storedSummary(entry("abc.json", { summary: "{not json" }))).toBeNull();
    expect(storedSummary(entry("abc.json", { summary: JSON.stringify({ title: 3 }) }))).toBeNull();
    expect(storedSummary(entry("abc.json", { summary: "null" }))).toBeNull();
    expect(storedSummary(entry("index.json", good))).toBeNull();
    expect(storedSummary(entry("abc.json"))).toBeNull();
    expect(storedSummary(entry("abc.json", good))?.summary.id).toBe("abc");
  });
});
