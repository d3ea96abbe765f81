import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { D1Database } from "../../src/cloudflare/d1.js";
import { parseSession, summarize } from "../../src/sessions/parse.js";
import { searchDocumentOf } from "../../src/sessions/search/document.js";
import { type IndexedSession, SearchEngine } from "../../src/sessions/search/engine.js";
import { parseQuery } from "../../src/sessions/search/query.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";

/**
 * D1 bills the rows a query reads. A search for a word in every session must read about its best
 * candidates' rows, not one per match (FTS5 ranks and hands over the best only); only GET /admin/search's
 * total reads one row per match.
 */

const SESSIONS = 3000;

function session(i: number): IndexedSession {
  const text = `alpha ${["beta", "gamma", "delta"][i % 3]} number ${i}`;
  const parsed = parseSession(`s${i}`, cliFile(cliSession(`s${i}`, { messages: [{ role: "user", content: text }] })));
  if (parsed === null) throw new Error(`s${i} does not parse`);
  return { document: searchDocumentOf(parsed), stamp: "1", time: Date.UTC(2026, 0, 1) + i * 1000, summary: summarize(parsed), cwd: parsed.cwd, sha256: null };
}

it("ranks a word every session holds reading its best candidates' rows, and counts it reading one row per match", { timeout: 120_000 }, async () => {
  await env.SEARCH.prepare("DROP TABLE IF EXISTS search_meta").run();
  let rowsRead = 0;
  const engine = await SearchEngine.open(new D1Database(env.SEARCH, (meta) => (rowsRead += meta?.rows_read ?? 0)));
  const parsed = parseQuery("alpha");
  if (!parsed.ok) throw new Error(parsed.message);
  const search = async (total: boolean) => {
    rowsRead = 0;
    const answer = await engine.search({ query: parsed.query, filters: {}, sort: "relevance", limit: 20, offset: 0, hits: 1, total, now: Date.now() });
    return { answer, rowsRead };
  };
  const put = async (from: number, to: number) => {
    for (let at = from; at < to; at += 500) await engine.put(Array.from({ length: Math.min(500, to - at) }, (_, k) => session(at + k)));
  };
  await put(0, SESSIONS / 2);
  const half = await search(false);
  await put(SESSIONS / 2, SESSIONS);
  const whole = await search(false);
  expect(whole.answer.results).toHaveLength(20);
  // twice the matches, about the same rows: the candidates' (and the typo lookup's), not one per match
  expect(whole.rowsRead - half.rowsRead).toBeLessThan(SESSIONS / 20);
  const counted = await search(true);
  expect(counted.answer.total).toBe(SESSIONS);
  expect(counted.rowsRead - whole.rowsRead).toBeGreaterThanOrEqual(SESSIONS);
  expect(counted.rowsRead - whole.rowsRead).toBeLessThan(SESSIONS + SESSIONS / 20);
});
