import { describe, expect, it } from "vitest";
import { AUTH, appFor, storeWith } from "../fixtures/sessions.js";
import { relevanceCorpus } from "./corpus.js";
import { evaluate, figuresLine, type JudgedQuery, queryTable, type RouteName, type RouteReport } from "./evaluate.js";

/**
 * The relevance set (issue 14) over both search routes: P@1 >= 0.9 on each (MRR and nDCG@10 printed beside it), every
 * query answered, every plain-term query's best answer found, and /admin/search's message hits where the judgments name
 * one. `npm run relevance` prints every query's row.
 */

const corpus = relevanceCorpus();
const app = appFor(storeWith(corpus.sessions));
const fetch = (pathAndQuery: string) => app.request(pathAndQuery, { headers: AUTH });

// npm sets npm_lifecycle_event to the script's name: the full table for `npm run relevance`, one line in the whole suite.
function print(report: RouteReport): void {
  console.log(process.env.npm_lifecycle_event === "relevance" ? queryTable(report, corpus) : figuresLine(report));
}

/** A query of plain terms only: what a search that takes terms literally (substrings, AND, no folding, no typos) already answers. */
function isPlain(query: JudgedQuery): boolean {
  const operatorsOrSyntax = /["]|(^|\s)-|(^|\s)(model|tag|cwd|since|until|session|role|in):/i;
  return query.params === undefined && query.kind !== "typo" && query.kind !== "accent" && !operatorsOrSyntax.test(query.q);
}

/** Plain-term queries whose best answer the route left out of its answer (any search that follows the contract finds them). */
function missedBestAnswers(report: RouteReport): string[] {
  return report.outcomes
    .filter((o) => isPlain(o.query) && Object.entries(o.query.grades).some(([key, grade]) => grade === 2 && !o.ranking.includes(corpus.idOf(key))))
    .map((o) => o.q);
}

async function answersAndFloor(route: RouteName): Promise<void> {
  const report = await evaluate(fetch, route, corpus);
  print(report);
  expect(report.outcomes.filter((o) => o.status !== 200).map((o) => `${o.q}: ${o.status}`)).toEqual([]);
  expect(missedBestAnswers(report)).toEqual([]);
  expect(report.precisionAt1).toBeGreaterThanOrEqual(0.9);
  if (route === "compat") return; // no hits in a bare array of summaries
  const wrongHits = report.outcomes.flatMap((o) => o.messageHits.filter((h) => h.answered !== h.expected).map((h) => `${o.q}: ${JSON.stringify(h)}`));
  expect(wrongHits).toEqual([]);
}

describe("relevance: GET /admin/sessions/search (compat)", () => {
  it("answers every judged query with P@1 >= 0.9, finds the best answer of every plain-term query, and the judged message hits", async () => {
    await answersAndFloor("compat");
  });
});

describe("relevance: GET /admin/search", () => {
  it("answers every judged query with P@1 >= 0.9, finds the best answer of every plain-term query, and the judged message hits", async () => {
    await answersAndFloor("search");
  });
});
