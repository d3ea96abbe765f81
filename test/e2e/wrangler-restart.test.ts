import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev } from "../../scripts/wrangler-dev.mjs";
import { ADMIN_KEY, cliFile, cliSession } from "../fixtures/sessions.js";
import { startProcess } from "./helpers.js";

/**
 * Issue 16's promise, end to end: after a sync of 2,000 sessions, a new `wrangler dev` process over the
 * same local R2 and D1 (a fresh isolate, nothing in memory) answers list, filters and search from D1
 * alone: no session object read, no listing of the bucket (X-Opta-Cost says so).
 */

const SESSIONS = 2000;
const AUTH = { "X-Admin-Key": ADMIN_KEY };
const VARS = { OPTA_ADMIN_KEY: ADMIN_KEY, OPTA_COST_HEADER: "1" };

let dir: string;
let state: string;
let wrangler: Awaited<ReturnType<typeof startWranglerDev>> | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-restart-sessions-"));
  state = await mkdtemp(path.join(os.tmpdir(), "opta-restart-state-"));
  for (let i = 0; i < SESSIONS; i++) {
    const id = `s${String(i).padStart(5, "0")}`;
    const session = cliSession(id, {
      updated: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      model: i % 4 === 0 ? "qwen3-coder" : "MiniMax-M2.5-5bit",
      tags: i % 10 === 0 ? ["release"] : [],
      messages: [
        { role: "user", content: `question ${i} about ${i === 1234 ? "the walrus operator" : "the parser"}` },
        { role: "assistant", content: `answer ${i}` },
      ],
    });
    await writeFile(path.join(dir, `${id}.json`), cliFile(session));
  }
  wrangler = await startWranglerDev({ state, vars: VARS });
}, 120_000);

afterAll(async () => {
  await wrangler?.stop();
  await rm(dir, { recursive: true, force: true });
  await rm(state, { recursive: true, force: true });
});

async function costed(pathAndQuery: string): Promise<{ body: unknown; r2: number; rowsRead: number }> {
  const res = await fetch(`${wrangler?.url}${pathAndQuery}`, { headers: AUTH });
  expect(res.status).toBe(200);
  const cost = Object.fromEntries((res.headers.get("X-Opta-Cost") ?? "").split(", ").map((part) => part.split("=")));
  return { body: await res.json(), r2: Number(cost["r2-class-a"]) + Number(cost["r2-class-b"]), rowsRead: Number(cost["d1-rows-read"]) };
}

describe("a fresh wrangler dev after a sync (local R2 and D1)", () => {
  it("lists, filters and searches 2,000 synced sessions without reading an object or listing the bucket", async () => {
    const run = startProcess(["sync", "--dir", dir, "--to", wrangler?.url ?? ""], { OPTA_ADMIN_KEY: ADMIN_KEY });
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toMatch(new RegExp(`${SESSIONS} uploaded`));

    await wrangler?.stop();
    wrangler = await startWranglerDev({ state, vars: VARS });

    const list = await costed("/admin/sessions");
    expect(list.body).toMatchObject({ total: SESSIONS, limit: 50 });
    expect((list.body as { sessions: { id: string }[] }).sessions[0]?.id).toBe("s01999");
    expect(list.r2).toBe(0);
    expect(list.rowsRead).toBeLessThan(SESSIONS / 10);
    const filtered = await costed("/admin/sessions?tag=release&limit=3");
    expect(filtered.body).toMatchObject({ total: SESSIONS / 10, sessions: [{ id: "s01990" }, { id: "s01980" }, { id: "s01970" }] });
    expect(filtered.r2).toBe(0);
    const search = await costed("/admin/search?q=walrus");
    expect(search.body).toMatchObject({ total: 1, results: [{ session: { id: "s01234" } }] });
    expect(search.r2).toBe(0);
    const compat = await costed("/admin/sessions/search?q=parser&limit=5");
    expect((compat.body as unknown[]).length).toBe(5);
    expect(compat.r2).toBe(0);
    console.info(
      `fresh wrangler dev at ${SESSIONS} sessions, D1 rows read: list ${list.rowsRead}, tag filter ${filtered.rowsRead}, rare search ${search.rowsRead}, common search ${compat.rowsRead}`,
    );
  }, 300_000);
});
