import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionService } from "../../src/sessions/service.js";
import { FsStore } from "../../src/storage/fs-store.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";

let root: string;
let dir: string;
let service: SessionService | undefined;
let lines: string[];

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-faults-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
  await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa", { title: "one" })));
  lines = [];
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  await rm(root, { recursive: true, force: true });
});

async function titlesWithin(deadlineMs: number, until: (titles: Record<string, string | null>) => boolean): Promise<Record<string, string | null>> {
  const deadline = Date.now() + deadlineMs;
  let titles: Record<string, string | null> = {};
  do {
    const list = await service!.list({ limit: 200, offset: 0, model: undefined, tag: undefined, since: undefined });
    titles = Object.fromEntries(list.sessions.map((s) => [s.id, s.title]));
    if (until(titles)) return titles;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline);
  return titles;
}

describe("faults of the sessions directory", () => {
  it("falls back to re-checking on every request when watching fails, and says so in one line", async () => {
    let attempts = 0;
    const outOfWatches = (() => {
      attempts++;
      throw Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), { code: "ENOSPC" });
    }) as unknown as typeof import("node:fs").watch;
    service = new SessionService(new FsStore(dir, { warn: (line) => lines.push(line), watchDirectory: outOfWatches }));
    expect(await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "one")).toEqual({ aaaaaaaaaaaa: "one" });
    // Another process writes, as the CLI does.
    const text = JSON.stringify(cliFile(cliSession("aaaaaaaaaaaa", { title: "two" })));
    execFileSync(process.execPath, ["-e", `require("node:fs").writeFileSync(${JSON.stringify(path.join(dir, "aaaaaaaaaaaa.json"))}, ${text})`]);
    expect((await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "two")).aaaaaaaaaaaa).toBe("two");
    // The once-a-second retry of the watch fails again, quietly.
    const deadline = Date.now() + 3000;
    while (attempts < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(lines).toEqual([`cannot watch ${dir} (ENOSPC): checking it on every request instead`]);
  });

  it("says once that the directory is gone, lists nothing meanwhile, and once that it is watched again", async () => {
    service = new SessionService(new FsStore(dir, { warn: (line) => lines.push(line) }));
    expect(await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "one")).toEqual({ aaaaaaaaaaaa: "one" });
    await rm(dir, { recursive: true });
    expect(await titlesWithin(2500, (t) => Object.keys(t).length === 0 && lines.length > 0)).toEqual({});
    await mkdir(dir);
    await writeFile(path.join(dir, "cccccccccccc.json"), cliFile(cliSession("cccccccccccc", { title: "three" })));
    expect(await titlesWithin(2500, (t) => t.cccccccccccc === "three" && lines.length > 1)).toEqual({ cccccccccccc: "three" });
    expect(lines).toEqual([`the sessions directory ${dir} is gone: listing nothing until it is there again`, `watching the sessions directory ${dir} again`]);
  });
});
