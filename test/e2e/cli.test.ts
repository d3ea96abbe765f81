import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, stopWhenListening, waitForOutput } from "./helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const version = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string;
let server: ServerProcess | undefined;

const temporary: string[] = [];

afterEach(async () => {
  await killProcess(server);
  server = undefined;
  for (const folder of temporary.splice(0)) await rm(folder, { recursive: true, force: true });
});

describe("the opta-sessions command", () => {
  it("answers `npx opta-sessions --help` from the package with every option", async () => {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "opta-sessions", "--help"], { cwd: root });
    expect(stdout).toMatch(/^Usage: opta-sessions \[options\]/);
    for (const option of ["--dir", "--host", "--port", "--cors-origin", "--upstream", "--log-format", "--demo", "--version", "--help"]) {
      expect(stdout).toContain(option);
    }
    for (const variable of ["OPTA_SESSIONS_DIR", "HOST", "PORT", "OPTA_CORS_ORIGINS", "OPTA_UPSTREAM_URL", "OPTA_LOG_FORMAT", "OPTA_ADMIN_KEY"]) {
      expect(stdout).toContain(variable);
    }
  });

  it("`npm start` runs the build made at install (prepare) and compiles nothing; `npm run dev` is the one that rebuilds", async () => {
    const scripts = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<string, string>;
    expect(scripts.prepare).toBe("npm run build");
    expect(scripts.prestart).toBeUndefined();
    expect(scripts.start).toBe("node dist/node/cli.js");
    expect(scripts.dev).toBe("node scripts/dev.mjs");
    const builtAt = statSync(path.join(root, "dist", "node", "cli.js")).mtimeMs;
    const { stdout } = await promisify(execFile)("npm", ["start", "--silent", "--", "--version"], { cwd: root });
    expect(stdout.trim()).toBe(version);
    expect(statSync(path.join(root, "dist", "node", "cli.js")).mtimeMs).toBe(builtAt);
  });

  it("prints its version", async () => {
    server = startProcess(["--version"], {});
    expect(await server.exited).toBe(0);
    expect(server.output().trim()).toBe(version);
  });

  it.each([
    [["--prot", "1"], {}, "unknown option --prot", "Accepted options: --dir, --host, --port"],
    [["--log-format", "xml"], {}, '--log-format: "xml" must be one of: text, json', ""],
    [[], { OPTA_UPSTREAM_URL: "localhost:1234" }, 'OPTA_UPSTREAM_URL: "localhost:1234" must be an http:// or https:// URL', ""],
  ] as const)("refuses %j %j naming it and what it accepts, exit code 2", async (args, env, problem, accepted) => {
    server = startProcess([...args], { ...env });
    expect(await server.exited).toBe(2);
    expect(server.output()).toContain(`error: ${problem}`);
    expect(server.output()).toContain(accepted);
  });

  it("--demo serves a generated corpus from a temporary directory, with a trash and cache of its own, and removes it all at exit", async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), "opta-demo-home-"));
    temporary.push(home);
    const [tmp, data, cache] = ["tmp", "data", "cache"].map((name) => path.join(home, name)) as [string, string, string];
    for (const folder of [tmp, data, cache]) await mkdir(folder);
    // The user's own data and cache folders (as the platform names them), and where temporary folders go.
    server = startProcess(["--demo", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY, XDG_DATA_HOME: data, XDG_CACHE_HOME: cache, TMPDIR: tmp });
    const [, dir] = await waitForOutput(server, /demo: serving generated sample sessions from (\S+)/);
    const [, url] = await waitForOutput(server, /listening on (http:\/\/\S+)/);
    const page = (await (await fetch(`${url}/admin/sessions?limit=5`, { headers: { "X-Admin-Key": ADMIN_KEY } })).json()) as {
      total: number;
      sessions: { id: string; title: string | null; first_user_message: string | null }[];
    };
    expect(page.total).toBeGreaterThanOrEqual(20);
    expect(page.sessions.every((s) => s.first_user_message)).toBe(true);
    expect(existsSync(dir as string)).toBe(true);
    expect(dir?.startsWith(`${tmp}${path.sep}`)).toBe(true);

    const id = page.sessions[0]?.id as string;
    const deleted = await fetch(`${url}/admin/sessions/${id}`, { method: "DELETE", headers: { "X-Admin-Key": ADMIN_KEY } });
    expect(deleted.status).toBe(200);
    const trash = (await (await fetch(`${url}/admin/trash`, { headers: { "X-Admin-Key": ADMIN_KEY } })).json()) as { items: { session_id: string }[] };
    expect(trash.items.map((item) => item.session_id)).toEqual([id]);
    // Nothing of the demo's reaches the user's data or cache folders.
    expect(await readdir(data)).toEqual([]);
    expect(await readdir(cache)).toEqual([]);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(await readdir(tmp)).toEqual([]);
    expect(await readdir(data)).toEqual([]);
    expect(await readdir(cache)).toEqual([]);
  });

  it("stops cleanly on a SIGTERM that comes right after it says it is listening, removing the demo folder", async () => {
    const started = startProcess(["--demo", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    server = started;
    stopWhenListening(started);
    const [, dir] = await waitForOutput(started, /demo: serving generated sample sessions from (\S+)/);
    expect(await started.exited).toBe(0);
    expect(started.output()).toContain("SIGTERM: stopping");
    expect(existsSync(dir as string)).toBe(false);
  });

  it("--log-format json writes one JSON object per line, with the request id and no query string", async () => {
    server = startProcess(["--demo", "--port", "0", "--log-format", "json"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    const [, url] = await waitForOutput(server, /listening on (http:\/\/[\d.:]+)/);
    const res = await fetch(`${url}/admin/sessions?model=secret-filter`, { headers: { "X-Admin-Key": ADMIN_KEY, "X-Request-Id": "poll-7" } });
    expect(res.headers.get("X-Request-Id")).toBe("poll-7");
    await waitForOutput(server, /GET \/admin\/sessions 200/);
    const lines = server
      .output()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "info", requestId: "poll-7", msg: expect.stringMatching(/^GET \/admin\/sessions 200 \d+ms$/) }),
    );
    expect(server.output()).not.toContain("secret-filter");
    expect(server.output()).not.toContain(ADMIN_KEY);
  });

  it("writes readable text lines by default, the request id on each request line", async () => {
    server = startProcess(["--demo", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    const [, url] = await waitForOutput(server, /listening on (http:\/\/[\d.:]+)/);
    await fetch(`${url}/healthz`, { headers: { "X-Request-Id": "check-1" } });
    await waitForOutput(server, /^\[[\d-]+ [\d:.]+\] INFO: \[check-1\] GET \/healthz 200 \d+ms$/m);
  });

  describe("a failed start exits at once with one plain message and exit code 1", () => {
    const blocker = createServer();
    let port = 0;
    beforeAll(async () => {
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      port = (blocker.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

    it.each<[string, () => string[], RegExp]>([
      // --demo has sessions to scan: the scan and its loader workers must not outlive the failure.
      ["a port in use", () => ["--demo", "--host", "127.0.0.1", "--port", String(port)], /^error: port \d+ on 127\.0\.0\.1 is already in use: /m],
      ["an address not on this machine", () => ["--demo", "--host", "192.0.2.1", "--port", "0"], /^error: cannot listen on 192\.0\.2\.1:0: no such address/m],
    ])("%s", async (_label, args, message) => {
      const startedAt = Date.now();
      server = startProcess(args(), { OPTA_ADMIN_KEY: ADMIN_KEY });
      expect(await server.exited).toBe(1);
      // Node itself takes ~0.3 s to start; the slack is for a loaded machine (it used to take 10 s).
      expect(Date.now() - startedAt).toBeLessThan(3000);
      expect(server.output()).toMatch(message);
      expect(server.output().match(/error/gi)).toHaveLength(1);
      expect(server.output()).not.toMatch(/loader worker|^\s+at /m);
    });
  });
});
