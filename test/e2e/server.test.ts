import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { expectError, SESSION_CORRUPT, SESSION_NOT_FOUND } from "../fixtures/errors.js";
import { ADMIN_KEY, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, stopWhenListening, waitForOutput } from "./helpers.js";

const DASHBOARD = "http://dashboard.test:3000";

let root: string;
let dir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-e2e-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
});
afterEach(async () => {
  await killProcess(server);
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(args: string[], env: Record<string, string> = { OPTA_ADMIN_KEY: ADMIN_KEY }): Promise<string> {
  server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0", ...args], env);
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

/** The dashboard's way: a preflight, then the call with Content-Type on a GET and the key. */
async function dashboardFetch(url: string, method = "GET"): Promise<Response> {
  const preflight = await fetch(url, {
    method: "OPTIONS",
    headers: {
      Origin: DASHBOARD,
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "content-type,x-admin-key",
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
  expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("x-admin-key");
  expect(preflight.headers.get("access-control-allow-methods")).toContain(method);
  const res = await fetch(url, { method, headers: { Origin: DASHBOARD, "Content-Type": "application/json", "X-Admin-Key": ADMIN_KEY } });
  expect(res.headers.get("access-control-allow-origin")).toBe(DASHBOARD);
  return res;
}

describe("the real Node server on loopback", () => {
  it("serves the dashboard's whole flow: health check, list, search, read, delete", async () => {
    await writeFile(path.join(dir, "-8h6JWRxg1BC.json"), cliFile(cliSession("-8h6JWRxg1BC", { updated: "2026-05-02T00:00:00Z", title: "" })));
    await writeFile(path.join(dir, "older1234567.json"), cliFile(cliSession("older1234567", { updated: "2026-05-01T00:00:00Z" })));
    await writeFile(path.join(dir, "broken123456.json"), '{"id": "broken');
    await writeFile(path.join(dir, "index.json"), cliFile({ entries: { "-8h6JWRxg1BC": {}, older1234567: {}, gone00000000: {} }, updatedAt: "x" }));
    const url = await start(["--cors-origin", DASHBOARD]);

    const health = await dashboardFetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ status: "ok", version: expect.any(String) });

    const list = await dashboardFetch(`${url}/admin/sessions`);
    expect(list.status).toBe(200);
    const body = (await list.json()) as { sessions: { id: string; title: string | null; first_user_message: string | null }[]; total: number };
    expect(body.sessions.map((s) => s.id)).toEqual(["-8h6JWRxg1BC", "older1234567"]);
    expect(body.total).toBe(2);
    expect(body.sessions[0]?.title).toBeNull();
    expect(body.sessions[0]?.first_user_message).toBe("question from -8h6JWRxg1BC");

    const search = await dashboardFetch(`${url}/admin/sessions/search?q=${encodeURIComponent("answer older")}`);
    expect(((await search.json()) as { id: string }[]).map((s) => s.id)).toEqual(["older1234567"]);

    const one = await dashboardFetch(`${url}/admin/sessions/${encodeURIComponent("-8h6JWRxg1BC")}`);
    expect(((await one.json()) as { messages: unknown[] }).messages).toHaveLength(3);

    const corrupt = await dashboardFetch(`${url}/admin/sessions/broken123456`);
    await expectError(corrupt, 422, SESSION_CORRUPT);

    const deleted = await dashboardFetch(`${url}/admin/sessions/older1234567`, "DELETE");
    expect(await deleted.json()).toEqual({ deleted: true, trash_id: expect.stringMatching(/^[\w-]+\.[0-9]+$/) });
    const again = await dashboardFetch(`${url}/admin/sessions/older1234567`, "DELETE");
    await expectError(again, 404, SESSION_NOT_FOUND);

    const after = (await (await dashboardFetch(`${url}/admin/sessions`)).json()) as { total: number };
    expect(after.total).toBe(1);
  });

  it("logs one line per request without the query string or the key, and warns once per damaged file", async () => {
    await writeFile(path.join(dir, "broken123456.json"), "not json");
    const url = await start([]);
    for (let i = 0; i < 3; i++) {
      await fetch(`${url}/admin/sessions?model=secret-filter&limit=5`, { headers: { "X-Admin-Key": ADMIN_KEY } });
    }
    await waitForOutput(server!, /(GET \/admin\/sessions 200 \d+ms[\s\S]*){3}/);
    const output = server!.output();
    expect(output).not.toContain("secret-filter");
    expect(output).not.toContain(ADMIN_KEY);
    expect(output.match(/broken123456\.json/g)).toHaveLength(1);
  });

  it("writes a path's control characters into the text log as escapes, so %0A cannot forge a line", async () => {
    const url = await start([]);
    const forged = "/x%0A2026-11-29 12:00:00.000 INFO: GET /admin/sessions 200 1ms%0D%1B[2K%7F%C2%85%E2%80%A8%E2%80%AE%E2%81%A6end";
    expect((await fetch(`${url}/admin${forged}`, { headers: { "X-Request-Id": "forge-1" } })).status).toBe(401);
    const [line = ""] = await waitForOutput(server!, /^.*\[forge-1\].*$/m);
    expect(line).toContain(
      "GET /admin/x\\u000a2026-11-29 12:00:00.000 INFO: GET /admin/sessions 200 1ms\\u000d\\u001b[2K\\u007f\\u0085\\u2028\\u202e\\u2066end 401",
    );
    expect(server!.output()).not.toMatch(/^2026-11-29 12:00:00\.000/m);
    expect(server!.output()).not.toMatch(/(?!\n)\p{Cc}|[\u2028\u2029\u202e\u2066]/u);
  });

  it("with no key configured, generates one, prints it once, and requires it", async () => {
    const url = await start([], {});
    const key = /generated admin key[^\n]*\n\s*(\S+)/.exec(server!.output())?.[1];
    expect(key).toBeTruthy();
    expect((await fetch(`${url}/admin/sessions`)).status).toBe(401);
    expect((await fetch(`${url}/admin/sessions`, { headers: { Authorization: `Bearer ${key}` } })).status).toBe(200);
    expect(server!.output().split(key as string)).toHaveLength(2);
  });

  it("stops cleanly on SIGTERM and on SIGINT", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const url = await start([]);
      await fetch(`${url}/healthz`);
      server!.child.kill(signal);
      expect(await server!.exited).toBe(0);
    }
  });

  it("stops on SIGTERM in the middle of its first scan without logging the cut-short scan as an error", async () => {
    await Promise.all(Array.from({ length: 2000 }, (_, n) => writeFile(path.join(dir, `s${String(n).padStart(11, "0")}.json`), cliFile(cliSession(`s${n}`)))));
    // A few times: where in the scan the signal lands varies.
    for (let round = 0; round < 3; round++) {
      const started = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0", "--cache-dir", path.join(root, `cache-${round}`)], {
        OPTA_ADMIN_KEY: ADMIN_KEY,
      });
      server = started;
      stopWhenListening(started);
      expect(await started.exited).toBe(0);
      expect(started.output()).not.toMatch(/ERROR|loader worker/);
    }
  });

  it("refuses to start on a port in use, saying so", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      server = startProcess(["--dir", dir, "--port", String(port)], { OPTA_ADMIN_KEY: ADMIN_KEY });
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(new RegExp(`port ${port} .*already in use`));
    } finally {
      blocker.close();
    }
  });

  it("refuses a sessions directory that is a file, saying so", async () => {
    const file = path.join(dir, "not-a-dir");
    await writeFile(file, "");
    server = startProcess(["--dir", file, "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain(`the sessions directory ${file} is not a directory`);
  });

  it("names a bad flag and a bad variable, and exits non-zero", async () => {
    server = startProcess(["--prot", "1"], {});
    expect(await server.exited).toBe(2);
    expect(server.output()).toContain("--prot");
    server = startProcess([], { PORT: "http" });
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(/PORT: "http" must be a whole number/);
  });

  it("answers raw hostile paths (backslashes, dot segments, NUL) with the envelope and never the file outside", async () => {
    await writeFile(path.join(dir, "..", "secret.json"), cliFile(cliSession("secret")));
    const url = new URL(await start([]));
    for (const target of [
      "/admin/sessions/..\\..\\secret",
      "/admin/sessions/../secret",
      "/admin/sessions/%2e%2e/secret",
      "/admin/sessions/secret%00",
      "/admin/sessions/..%2Fsecret",
    ]) {
      const raw = await rawRequest(url, `GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nX-Admin-Key: ${ADMIN_KEY}\r\nConnection: close\r\n\r\n`);
      const [head = "", body = ""] = raw.split("\r\n\r\n");
      expect(head, target).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(head, target).toMatch(/^x-request-id: \S+$/im);
      expect(body, target).toMatch(/"error":\{"message":/);
      expect(body, target).not.toContain("question from secret");
    }
  });

  it("lists a sessions directory created after start", async () => {
    const later = path.join(dir, "not-yet");
    server = startProcess(["--dir", later, "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    const [, url] = await waitForOutput(server, /listening on (\S+)/);
    const list = async () => ((await (await fetch(`${url}/admin/sessions`, { headers: { "X-Admin-Key": ADMIN_KEY } })).json()) as { total: number }).total;
    expect(await list()).toBe(0);
    await mkdir(later);
    await writeFile(path.join(later, "appeared1234.json"), cliFile(cliSession("appeared1234")));
    await vi.waitFor(async () => expect(await list()).toBe(1), { timeout: 1000, interval: 10 });
  });
});

function rawRequest(url: URL, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text)); // the server closes (Connection: close)
    let received = "";
    socket.on("data", (chunk) => (received += chunk));
    socket.on("end", () => resolve(received));
    socket.on("error", reject);
  });
}
