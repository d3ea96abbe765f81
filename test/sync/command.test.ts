import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createAdaptorServer } from "@hono/node-server";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { runSync } from "../../src/sync/command.js";
import { ADMIN_KEY, type AppForOptions, AUTH, appFor, cliFile, cliSession } from "../fixtures/sessions.js";

/** `opta-sessions sync` in-process, against the real app (in memory, writes allowed) on a loopback port. */

let root: string;
let dir: string;
let deployment: Deployment | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-sync-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
});

afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
  await rm(root, { recursive: true, force: true });
});

interface Deployment {
  url: string;
  store: MemoryStore;
  /** `METHOD /path` of every request that reached the server. */
  requests: string[];
  /** Answers a request itself instead of the app (a fault), or null to let the app answer. */
  fault: (request: Request) => Response | null | Promise<Response | null>;
  close(): Promise<void>;
}

/** The real app on 127.0.0.1, optionally under a path prefix (as behind a proxy), counting requests. */
async function startDeployment(options: AppForOptions = {}, prefix = ""): Promise<Deployment> {
  const store = new MemoryStore();
  const app = appFor(store, { allowWrites: true, ...options });
  const state: Deployment = {
    url: "",
    store,
    requests: [],
    fault: () => null,
    close: async () => {},
  };
  const server = createAdaptorServer({
    fetch: async (request: Request) => {
      const url = new URL(request.url);
      state.requests.push(`${request.method} ${url.pathname}`);
      const faulty = await state.fault(request);
      if (faulty) return faulty;
      if (!url.pathname.startsWith(`${prefix}/`)) return new Response("not under the prefix", { status: 404 });
      url.pathname = url.pathname.slice(prefix.length);
      return app.fetch(new Request(url, request));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`;
  state.close = () => new Promise((resolve) => server.close(() => resolve()));
  return state;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function sync(args: string[], env: Record<string, string> = { OPTA_ADMIN_KEY: ADMIN_KEY }, isTTY = false): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runSync(args, {
    env: { XDG_CACHE_HOME: path.join(root, "cache"), ...env },
    homedir: root,
    platform: "linux",
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { isTTY, write: (text: string) => (stderr += text) },
    stop: new AbortController().signal,
    retryDelayMs: 1,
  });
  return { code, stdout, stderr };
}

const syncTo = (target: Deployment, ...more: string[]) => sync(["--dir", dir, "--to", target.url, ...more]);

/** Writes a session as the CLI does, dated a minute ago so sync may remember its digest. */
async function writeSession(id: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const text = cliFile(cliSession(id, overrides));
  await writeFile(path.join(dir, `${id}.json`), text);
  const past = new Date(Date.now() - 60_000);
  await utimes(path.join(dir, `${id}.json`), past, past);
  return text;
}

async function remoteFiles(target: Deployment): Promise<Record<string, string>> {
  const entries = await target.store.list();
  return Object.fromEntries(entries.map((entry) => [entry.name, target.store.get(entry.name) ?? "(not a file)"]));
}

/** Damaged entries the CLI or a crash can leave, each named like a session. */
async function writeDamaged(): Promise<void> {
  await writeFile(path.join(dir, "truncated.json"), cliFile(cliSession("truncated")).slice(0, 40));
  await writeFile(path.join(dir, "array.json"), "[1,2,3]");
  await mkdir(path.join(dir, "folder.json"));
  await writeFile(path.join(root, "outside.json"), cliFile(cliSession("outside")));
  await symlink(path.join(root, "outside.json"), path.join(dir, "link.json"));
  await writeFile(path.join(dir, "index.json"), JSON.stringify({ entries: {}, updatedAt: "2026-03-04T09:00:00.000Z" }));
  await writeFile(path.join(dir, "notes.txt"), "not a session");
}

describe("opta-sessions sync, against the real app", () => {
  it("sends exactly the valid sessions, byte for byte, skips damaged entries with a warning, exits 0", async () => {
    deployment = await startDeployment();
    const texts = { a: await writeSession("a"), "-8h6JWRxg1BC": await writeSession("-8h6JWRxg1BC", { title: "café ☕" }) };
    await writeDamaged();

    const run = await syncTo(deployment);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `synced to ${deployment.url}: 2 uploaded, 0 deleted, 0 unchanged, 4 skipped (damaged: array.json, folder.json, link.json, truncated.json), 0 failed\n`,
    );
    for (const name of ["array.json", "folder.json", "link.json", "truncated.json"]) expect(run.stderr).toContain(`warning: skipped ${name}: `);
    expect(await remoteFiles(deployment)).toEqual({ "a.json": texts.a, "-8h6JWRxg1BC.json": texts["-8h6JWRxg1BC"] });
    const res = await fetch(`${deployment.url}/admin/sessions/-8h6JWRxg1BC`, { headers: AUTH });
    expect(await res.json()).toMatchObject({ id: "-8h6JWRxg1BC", title: "café ☕" });
    expect(run.stdout + run.stderr).not.toContain(ADMIN_KEY);
    expect(run.stderr).not.toContain("\r"); // no progress bar where stderr is not a terminal
  });

  it("draws a progress bar on a terminal while a round lasts, and clears it before the summary", async () => {
    deployment = await startDeployment();
    for (let i = 0; i < 8; i++) await writeSession(`s${i}`);
    deployment.fault = async (request) => {
      // A slow deployment on purpose: each answer takes 60 ms, so the round lasts long enough to draw.
      await new Promise((resolve) => setTimeout(resolve, 60));
      // One without the batch route, so each session is a request of its own and the bar moves one by one.
      return request.method === "POST" ? Response.json({ error: { message: "no such route" } }, { status: 404 }) : null;
    };

    const run = await sync(["--dir", dir, "--to", deployment.url, "--concurrency", "1"], { OPTA_ADMIN_KEY: ADMIN_KEY }, true);

    expect(run.code).toBe(0);
    // Each drawing starts with \r and ends by clearing the rest of the line (ESC[K); the last one only clears.
    const drawings = run.stderr.split("\r").slice(1);
    const CLEAR = "\u001b[K";
    expect(drawings.length).toBeGreaterThan(1);
    expect(drawings.at(-1)).toBe(CLEAR);
    expect(run.stderr.startsWith("\r")).toBe(true);
    for (const drawing of drawings.slice(0, -1)) {
      expect(drawing.endsWith(CLEAR)).toBe(true);
      expect(drawing.slice(0, -CLEAR.length)).toMatch(/^sync \[[#-]{20}\] [1-8]\/8$/);
    }
    expect(run.stdout).toBe(`synced to ${deployment.url}: 8 uploaded, 0 deleted, 0 unchanged, 0 skipped, 0 failed\n`);
  });

  it("sends nothing the second time when nothing changed, and only the changes after that", async () => {
    deployment = await startDeployment();
    for (const id of ["keep", "edit", "drop"]) await writeSession(id);
    expect((await syncTo(deployment)).code).toBe(0);

    deployment.requests.length = 0;
    const again = await syncTo(deployment);
    expect(again.stdout).toBe(`synced to ${deployment.url}: 0 uploaded, 0 deleted, 3 unchanged, 0 skipped, 0 failed\n`);
    expect(deployment.requests).toEqual(["GET /admin/sync/manifest"]);

    // The CLI rewrites a file in place (same size here: only the timestamps and content move).
    const edited = await writeSession("edit", { title: "Session EDIT" });
    await unlink(path.join(dir, "drop.json"));
    const added = await writeSession("added");
    deployment.requests.length = 0;

    const changes = await syncTo(deployment);

    expect(changes.stdout).toBe(`synced to ${deployment.url}: 2 uploaded, 1 deleted, 1 unchanged, 0 skipped, 0 failed\n`);
    expect(deployment.requests.sort()).toEqual([
      "DELETE /admin/sessions/drop",
      "GET /admin/sync/manifest",
      "POST /admin/sync/sessions", // added and edit, in one batch
    ]);
    expect(deployment.store.get("edit.json")).toBe(edited);
    expect(deployment.store.get("added.json")).toBe(added);
    expect(deployment.store.get("drop.json")).toBeUndefined();
  });

  it("remembers digests in the cache folder, so the next run reads no unchanged file", async () => {
    deployment = await startDeployment();
    await writeSession("a");
    await syncTo(deployment);
    const cacheFiles = (await readdir(path.join(root, "cache", "opta-sessions"))).sort();
    // What was hashed (per directory), and what the deployment holds (per directory and deployment).
    expect(cacheFiles).toEqual([expect.stringMatching(/^sync\.[0-9a-f]{16}\.json$/), expect.stringMatching(/^sync\.[0-9a-f]{16}\.to\.[0-9a-f]{16}\.json$/)]);
    const state = JSON.parse(await readFile(path.join(root, "cache", "opta-sessions", cacheFiles[0] as string), "utf8"));
    expect(Object.keys(state.files)).toEqual(["a.json"]);
    const held = JSON.parse(await readFile(path.join(root, "cache", "opta-sessions", cacheFiles[1] as string), "utf8"));
    expect(Object.keys(held.held)).toEqual(["a"]);
  });

  it("keeps the deployment's copy of a session whose local file is damaged", async () => {
    deployment = await startDeployment();
    const text = await writeSession("crashed");
    await syncTo(deployment);
    await writeFile(path.join(dir, "crashed.json"), text.slice(0, 25)); // the CLI crashed mid-write

    const run = await syncTo(deployment);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain("0 deleted, 0 unchanged, 1 skipped (damaged: crashed.json), 0 failed");
    expect(deployment.store.get("crashed.json")).toBe(text);
  });

  it("works under a path prefix, with or without a trailing slash", async () => {
    deployment = await startDeployment({}, "/base");
    await writeSession("a");
    expect((await sync(["--dir", dir, "--to", `${deployment.url}/`])).code).toBe(0);
    expect(deployment.store.get("a.json")).toBeDefined();
    const again = await syncTo(deployment);
    expect(again.stdout).toContain(`synced to ${deployment.url}: 0 uploaded`);
    expect(deployment.requests.every((request) => /^(GET|POST) \/base\//.test(request))).toBe(true);
  });

  it("stops at once on a wrong key (401), changing nothing, exit 1", async () => {
    deployment = await startDeployment();
    await writeSession("a");

    const run = await sync(["--dir", dir, "--to", deployment.url], { OPTA_ADMIN_KEY: "another-key-0123456789" });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: the deployment refused the admin key (401): check OPTA_ADMIN_KEY");
    expect(run.stdout + run.stderr).not.toContain("another-key-0123456789");
    expect(deployment.requests).toEqual(["GET /admin/sync/manifest"]);
    expect(await deployment.store.list()).toEqual([]);
  });

  it("says so when the deployment does not accept writes, exit 1", async () => {
    deployment = await startDeployment({ allowWrites: false });
    await writeSession("a");
    const run = await syncTo(deployment);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: ${deployment.url} does not accept writes (no /admin/sync/manifest): `);
    expect(run.stdout).toBe("");
  });

  it("fails when the deployment is down, after retrying, exit 1", async () => {
    deployment = await startDeployment();
    const url = deployment.url;
    await deployment.close();
    deployment = undefined;
    await writeSession("a");

    const run = await sync(["--dir", dir, "--to", url]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`error: cannot reach ${url}: .*ECONNREFUSED.* \\(tried 4 times\\)`));
  });

  it("counts a session too large for the deployment as failed and sends the rest", async () => {
    deployment = await startDeployment({ maxSessionBytes: 2000 });
    await writeSession("small");
    await writeSession("huge", { messages: [{ role: "user", content: "x".repeat(5000) }] });

    const run = await syncTo(deployment);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /1 uploaded, 0 deleted, 0 unchanged, 0 skipped, 1 failed\nfailed huge: too large for the deployment \(413: .+\); not sent again until the file changes\n$/,
    );
    expect(deployment.store.get("small.json")).toBeDefined();
    expect(deployment.store.get("huge.json")).toBeUndefined();
  });

  it("after a run cut short by failing uploads, the next run completes from what the deployment holds", async () => {
    deployment = await startDeployment();
    const ids = Array.from({ length: 10 }, (_, i) => `s${i}`);
    for (const id of ids) await writeSession(id);
    // A deployment without the batch route (each session a PUT), where every other session fails with 500, every time: retried, then counted as failed.
    const older = (request: Request) => (request.method === "POST" ? Response.json({ error: { message: "no such route" } }, { status: 404 }) : null);
    deployment.fault = (request) =>
      request.method === "PUT" && /s[13579]$/.test(request.url) ? Response.json({ error: { message: "disk full" } }, { status: 500 }) : older(request);

    const cut = await sync(["--dir", dir, "--to", deployment.url, "--concurrency", "3"]);

    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain("5 uploaded, 0 deleted, 0 unchanged, 0 skipped, 5 failed");
    expect(cut.stdout).toContain("failed s1: the deployment answered 500: disk full (tried 4 times)");
    expect(Object.keys(await remoteFiles(deployment)).sort()).toEqual(["s0.json", "s2.json", "s4.json", "s6.json", "s8.json"]);

    deployment.fault = older;
    deployment.requests.length = 0;
    const rerun = await syncTo(deployment);

    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain("5 uploaded, 0 deleted, 5 unchanged, 0 skipped, 0 failed");
    expect(deployment.requests.filter((request) => request.startsWith("PUT")).sort()).toEqual(
      ["s1", "s3", "s5", "s7", "s9"].map((id) => `PUT /admin/sessions/${id}`),
    );
  });

  it("prints no control or bidi character from the deployment's answers or a path: each is shown as its escape", async () => {
    deployment = await startDeployment();
    await writeSession("a");
    deployment.fault = (request) =>
      request.method === "POST" ? Response.json({ error: { message: "bad \u202egnp.exe\u202c \u001b[2J\u009b31m done" } }, { status: 400 }) : null;

    const refused = await syncTo(deployment);
    const typo = await sync(["--dir", path.join(root, "typo\u2067\u001b]0;x\u0007"), "--to", deployment.url]);

    expect(refused.stdout).toContain("failed a: refused by the deployment (400: bad \\u202egnp.exe\\u202c  [2J 31m done)");
    expect(typo.stderr).toContain("typo\\u2067\\u001b]0;x\\u0007 does not exist");
    for (const out of [refused.stdout, refused.stderr, typo.stdout, typo.stderr]) {
      expect(out.replace(/\n/g, "")).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
    }
  });

  it("sends each file's modification time with it: in the batch's mtimes, or as X-Session-Mtime with a PUT", async () => {
    deployment = await startDeployment();
    await writeSession("a");
    const sent: unknown[] = [];
    deployment.fault = async (request) => {
      if (request.method === "POST") sent.push(JSON.parse(String((await request.clone().formData()).get("mtimes"))));
      if (request.method === "PUT") sent.push(request.headers.get("x-session-mtime"));
      return null;
    };
    expect((await syncTo(deployment)).code).toBe(0);
    const mtime = (await stat(path.join(dir, "a.json"))).mtime.toISOString();
    expect(sent).toEqual([{ a: mtime }]);

    await writeSession("b");
    await utimes(path.join(dir, "b.json"), new Date(mtime), new Date(mtime));
    deployment.fault = async (request) => {
      if (request.method === "PUT") sent.push(request.headers.get("x-session-mtime"));
      return request.method === "POST" ? Response.json({ error: { message: "no such route" } }, { status: 405 }) : null;
    };
    sent.length = 0;
    expect((await syncTo(deployment)).code).toBe(0);
    expect(sent).toEqual([mtime]);
  });

  it("stops before any PUT or DELETE when the manifest lists more sessions than sync takes, naming the limit, exit 1", async () => {
    deployment = await startDeployment();
    await writeSession("a");
    const sessions = Object.fromEntries(Array.from({ length: 200_001 }, (_, i) => [`s${i}`, "a".repeat(64)]));
    deployment.fault = (request) => (request.method === "GET" ? Response.json({ sessions }) : null);

    const run = await syncTo(deployment);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("lists 200,001 sessions, more than 200,000, the most sync takes: nothing synced");
    expect(deployment.requests).toEqual(["GET /admin/sync/manifest"]);
  });

  it("keeps deleted a session deleted through the deployment's API, on every next run, until its file changes", async () => {
    deployment = await startDeployment();
    await writeSession("a");
    await writeSession("b");
    expect((await syncTo(deployment)).code).toBe(0);
    const res = await fetch(`${deployment.url}/admin/sessions/a`, { method: "DELETE", headers: AUTH });
    expect(res.status).toBe(200);

    for (let run = 0; run < 2; run++) {
      deployment.requests.length = 0;
      const again = await syncTo(deployment);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(`synced to ${deployment.url}: 0 uploaded, 0 deleted, 1 unchanged, 1 deleted there (kept deleted), 0 skipped, 0 failed\n`);
      expect(deployment.requests).toEqual(["GET /admin/sync/manifest"]);
      expect(deployment.store.get("a.json")).toBeUndefined();
    }

    const edited = await writeSession("a", { title: "continued after the delete" });
    const changed = await syncTo(deployment);
    expect(changed.stdout).toContain("1 uploaded, 0 deleted, 1 unchanged, 0 skipped");
    expect(deployment.store.get("a.json")).toBe(edited);
  });

  it("does not send again a session the deployment refused for good (413) until its file changes, and says so once", async () => {
    deployment = await startDeployment({ maxSessionBytes: 2000 });
    await writeSession("small");
    await writeSession("huge", { messages: [{ role: "user", content: "x".repeat(5000) }] });
    const stop = new AbortController();
    let stdout = "";
    let stderr = "";
    const watching = runSync(["--dir", dir, "--to", deployment.url, "--watch"], {
      env: { XDG_CACHE_HOME: path.join(root, "cache"), OPTA_ADMIN_KEY: ADMIN_KEY },
      homedir: root,
      platform: "linux",
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      stop: stop.signal,
      retryDelayMs: 1,
      watchTimings: { debounceMs: 10, periodMs: 20 },
    });
    const rounds = () => deployment?.requests.filter((request) => request === "GET /admin/sync/manifest").length ?? 0;
    await vi.waitFor(() => expect(rounds()).toBeGreaterThanOrEqual(4), { timeout: 10_000, interval: 5 }).finally(() => stop.abort());
    expect(await watching).toBe(1);

    // Sent once, beside small in the first round's batch.
    expect(deployment.requests.filter((request) => request !== "GET /admin/sync/manifest")).toEqual(["POST /admin/sync/sessions"]);
    expect(stdout.match(/failed huge: too large for the deployment \(413: .+\); not sent again until the file changes\n/g)).toHaveLength(1);
    expect(stderr).not.toContain("huge"); // the failure line was the one mention

    // A new run (a new process) says it again, once, and still sends nothing.
    deployment.requests.length = 0;
    const again = await syncTo(deployment);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("1 unchanged, 1 refused before (not sent again until changed), 0 skipped, 0 failed");
    expect(again.stderr).toMatch(
      /warning: not sending huge: the deployment refused it before as it is now \(too large for the deployment \(413: .+\)\); it is sent again once the file changes\n/,
    );
    expect(deployment.requests).toEqual(["GET /admin/sync/manifest"]);

    await writeSession("huge", { messages: [{ role: "user", content: "now small" }] });
    const fixed = await syncTo(deployment);
    expect(fixed.code).toBe(0);
    expect(deployment.store.get("huge.json")).toContain("now small");
  });

  it("refuses bad arguments and a missing key before any request, exit 2", async () => {
    deployment = await startDeployment();
    for (const [args, env, message] of [
      [["--dir", dir], { OPTA_ADMIN_KEY: ADMIN_KEY }, "error: --to <url> is required"],
      [["--to", deployment.url, "--concurrency", "99"], { OPTA_ADMIN_KEY: ADMIN_KEY }, "error: --concurrency"],
      [["--to", deployment.url, "--dry-run"], { OPTA_ADMIN_KEY: ADMIN_KEY }, "error: unknown option --dry-run"],
      [["--to", deployment.url], {}, "error: no admin key"],
    ] as const) {
      const run = await sync([...args], { ...env });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
    }
    expect(deployment.requests).toEqual([]);
  });

  it("refuses to sync a sessions directory that does not exist (it would delete everything remotely), exit 1", async () => {
    deployment = await startDeployment();
    deployment.store.put("a.json", "{}");
    const run = await sync(["--dir", path.join(root, "typo"), "--to", deployment.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("does not exist");
    expect(deployment.requests).toEqual([]);
    expect(deployment.store.get("a.json")).toBe("{}");
  });
});
