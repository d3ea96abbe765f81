import { z } from "zod";
import type { RelevanceCorpus } from "./corpus.js";
import judgmentsFile from "./judgments.json" with { type: "json" };
import { mean, ndcgAt, precisionAt1, reciprocalRank } from "./metrics.js";

const JudgedQuerySchema = z.object({
  q: z.string(),
  params: z.record(z.string(), z.string()).optional(),
  kind: z.string(),
  why: z.string(),
  grades: z.record(z.string(), z.union([z.literal(1), z.literal(2)])),
  /** for /admin/search: the message_index the session's first message hit should have */
  hits: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type JudgedQuery = z.infer<typeof JudgedQuerySchema>;

export const JUDGED_QUERIES: readonly JudgedQuery[] = z.object({ queries: z.array(JudgedQuerySchema) }).parse(judgmentsFile).queries;

/** Sends a GET to a path with its query string (the admin key added by the caller) and answers the response. */
export type Fetch = (pathAndQuery: string) => Response | Promise<Response>;

/** A route's ranking (session ids, best first) and, where it says so, each session's first message hit. */
interface Answer {
  ranking: string[];
  messageHits: Map<string, number | null>;
}

/** The two search routes and how to read each one's answer. */
export const ROUTES = {
  compat: { path: "/admin/sessions/search", read: readCompatAnswer },
  search: { path: "/admin/search", read: readSearchAnswer },
} as const;
export type RouteName = keyof typeof ROUTES;

function readCompatAnswer(body: unknown): Answer {
  const sessions = z.array(z.object({ id: z.string() })).parse(body);
  return { ranking: sessions.map((session) => session.id), messageHits: new Map() };
}

const HitSchema = z.object({ field: z.string(), message_index: z.number().nullable() });
const SearchAnswerSchema = z.object({ results: z.array(z.object({ session: z.object({ id: z.string() }), hits: z.array(HitSchema) })) });

function readSearchAnswer(body: unknown): Answer {
  const { results } = SearchAnswerSchema.parse(body);
  const firstMessageHit = (hits: z.infer<typeof HitSchema>[]) => hits.find((hit) => hit.field === "message")?.message_index ?? null;
  return {
    ranking: results.map((result) => result.session.id),
    messageHits: new Map(results.map((result) => [result.session.id, firstMessageHit(result.hits)])),
  };
}

export interface QueryOutcome {
  query: JudgedQuery;
  /** the query as sent, planted keys replaced by ids */
  q: string;
  status: number;
  ranking: string[];
  precisionAt1: number;
  reciprocalRank: number;
  ndcgAt10: number;
  /** judged message hits: expected index and what the route answered (null: no message hit, or the session not found) */
  messageHits: { key: string; expected: number; answered: number | null }[];
}

export interface RouteReport {
  route: RouteName;
  outcomes: QueryOutcome[];
  precisionAt1: number;
  mrr: number;
  ndcgAt10: number;
}

/** The query as sent: each {key} replaced by that planted session's id. */
export function queryText(query: JudgedQuery, corpus: RelevanceCorpus): string {
  return query.q.replace(/\{([\w-]+)\}/g, (_, key: string) => corpus.idOf(key));
}

/** Sends every judged query to the route and scores its answers. */
export async function evaluate(fetch: Fetch, route: RouteName, corpus: RelevanceCorpus): Promise<RouteReport> {
  const outcomes: QueryOutcome[] = [];
  for (const query of JUDGED_QUERIES) {
    const q = queryText(query, corpus);
    const res = await fetch(`${ROUTES[route].path}?${new URLSearchParams({ q, ...query.params })}`);
    const { ranking, messageHits }: Answer = res.status === 200 ? ROUTES[route].read(await res.json()) : { ranking: [], messageHits: new Map() };
    const grades = Object.fromEntries(Object.entries(query.grades).map(([key, grade]) => [corpus.idOf(key), grade]));
    outcomes.push({
      query,
      q,
      status: res.status,
      ranking,
      precisionAt1: precisionAt1(ranking, grades),
      reciprocalRank: reciprocalRank(ranking, grades),
      ndcgAt10: ndcgAt(10, ranking, grades),
      messageHits: Object.entries(query.hits ?? {}).map(([key, expected]) => ({ key, expected, answered: messageHits.get(corpus.idOf(key)) ?? null })),
    });
  }
  return {
    route,
    outcomes,
    precisionAt1: mean(outcomes.map((o) => o.precisionAt1)),
    mrr: mean(outcomes.map((o) => o.reciprocalRank)),
    ndcgAt10: mean(outcomes.map((o) => o.ndcgAt10)),
  };
}

/** The three figures in one line. */
export function figuresLine(report: RouteReport): string {
  const hits = report.outcomes.flatMap((o) => o.messageHits);
  const hitsLine = report.route === "search" ? `, message hits right ${hits.filter((h) => h.answered === h.expected).length}/${hits.length}` : "";
  return `${ROUTES[report.route].path} over ${report.outcomes.length} queries: P@1 ${report.precisionAt1.toFixed(3)} (target >= 0.9), MRR ${report.mrr.toFixed(3)}, nDCG@10 ${report.ndcgAt10.toFixed(3)}${hitsLine}`;
}

/** One row per query: its figures, what came first (a planted key, or "other" for a generated session), and message hits. */
export function queryTable(report: RouteReport, corpus: RelevanceCorpus): string {
  const rows = report.outcomes.map((o, i) => {
    const first = o.ranking[0];
    const firstLabel = first === undefined ? "(nothing)" : (corpus.keyOf(first) ?? `other ${first}`);
    const status = o.status === 200 ? "" : ` [${o.status}]`;
    // Only /admin/search says which message matched.
    const hits = report.route === "search" ? o.messageHits.map((h) => ` message of ${h.key}: want ${h.expected}, got ${h.answered ?? "-"}`).join("") : "";
    return [
      String(i + 1).padStart(2),
      o.query.kind.padEnd(14),
      o.precisionAt1.toFixed(0).padEnd(3),
      o.reciprocalRank.toFixed(2),
      o.ndcgAt10.toFixed(2),
      `${o.q}${o.query.params ? ` ${new URLSearchParams(o.query.params)}` : ""}`.padEnd(36),
      `${firstLabel}${status}${hits}`,
    ].join("  ");
  });
  return [` #  ${"kind".padEnd(14)}  P@1  RR    nDCG  ${"query".padEnd(36)}  first result`, ...rows, figuresLine(report)].join("\n");
}
