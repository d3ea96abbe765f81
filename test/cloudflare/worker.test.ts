import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { WorkerEnv } from "../../src/cloudflare/worker.js";
import * as workerModule from "../../src/cloudflare/worker.js";
import { expectError } from "../fixtures/errors.js";
import { ADMIN_KEY, DASHBOARD_ORIGIN } from "../fixtures/settings.js";
import { callWorker as call, emptyBucket, muteRequestLog, runCron } from "./harness.js";

const AUTH = { Authorization: `Bearer ${ADMIN_KEY}` };

/** A fresh env object: the Worker builds one app per env, so each test starts with an empty catalog. */
function freshEnv(overrides: Partial<WorkerEnv> = {}): WorkerEnv {
  return { ...env, ...overrides };
}

beforeEach(emptyBucket);
muteRequestLog();

/** A fresh env (so a fresh app, as in a new isolate) over the same bucket, recording every object it reads and every listing of the bucket. */
function countingReads(): { reads: string[]; lists: number; counting: WorkerEnv } {
  const bucket = env.SESSIONS;
  const counted = {
    reads: [] as string[],
    lists: 0,
    counting: {
      ...freshEnv(),
      SESSIONS: new Proxy(bucket, {
        get: (target, key) => {
          if (key === "get")
            return (name: string) => {
              counted.reads.push(name);
              return bucket.get(name);
            };
          if (key === "list")
            return (options: Parameters<typeof bucket.list>[0]) => {
              counted.lists++;
              return bucket.list(options);
            };
          return Reflect.get(target, key).bind(target);
        },
      }),
    },
  };
  return counted;
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
    await expectError(res, 503, { type: "server_error", code: "not_configured", message: /OPTA_ADMIN_KEY/ });
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/); // like every other answer, so the log line can be found
    const named = await call(freshEnv({ OPTA_ADMIN_KEY: undefined }), "/healthz", { headers: { "X-Request-Id": "dashboard-42" } });
    expect([named.status, named.headers.get("X-Request-Id")]).toEqual([503, "dashboard-42"]);
  });

  it("answers 503 saying to set a real key when OPTA_ADMIN_KEY is an example's placeholder", async () => {
    const res = await call(freshEnv({ OPTA_ADMIN_KEY: "REPLACE-WITH-THE-WORKER-ADMIN-KEY" }), "/admin/sessions", {
      headers: { Authorization: "Bearer REPLACE-WITH-THE-WORKER-ADMIN-KEY" },
    });
    await expectError(res, 503, { type: "server_error", code: "not_configured", message: /set a real key/ });
  });

  it("runs inside workerd and exports only the handler object (a Worker module may export nothing else)", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
    expect(Object.keys(workerModule)).toEqual(["default"]);
  });

  it("lists a page from D1 in a fresh isolate: no object read, no listing of the bucket, the total from a counter", async () => {
    const e = freshEnv();
    const headers = { ...AUTH, "Content-Type": "application/json" };
    for (let i = 0; i < 205; i++) {
      const id = `s${String(i).padStart(5, "0")}`;
      const res = await call(e, `/admin/sessions/${id}`, { method: "PUT", headers, body: JSON.stringify({ updated: "2026-01-01T00:00:00Z", title: id }) });
      expect(res.status).toBe(201);
    }
    const counted = countingReads();
    const page = await call(counted.counting, "/admin/sessions?limit=200&offset=200", { headers: AUTH });
    expect(await page.json()).toMatchObject({ total: 205, offset: 200, sessions: [{ id: "s00200" }, {}, {}, {}, { id: "s00204" }] });
    const filtered = await call(counted.counting, "/admin/sessions?limit=2&since=2026-01-01", { headers: AUTH });
    expect(await filtered.json()).toMatchObject({ total: 205, sessions: [{ id: "s00000" }, { id: "s00001" }] });
    expect([counted.reads, counted.lists]).toEqual([[], 0]);
  });

  it("says what each answer cost when OPTA_COST_HEADER is on: a fresh isolate's list and search touch no R2 object and read few rows", async () => {
    const e = freshEnv();
    const headers = { ...AUTH, "Content-Type": "application/json" };
    for (let i = 0; i < 120; i++) {
      const body = JSON.stringify({
        updated: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z`,
        messages: [{ role: "user", content: `kiwi number ${i}` }],
      });
      expect((await call(e, `/admin/sessions/s${i}`, { method: "PUT", headers, body })).status).toBe(201);
    }
    const fresh = freshEnv({ OPTA_COST_HEADER: "1" });
    const cost = async (path: string) => {
      const res = await call(fresh, path, { headers: AUTH });
      expect(res.status).toBe(200);
      const parts = Object.fromEntries((res.headers.get("X-Opta-Cost") ?? "").split(", ").map((part) => part.split("=")));
      return { r2: Number(parts["r2-class-a"]) + Number(parts["r2-class-b"]), rowsRead: Number(parts["d1-rows-read"]) };
    };
    const list = await cost("/admin/sessions");
    expect(list.r2).toBe(0);
    expect(list.rowsRead).toBeLessThan(120); // the page's 50 rows and the counter: not every row
    const search = await cost("/admin/search?q=kiwi&limit=5");
    expect(search.r2).toBe(0);
    expect((await cost("/admin/sessions/s7")).r2).toBe(2); // a head for the size, a get for the body
    expect((await call(e, "/healthz")).headers.get("X-Opta-Cost")).toBeNull(); // off unless asked for
  });

  it("finds what was put into the bucket by other means at the cron's reconcile, and drops rows of objects gone", async () => {
    const e = freshEnv();
    const headers = { ...AUTH, "Content-Type": "application/json" };
    expect((await call(e, "/admin/sessions/kept", { method: "PUT", headers, body: JSON.stringify({ title: "kept" }) })).status).toBe(201);
    expect((await call(e, "/admin/sessions/gone", { method: "PUT", headers, body: JSON.stringify({ title: "gone" }) })).status).toBe(201);
    await env.SESSIONS.put("sessions/other.json", JSON.stringify({ title: "put by other means", messages: [{ role: "user", content: "wombat" }] }));
    await env.SESSIONS.put("sessions/broken.json", "{ not json");
    await env.SESSIONS.delete("sessions/gone.json");
    const ids = async () => ((await (await call(e, "/admin/sessions", { headers: AUTH })).json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
    expect((await ids()).sort()).toEqual(["gone", "kept"]); // until the cron runs, the index is what the deployment wrote
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    await runCron(e);
    expect((await ids()).sort()).toEqual(["kept", "other"]);
    expect(warnings.join("\n")).toContain(
      "reconcile: the bucket holds 3 sessions; 2 were not in the index or changed behind it (indexed now), 1 in the index had no object (removed)",
    );
    const search = await call(e, "/admin/sessions/search?q=wombat", { headers: AUTH });
    expect(((await search.json()) as { id: string }[]).map((item) => item.id)).toEqual(["other"]);
    // the damaged object is not listed, but sync sees it (and can replace it)
    const manifest = (await (await call(e, "/admin/sync/manifest", { headers: AUTH })).json()) as { sessions: Record<string, string> };
    expect(Object.keys(manifest.sessions).sort()).toEqual(["broken", "kept", "other"]);
  });

  it("searches from D1 in a fresh isolate, reading no session object when the index is current", async () => {
    const e = freshEnv();
    const headers = { ...AUTH, "Content-Type": "application/json" };
    for (const [id, text] of [
      ["wombat", "the wombat burrow"],
      ["quokka", "a quokka smiles"],
    ]) {
      const body = JSON.stringify({ updated: "2026-01-01T00:00:00Z", title: id, messages: [{ role: "user", content: text }] });
      expect((await call(e, `/admin/sessions/${id}`, { method: "PUT", headers, body })).status).toBe(201);
    }
    const first = await call(e, "/admin/search?q=burrow", { headers: AUTH });
    expect(await first.json()).toMatchObject({ total: 1, results: [{ session: { id: "wombat" }, hits: [{ field: "message", message_index: 0 }] }] });
    // A new env object: the Worker builds a new app, as a fresh isolate would, over the same bucket and D1 database.
    const { reads, counting } = countingReads();
    const search = await call(counting, "/admin/sessions/search?q=smiles", { headers: AUTH });
    expect(((await search.json()) as { id: string }[]).map((item) => item.id)).toEqual(["quokka"]);
    expect(reads).toEqual([]);
  });

  it("lists and searches a session whose summary does not fit in R2's metadata (D1 holds it)", async () => {
    const e = freshEnv();
    const title = `Long ${"t".repeat(3000)}`;
    const body = JSON.stringify({ updated: "2026-02-01T00:00:00Z", title, messages: [{ role: "assistant", content: "the quokka answer" }] });
    expect((await call(e, "/admin/sessions/long", { method: "PUT", headers: { ...AUTH, "Content-Type": "application/json" }, body })).status).toBe(201);
    expect(Object.keys((await env.SESSIONS.head("sessions/long.json"))?.customMetadata ?? {})).toEqual(["sha256"]);
    const { reads, counting } = countingReads();
    const list = await call(counting, "/admin/sessions", { headers: AUTH });
    expect(await list.json()).toMatchObject({ total: 1, sessions: [{ id: "long", title }] });
    const search = await call(counting, "/admin/sessions/search?q=quokka", { headers: AUTH });
    expect(((await search.json()) as { id: string }[]).map((item) => item.id)).toEqual(["long"]);
    expect(reads).toEqual([]);
  });

  it("deletes into the trash under trash/ and restores with the summary metadata intact", async () => {
    const e = freshEnv();
    const headers = { ...AUTH, "Content-Type": "application/json" };
    await call(e, "/admin/sessions/abc", { method: "PUT", headers, body: JSON.stringify({ title: "kept" }) });
    const before = (await env.SESSIONS.head("sessions/abc.json"))?.customMetadata;
    expect(await (await call(e, "/admin/sessions/abc", { method: "DELETE", headers: AUTH })).json()).toEqual({
      deleted: true,
      trash_id: expect.stringMatching(/^[\w-]+\.[0-9]+$/),
    });
    expect(await env.SESSIONS.head("sessions/abc.json")).toBeNull();
    const trash = (await (await call(e, "/admin/trash", { headers: AUTH })).json()) as { items: { id: string; session: { title: string } }[] };
    expect(trash.items).toMatchObject([{ session: { title: "kept" } }]);
    const restored = await call(e, `/admin/trash/${trash.items[0]?.id}/restore`, { method: "POST", headers: AUTH });
    expect(await restored.json()).toEqual({ restored: true, id: "abc" });
    expect((await env.SESSIONS.head("sessions/abc.json"))?.customMetadata).toEqual(before);
  });
});
