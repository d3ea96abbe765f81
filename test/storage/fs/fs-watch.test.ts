import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SessionService } from "../../../src/sessions/service.js";
import { FsStore } from "../../../src/storage/fs/fs-store.js";
import { cliFile, cliSession, memorySearchDatabase } from "../../fixtures/sessions.js";

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

type Titles = Record<string, string | null>;

async function listedTitles(): Promise<Titles> {
  const list = await service!.list({ limit: 200, offset: 0, model: undefined, tag: undefined, since: undefined, until: undefined, cwd: undefined });
  return Object.fromEntries(list.sessions.map((s) => [s.id, s.title]));
}

/** The listing's titles by id once `ready` holds for them (the watch is asynchronous); fails after `deadlineMs`. */
function titlesWithin(deadlineMs: number, ready: (titles: Titles) => boolean): Promise<Titles> {
  return vi.waitFor(
    async () => {
      const titles = await listedTitles();
      expect(ready(titles), `titles: ${JSON.stringify(titles)}`).toBe(true);
      return titles;
    },
    { timeout: deadlineMs, interval: 20 },
  );
}

describe("the real directory watch (default settings)", () => {
  beforeEach(async () => {
    await writeFile(path.join(dir, "aaaaaaaaaaaa.json"), cliFile(cliSession("aaaaaaaaaaaa", { title: "one" })));
    service = new SessionService(new FsStore(dir), { searchDatabase: memorySearchDatabase });
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
    // A quiet second, on purpose (nothing to wait for but the time): the utimes' own watch events are over, so only
    // the replace's can make the listing re-read a file whose size and mtime stay the same.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await listedTitles()).aaaaaaaaaaaa).toBe("one");
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
    service = new SessionService(new FsStore(dir, { warn: (line) => lines.push(line), watchDirectory: outOfWatches }), {
      searchDatabase: memorySearchDatabase,
    });
    expect(await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "one")).toEqual({ aaaaaaaaaaaa: "one" });
    cli(`fs.writeFileSync("aaaaaaaaaaaa.json", ${JSON.stringify(cliFile(cliSession("aaaaaaaaaaaa", { title: "two" })))})`);
    expect((await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "two")).aaaaaaaaaaaa).toBe("two");
    // The once-a-second retry of the watch fails again, quietly.
    await vi.waitFor(() => expect(attempts).toBeGreaterThanOrEqual(2), { timeout: 3000, interval: 20 });
    expect(lines).toEqual([`cannot watch ${dir} (ENOSPC): checking it on every request instead`]);
  });

  it("says once that the directory is gone, lists nothing meanwhile, and once that it is watched again", async () => {
    service = new SessionService(new FsStore(dir, { warn: (line) => lines.push(line) }), { searchDatabase: memorySearchDatabase });
    expect(await titlesWithin(1000, (t) => t.aaaaaaaaaaaa === "one")).toEqual({ aaaaaaaaaaaa: "one" });
    await rm(dir, { recursive: true });
    expect(await titlesWithin(2500, (t) => Object.keys(t).length === 0 && lines.length > 0)).toEqual({});
    await mkdir(dir);
    await writeFile(path.join(dir, "cccccccccccc.json"), cliFile(cliSession("cccccccccccc", { title: "three" })));
    expect(await titlesWithin(2500, (t) => t.cccccccccccc === "three" && lines.length > 1)).toEqual({ cccccccccccc: "three" });
    expect(lines).toEqual([`the sessions directory ${dir} is gone: listing nothing until it is there again`, `watching the sessions directory ${dir} again`]);
  });
});
