import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ADMIN_KEY, AUTH, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

/**
 * How long /healthz may go unanswered while one request handles a session whose first user message
 * is 50 MiB. Generous for a loaded machine: what it guards against took 8 to 25 s (first_user_message
 * materialized the whole message, on the main thread for GET); now 0.07-0.6 s on a shared 2-core machine.
 */
const MAX_STALL_MS = 4000;

let dir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-e2e-big-"));
});
afterEach(async () => {
  await killProcess(server);
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Runs `request` while polling /healthz back to back; answers the longest wait for one /healthz and what `request` answered. */
async function stallDuring(url: string, request: () => Promise<Response>): Promise<{ maxWaitMs: number; status: number; body: string }> {
  let done = false;
  let maxWaitMs = 0;
  const polling = (async () => {
    while (!done) {
      const start = performance.now();
      // A connection the stalled server dropped counts as a stall without end.
      const answered = await fetch(`${url}/healthz`).then(
        (res) => res.text().then(() => res.status === 200),
        () => false,
      );
      maxWaitMs = Math.max(maxWaitMs, answered ? performance.now() - start : Number.POSITIVE_INFINITY);
    }
  })();
  try {
    const res = await request();
    return { maxWaitMs, status: res.status, body: await res.text() };
  } finally {
    done = true;
    await polling;
  }
}

it("keeps /healthz answering while list, GET, messages and search handle a 50 MiB first user message", { timeout: 120_000 }, async () => {
  const content = `  start of it ${"word ".repeat(10 * 1024 * 1024)}`;
  await writeFile(path.join(dir, "bigbigbigbig.json"), cliFile(cliSession("bigbigbigbig", { messages: [{ role: "user", content }] })));
  server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const call = (route: string) => () => fetch(`${url}${route}`, { headers: AUTH });

  const list = await stallDuring(url as string, call("/admin/sessions"));
  expect(JSON.parse(list.body).sessions[0].first_user_message).toBe(`start of it${" word".repeat(37)} wor`);
  const get = await stallDuring(url as string, call("/admin/sessions/bigbigbigbig"));
  expect([get.status, get.body.length]).toEqual([200, expect.any(Number)]);
  expect(get.body.length).toBeGreaterThan(50 * 1024 * 1024);
  const messages = await stallDuring(url as string, call("/admin/sessions/bigbigbigbig/messages"));
  const search = await stallDuring(url as string, call("/admin/sessions/search?q=start"));
  expect([messages.status, search.status, JSON.parse(search.body).length]).toEqual([200, 200, 1]);

  const stalls = { list: list.maxWaitMs, get: get.maxWaitMs, messages: messages.maxWaitMs, search: search.maxWaitMs };
  for (const [route, ms] of Object.entries(stalls)) expect(ms, `/healthz waited ${Math.round(ms)} ms during ${route}`).toBeLessThan(MAX_STALL_MS);
});
