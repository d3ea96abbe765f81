import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startWranglerDev } from "../../scripts/wrangler-dev.mjs";
import { ADMIN_KEY, cliFile, cliSession, DASHBOARD_ORIGIN } from "../fixtures/sessions.js";
import { startProcess } from "./helpers.js";

/**
 * The Cloudflare deployment end to end, all local: `wrangler dev` runs src/cloudflare/worker.ts from
 * wrangler.example.toml (as README's "Deploy to Cloudflare" says) with a local R2 bucket on disk,
 * `opta-sessions sync` fills it from a temp sessions directory, and the dashboard's requests go to it.
 */

const AUTH = { "X-Admin-Key": ADMIN_KEY, "Content-Type": "application/json" };

let wrangler: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
let base: string;
let dir: string;
let state: string;

/** Runs `node dist/node/cli.js sync` as a user would; resolves with its exit code and output. */
async function sync(...args: string[]): Promise<{ code: number | string; output: string }> {
  const run = startProcess(["sync", "--dir", dir, "--to", base, ...args], { OPTA_ADMIN_KEY: ADMIN_KEY });
  const code = await run.exited;
  return { code, output: run.output() };
}

async function getJson(pathAndQuery: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${pathAndQuery}`, { headers: AUTH });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-wrangler-sessions-"));
  state = await mkdtemp(path.join(os.tmpdir(), "opta-wrangler-state-"));
  wrangler = await startWranglerDev({ state, vars: { OPTA_ADMIN_KEY: ADMIN_KEY, OPTA_CORS_ORIGINS: DASHBOARD_ORIGIN } });
  base = wrangler.url;
}, 90_000);

afterAll(async () => {
  await wrangler?.stop();
  await rm(dir, { recursive: true, force: true });
  await rm(state, { recursive: true, force: true });
});

describe("on Cloudflare Workers (wrangler dev, local R2)", () => {
  it("syncs a sessions directory with damaged files, then serves, searches and deletes through the Worker; a CLI change syncs again", async () => {
    const fresh = cliSession("fresh1234567", {
      updated: "2026-11-02T10:00:00.000Z",
      title: "Deploy notes",
      messages: [{ role: "user", content: "How do I deploy to workers?" }],
    });
    const older = cliSession("-older_12345", { updated: "2026-11-01T10:00:00.000Z", title: "", model: "mlx-community/Llama-3.3-70B-4bit", tags: ["infra"] });
    const gone = cliSession("gone12345678", { updated: "2026-10-01T10:00:00.000Z", title: "To be deleted" });
    await writeFile(path.join(dir, "fresh1234567.json"), cliFile(fresh));
    await writeFile(path.join(dir, "-older_12345.json"), cliFile(older));
    await writeFile(path.join(dir, "gone12345678.json"), cliFile(gone));
    // Damaged and foreign entries: none of them is a session, none may reach the bucket.
    await writeFile(path.join(dir, "truncated123.json"), cliFile(cliSession("truncated123")).slice(0, 40));
    await writeFile(path.join(dir, "array1234567.json"), "[1,2,3]");
    await mkdir(path.join(dir, "folder123456.json"));
    await writeFile(path.join(dir, "index.json"), JSON.stringify({ version: 1, sessions: [] }));
    await writeFile(path.join(dir, "notes.txt"), "not a session");
    const outside = path.join(state, "outside.json");
    await writeFile(outside, cliFile(cliSession("outside12345")));
    await symlink(outside, path.join(dir, "linked123456.json"));

    const first = await sync();
    expect(first.output).toMatch(/3 uploaded/);
    expect(first.code).toBe(0);

    // Many requests at once while the isolate's listing is still to be built: they share one scan, across request contexts.
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) => getJson(["/admin/sessions", "/admin/sessions/search?q=deploy", "/admin/sessions/fresh1234567"][i % 3] ?? "")),
    );
    expect(burst.map((answer) => answer.status)).toEqual(Array(24).fill(200));

    const list = await getJson("/admin/sessions");
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    const ids = (list.body as { sessions: { id: string }[] }).sessions.map((session) => session.id);
    expect(ids).toEqual(["fresh1234567", "-older_12345", "gone12345678"]);

    const one = await getJson("/admin/sessions/-older_12345");
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: "-older_12345",
      title: null,
      model: "mlx-community/Llama-3.3-70B-4bit",
      tags: ["infra"],
      updated_at: "2026-11-01T10:00:00.000Z",
    });
    expect((await getJson("/admin/sessions/truncated123")).status).toBe(404);
    expect((await getJson("/admin/sessions/linked123456")).status).toBe(404);

    const search = await getJson("/admin/sessions/search?q=deploy%20WORKERS");
    expect((search.body as { id: string }[]).map((session) => session.id)).toEqual(["fresh1234567"]);
    expect((await getJson("/admin/sessions?model=llama")).body).toMatchObject({ total: 1, sessions: [{ id: "-older_12345" }] });

    // The dashboard deletes one from its own origin: preflight, then DELETE.
    const preflight = await fetch(`${base}/admin/sessions/gone12345678`, {
      method: "OPTIONS",
      headers: { Origin: DASHBOARD_ORIGIN, "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-admin-key,content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
    const deleted = await fetch(`${base}/admin/sessions/gone12345678`, { method: "DELETE", headers: { ...AUTH, Origin: DASHBOARD_ORIGIN } });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ deleted: true, trash_id: expect.stringMatching(/^[\w-]+\.[0-9]+$/) });
    expect((await getJson("/admin/sessions/gone12345678")).status).toBe(404);

    // The CLI saves one session again, starts a new one and removes one; the second sync carries exactly that.
    await writeFile(path.join(dir, "fresh1234567.json"), cliFile({ ...fresh, updated: "2026-11-03T10:00:00.000Z", title: "Deploy notes, done" }));
    await writeFile(path.join(dir, "new123456789.json"), cliFile(cliSession("new123456789", { updated: "2026-11-04T10:00:00.000Z" })));
    await unlink(path.join(dir, "-older_12345.json"));
    const second = await sync();
    expect(second.code).toBe(0);
    // gone12345678 is still in the directory, unchanged: deleted through the Worker's API, it stays deleted there.
    expect(second.output).toMatch(/2 uploaded, 1 deleted, 0 unchanged, 1 deleted there \(kept deleted\)/);

    // A listing reflects the bucket within a second (asked until it does, for at most two).
    await vi.waitFor(
      async () => {
        const sessions = ((await getJson("/admin/sessions")).body as { sessions: { id: string; title: string | null }[] }).sessions;
        expect(sessions.map((session) => session.id)).toEqual(["new123456789", "fresh1234567"]);
        expect(sessions[1]?.title).toBe("Deploy notes, done");
      },
      { timeout: 2000, interval: 100 },
    );

    const third = await sync();
    expect(third.code).toBe(0);
    expect(third.output).toMatch(/0 uploaded, 0 deleted/);
    // workerd reports a promise shared across requests that it had to cancel, or I/O done for another request, here.
    expect(wrangler?.output()).toContain('"msg":"GET /admin/sessions 200'); // the Worker's own log lines are in this output
    expect(wrangler?.output()).not.toMatch(/different request|Cannot perform I\/O|hung|Uncaught/i);
  }, 120_000);

  it("refuses a wrong key and names no secret", async () => {
    const res = await fetch(`${base}/admin/sessions`, { headers: { "X-Admin-Key": "wrong-key-wrong-key-wrong" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
    expect(await res.text()).not.toContain(ADMIN_KEY);
  });
});
