import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import type { WorkerEnv } from "../../src/cloudflare/worker.js";
import { contractSuite } from "../contract/cases.js";
import { SEED_MTIME } from "../contract/runtime.js";
import { cliFile } from "../fixtures/sessions.js";
import { ADMIN_KEY } from "../fixtures/settings.js";
import { callWorker, emptyBucket, muteRequestLog, runCron } from "./harness.js";

muteRequestLog();

it("runs inside workerd, not Node", () => {
  expect(navigator.userAgent).toBe("Cloudflare-Workers");
});

/**
 * The Worker entry exactly as deployed (src/cloudflare/worker.ts, configured by wrangler.example.toml and the
 * test bindings), over the local R2 bucket and D1 database. Sessions are stored through its own PUT, as sync
 * does; other files are put into the bucket directly, as anyone else writing to it would (no metadata), and
 * are found by the cron's reconcile, which runs after each such write here (deployed: hourly). A fresh env
 * object per start gives a fresh app, as a fresh isolate.
 */
contractSuite({
  name: "the Worker (workerd, an R2 bucket)",
  liveFeed: false,
  async start(seed, options = {}) {
    await emptyBucket(); // storage is kept per test file, not per test
    const workerEnv: WorkerEnv = {
      ...env,
      ...(options.maxSessionMb !== undefined && { OPTA_MAX_SESSION_MB: String(options.maxSessionMb) }),
      ...(options.allowWrites === false && { OPTA_ALLOW_WRITES: "0" }),
      ...(options.contentAsText && { OPTA_CONTENT_AS_TEXT: "1" }),
    };
    const fetch = (path: string, init?: RequestInit) => callWorker(workerEnv, path, init);
    // Other writers' files carry the modification time as sync records it, so every seeded file has SEED_MTIME.
    for (const [name, text] of Object.entries(seed.raw ?? {})) await env.SESSIONS.put(`sessions/${name}`, text, { customMetadata: { mtime: SEED_MTIME } });
    if (seed.raw) await runCron(workerEnv);
    for (const session of seed.sessions ?? []) {
      const id = String(session.id);
      const res = await fetch(`/admin/sessions/${id}`, {
        method: "PUT",
        headers: { "X-Admin-Key": ADMIN_KEY, "Content-Type": "application/json", "X-Session-Mtime": SEED_MTIME },
        body: cliFile(session),
      });
      if (res.status !== 201) throw new Error(`seeding ${id}: ${res.status} ${await res.text()}`);
    }
    return {
      fetch,
      writeBehind: async (name, text) => {
        await env.SESSIONS.put(`sessions/${name}`, text);
        await runCron(workerEnv);
      },
      removeBehind: async (name) => {
        await env.SESSIONS.delete(`sessions/${name}`);
        await runCron(workerEnv);
      },
    };
  },
});
