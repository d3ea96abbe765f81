import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, AUTH, cliFile, cliSession } from "../fixtures/sessions.js";
import { type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

/** `node dist/node/cli.js sync` as a user runs it, against `node dist/node/cli.js --allow-writes` on loopback. */

let root: string;
let local: string;
let remote: string;
const processes: ServerProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-e2e-sync-"));
  local = path.join(root, "local");
  remote = path.join(root, "remote");
  await mkdir(local);
  await mkdir(remote);
});

afterEach(async () => {
  for (const child of processes.splice(0)) {
    if (child.child.exitCode === null && child.child.signalCode === null) {
      child.child.kill("SIGKILL");
      await child.exited;
    }
  }
  await rm(root, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string> = { OPTA_ADMIN_KEY: ADMIN_KEY }): ServerProcess {
  const child = startProcess(args, env);
  processes.push(child);
  return child;
}

async function startDeployment(): Promise<string> {
  const server = run(["--allow-writes", "--dir", remote, "--port", "0"]);
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

async function writeSession(id: string, bytes: Buffer = Buffer.from(cliFile(cliSession(id)))): Promise<Buffer> {
  await writeFile(path.join(local, `${id}.json`), bytes);
  return bytes;
}

async function sessionFilesIn(directory: string): Promise<Record<string, Buffer>> {
  const names = (await readdir(directory)).filter((name) => /^[A-Za-z0-9_-]+\.json$/.test(name) && name !== "index.json");
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await readFile(path.join(directory, name))] as const)));
}

describe("opta-sessions sync (the real command against the real server)", () => {
  it("puts exactly the valid sessions into the server's directory, byte for byte, and exits 0", async () => {
    const url = await startDeployment();
    const texts = {
      "a.json": await writeSession("a"),
      "-8h6JWRxg1BC.json": await writeSession("-8h6JWRxg1BC"),
      // What an editor may leave: a byte-order mark (kept as it is, and then counted unchanged).
      "bom.json": await writeSession("bom", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(cliFile(cliSession("bom")))])),
    };
    await writeFile(path.join(local, "cut.json"), texts["a.json"].subarray(0, 30));
    await writeFile(path.join(local, "array.json"), "[]");
    await mkdir(path.join(local, "folder.json"));
    await writeFile(path.join(root, "outside.json"), cliFile(cliSession("outside")));
    await symlink(path.join(root, "outside.json"), path.join(local, "link.json"));
    await writeFile(path.join(local, "index.json"), '{"entries":{}}');

    const sync = run(["sync", "--dir", local, "--to", url]);

    expect(await sync.exited).toBe(0);
    expect(sync.output()).toContain(
      `synced to ${url}: 3 uploaded, 0 deleted, 0 unchanged, 4 skipped (damaged: array.json, cut.json, folder.json, link.json), 0 failed`,
    );
    expect(sync.output()).not.toContain(ADMIN_KEY);
    expect(await sessionFilesIn(remote)).toEqual(texts);
    const res = await fetch(`${url}/admin/sessions/a`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: "a", title: "Session a" });

    const again = run(["sync", "--dir", local, "--to", url]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toContain("0 uploaded, 0 deleted, 3 unchanged");
  });

  it("leaves a session deleted through the server's API deleted on the next sync, until its file changes", async () => {
    const url = await startDeployment();
    await writeSession("a");
    await writeSession("b");
    expect(await run(["sync", "--dir", local, "--to", url]).exited).toBe(0);
    expect((await fetch(`${url}/admin/sessions/a`, { method: "DELETE", headers: AUTH })).status).toBe(200);

    const again = run(["sync", "--dir", local, "--to", url]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toContain("0 uploaded, 0 deleted, 1 unchanged, 1 deleted there (kept deleted), 0 skipped, 0 failed");
    expect(Object.keys(await sessionFilesIn(remote))).toEqual(["b.json"]);

    const changed = await writeSession("a", Buffer.from(cliFile(cliSession("a", { title: "continued" }))));
    const third = run(["sync", "--dir", local, "--to", url]);
    expect(await third.exited).toBe(0);
    expect(third.output()).toContain("1 uploaded, 0 deleted, 1 unchanged, 0 skipped");
    expect((await sessionFilesIn(remote))["a.json"]).toEqual(changed);
  });

  it("--watch sends a session written after it started within seconds, and exits 0 on SIGTERM", async () => {
    const url = await startDeployment();
    await writeSession("first");
    const watch = run(["sync", "--watch", "--dir", local, "--to", url]);
    await waitForOutput(watch, /synced to \S+: 1 uploaded/);

    const text = await writeSession("later");
    await waitForOutput(watch, /synced to \S+: 1 uploaded, 0 deleted, 1 unchanged/, 3000);
    expect(await readFile(path.join(remote, "later.json"))).toEqual(text);

    watch.child.kill("SIGTERM");
    expect(await watch.exited).toBe(0);
  });

  it("exits 1 when the deployment is down", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    await new Promise((resolve) => blocker.close(resolve));
    await writeSession("a");

    const sync = run(["sync", "--dir", local, "--to", `http://127.0.0.1:${port}`]);

    expect(await sync.exited).toBe(1);
    expect(sync.output()).toContain(`error: cannot reach http://127.0.0.1:${port}: `);
  });

  it("exits 2 on bad arguments, and `--help` lists the sync command", async () => {
    const missing = run(["sync", "--dir", local]);
    expect(await missing.exited).toBe(2);
    expect(missing.output()).toContain("error: --to <url> is required");

    const help = run(["--help"], {});
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain("opta-sessions sync --to <url>");

    const syncHelp = run(["sync", "--help"], {});
    expect(await syncHelp.exited).toBe(0);
    for (const option of ["--to", "--dir", "--cache-dir", "--concurrency", "--watch", "--allow-mass-delete", "OPTA_SYNC_URL", "OPTA_ADMIN_KEY"])
      expect(syncHelp.output()).toContain(option);
  });
});
