import { describe, expect, it } from "vitest";
import { relevanceCorpus } from "./corpus.js";
import { evaluate, JUDGED_QUERIES, queryTable, queryText } from "./evaluate.js";

const corpus = relevanceCorpus();

/** A search that answers each judged query with its judged sessions, best grade first: what a perfect route would say. */
function oracle(pathAndQuery: string): Response {
  const url = new URL(pathAndQuery, "http://relevance.test");
  const sent = [...url.searchParams].sort().join("&");
  const query = JUDGED_QUERIES.find((judged) => {
    return [...new URLSearchParams({ q: queryText(judged, corpus), ...judged.params })].sort().join("&") === sent;
  });
  const keys = Object.entries(query?.grades ?? {})
    .sort(([, a], [, b]) => b - a)
    .map(([key]) => key);
  const results = keys.map((key) => {
    const index = query?.hits?.[key];
    const hits =
      index === undefined
        ? []
        : [
            { field: "title", message_index: null },
            { field: "message", message_index: index },
          ];
    return { session: { id: corpus.idOf(key) }, score: 1, hits };
  });
  if (url.pathname === "/admin/search") return Response.json({ results, total: results.length, limit: 20, offset: 0 });
  return Response.json(results.map((result) => result.session));
}

describe("evaluate", () => {
  it("scores a perfect compat route 1 on every figure", async () => {
    const report = await evaluate(oracle, "compat", corpus);
    expect([report.precisionAt1, report.mrr, report.ndcgAt10]).toEqual([1, 1, 1]);
    expect(report.outcomes).toHaveLength(JUDGED_QUERIES.length);
  });

  it("reads /admin/search's results and each session's first message hit", async () => {
    const report = await evaluate(oracle, "search", corpus);
    expect([report.precisionAt1, report.mrr, report.ndcgAt10]).toEqual([1, 1, 1]);
    const hits = report.outcomes.flatMap((o) => o.messageHits);
    expect(hits.length).toBeGreaterThan(5);
    expect(hits.filter((hit) => hit.answered !== hit.expected)).toEqual([]);
    expect(queryTable(report, corpus)).toContain("message hits right");
  });

  it("scores a route that answers an error as finding nothing, and says so in the table", async () => {
    const report = await evaluate(() => new Response("no", { status: 404 }), "search", corpus);
    expect([report.precisionAt1, report.mrr, report.ndcgAt10]).toEqual([0, 0, 0]);
    expect(queryTable(report, corpus)).toContain("(nothing) [404]");
  });
});
