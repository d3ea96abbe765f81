import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionService } from "../../../src/sessions/service.js";
import { FsStore } from "../../../src/storage/fs/fs-store.js";
import { cliFile, cliSession } from "../../fixtures/sessions.js";

let root: string;
let dir: string;
let service: SessionService | undefined;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-watch-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
});
afterEach(async () => {
  await service?.close();
  service = undefined;
  await rm(root, { recursive: true, force: true });
});

/** Another process, writing as the CLI does: plain writeFile, rename, unlink. */
function cli(script: string): void {
  execFileSync(process.execPath, ["--input-type=module", "-e", `import fs from "node:fs"; process.chdir(${JSON.stringify(dir)}); ${script}`]);
}

async function titlesWithin(deadlineMs: number, until: (titles: Record<string, string | null>) => boolean): Promise<Record<string, string | null>> {
  const deadline = Date.now() + deadlineMs;
  let titles: Record<string, string | null> = {};
  do {
    const list = await service!.list({ limit: 200, offset: 0, model: undefined, tag: undefined, since: undefined, until: undefined, cwd: undefined });
    titles = Object.fromEntries(list.sessions.map((s) => [s.id, s.title]));
    if (until(titles)) return titles;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline);
  return titles;
}

describe("the real directory watch (default settings)", () => {
  beforeEach(async () => {
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa", { title: "one" })));
    service = new SessionService(new FsStore(dir));
    expect(await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "one")).toEqual({ aaaaaaaaaaaa: "one" });
  });

  it("shows a write by another process within 1 s", async () => {
    const text = JSON.stringify(cliFile(cliSession("aaaaaaaaaaaa", { title: "two" })));
    cli(`fs.writeFileSync("aaaaaaaaaaaa.json", ${text})`);
    expect((await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "two")).aaaaaaaaaaaa).toBe("two");
  });

  it("shows a rename by another process within 1 s", async () => {
    cli(`fs.renameSync("aaaaaaaaaaaa.json", "bbbbbbbbbbbb.json")`);
    expect(await titlesWithin(1000, (t) => "bbbbbbbbbbbb" in t && !("aaaaaaaaaaaa" in t))).toEqual({ bbbbbbbbbbbb: "one" });
  });

  it("shows a removal by another process within 1 s", async () => {
    cli(`fs.unlinkSync("aaaaaaaaaaaa.json")`);
    expect(await titlesWithin(1000, (t) => !("aaaaaaaaaaaa" in t))).toEqual({});
  });

  it("re-reads a file replaced with one of the same size and the same mtime", async () => {
    const file = path.join(dir, "aaaaaaaaaaaa.json");
    const when = new Date("2026-03-01T10:00:00.000Z");
    await utimes(file, when, when);
    expect((await titlesWithin(1000, () => false)).aaaaaaaaaaaa).toBe("one");
    await writeFile(file, cliFile(cliSession("aaaaaaaaaaaa", { title: "owe" }))); // same length
    await utimes(file, when, when);
    expect((await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "owe")).aaaaaaaaaaaa).toBe("owe");
  });

  it("follows the sessions directory when it is deleted and made again", async () => {
    await rm(dir, { recursive: true });
    expect(await titlesWithin(1500, (t) => Object.keys(t).length === 0)).toEqual({});
    await mkdir(dir);
    await writeFile(path.join(dir, "cccccccccccc.json"), cliFile(cliSession("cccccccccccc", { title: "three" })));
    expect(await titlesWithin(2500, (t) => t.cccccccccccc === "three")).toEqual({ cccccccccccc: "three" });
  });
});

describe("faults of the sessions directory, each said in one line", () => {
  let lines: string[];
  beforeEach(async () => {
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa", { title: "one" })));
    lines = [];
  });

  it("falls back to re-checking on every request when watching fails, and says so in one line", async () => {
    let attempts = 0;
    const outOfWatches = (() => {
      attempts++;
      throw Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), { code: "ENOSPC" });
    }) as unknown as typeof import("node:fs").watch;
    service = new SessionService(new FsStore(dir, { warn: (line) => lines.push(line), watchDirectory: outOfWatches }));
    expect(await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "one")).toEqual({ aaaaaaaaaaaa: "one" });
    cli(`fs.writeFileSync("aaaaaaaaaaaa.json", ${JSON.stringify(cliFile(cliSession("aaaaaaaaaaaa", { title: "two" })))})`);
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
