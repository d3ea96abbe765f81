import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { WorkerEnv } from "../../src/cloudflare/worker.js";
import { cliFile } from "../fixtures/sessions.js";
import { ADMIN_KEY } from "../fixtures/settings.js";
import { relevanceCorpus } from "../relevance/corpus.js";
import { evaluate, figuresLine, type RouteName } from "../relevance/evaluate.js";
import { callWorker, emptyBucket, muteRequestLog, runCron } from "./harness.js";

/**
 * The relevance set (test/relevance) on the Worker: the same corpus in R2, searched through D1, the same judged
 * queries over both routes; the same floor as on Node (P@1 >= 0.9, every judged message hit).
 */

muteRequestLog();
const corpus = relevanceCorpus();
const workerEnv = env as unknown as WorkerEnv;
const fetch = (pathAndQuery: string) => callWorker(workerEnv, pathAndQuery, { headers: { "X-Admin-Key": ADMIN_KEY } });

beforeAll(async () => {
  await emptyBucket();
  const bucket = workerEnv.SESSIONS;
  for (let at = 0; at < corpus.sessions.length; at += 50) {
    await Promise.all(corpus.sessions.slice(at, at + 50).map((session) => bucket.put(`sessions/${String(session.id)}.json`, cliFile(session))));
  }
  // Put there by other means: the cron's reconcile indexes them into D1, a bounded number per run.
  for (let run = 0; run < 10; run++) {
    await runCron(workerEnv);
    const list = (await (await fetch("/admin/sessions?limit=1")).json()) as { total: number };
    if (list.total === corpus.sessions.length) break;
  }
}, 120_000);

describe.each<RouteName>(["compat", "search"])("relevance on the Worker: %s route", (route) => {
  it("answers every judged query with P@1 >= 0.9 and the judged message hits", { timeout: 60_000 }, async () => {
    const report = await evaluate(fetch, route, corpus);
    console.info(figuresLine(report));
    expect(report.outcomes.filter((o) => o.status !== 200).map((o) => `${o.q}: ${o.status}`)).toEqual([]);
    expect(report.precisionAt1).toBeGreaterThanOrEqual(0.9);
    const wrongHits = report.outcomes.flatMap((o) => o.messageHits.filter((h) => h.answered !== h.expected).map((h) => `${o.q}: ${h.key}`));
    expect(route === "compat" ? [] : wrongHits).toEqual([]);
  });
});
