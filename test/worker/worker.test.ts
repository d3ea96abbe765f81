import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker, { type WorkerEnv } from "../../src/worker.js";
import { ADMIN_KEY, DASHBOARD_ORIGIN } from "../fixtures/settings.js";

const AUTH = { Authorization: `Bearer ${ADMIN_KEY}` };

/** A fresh env object: the Worker builds one app per env, so each test starts with an empty catalog. */
function freshEnv(overrides: Partial<WorkerEnv> = {}): WorkerEnv {
  return { ...env, ...overrides };
}

async function call(workerEnv: WorkerEnv, path: string, init: RequestInit = {}): Promise<Response> {
  const waits: Promise<unknown>[] = [];
  const response = await worker.fetch(new Request(`http://worker.test${path}`, init), workerEnv, { waitUntil: (p) => void waits.push(p) });
  await Promise.all(waits);
  return response;
}

describe("the Worker entry", () => {
  it("answers /healthz with the package version and CORS for the configured origin", async () => {
    const res = await call(freshEnv(), "/healthz", { headers: { Origin: DASHBOARD_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
    expect(await res.json()).toEqual({ status: "ok", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("stores a session through PUT and lists it from its metadata without reading it", async () => {
    const e = freshEnv();
    const body = JSON.stringify({
      id: "abc",
      created: "2026-03-01T10:00:00Z",
      updated: "2026-03-02T10:00:00Z",
      title: "Été",
      messages: [{ role: "user", content: "hi" }],
    });
    const put = await call(e, "/admin/sessions/abc", { method: "PUT", headers: { ...AUTH, "Content-Type": "application/json" }, body });
    expect(put.status).toBe(201);
    const object = await env.SESSIONS.head("sessions/abc.json");
    expect(object?.customMetadata?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const list = await call(freshEnv(), "/admin/sessions", { headers: AUTH });
    expect(await list.json()).toMatchObject({ total: 1, sessions: [{ id: "abc", title: "Été", first_user_message: "hi", message_count: 1 }] });
  });

  it("answers 503 naming the missing secret, and nothing else, when OPTA_ADMIN_KEY is not set", async () => {
    const res = await call(freshEnv({ OPTA_ADMIN_KEY: undefined }), "/admin/sessions", { headers: AUTH });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { type: "server_error", code: "not_configured", message: expect.stringContaining("OPTA_ADMIN_KEY") } });
  });
});
