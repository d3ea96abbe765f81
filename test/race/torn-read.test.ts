import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsStore } from "../../src/storage/fs/fs-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-torn-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Version n of a growing session: its title names n, and its length follows from n. */
const VERSION_SOURCE = `(n) => JSON.stringify({ title: "v" + n, messages: Array.from({ length: 300 + n }, (_, i) => "message " + i + " " + "x".repeat(200)) }, null, 2)`;

describe("reading a session the CLI rewrites in place", () => {
  it("never returns the start of one version joined to the end of the next (the read is done again)", async () => {
    const file = path.join(dir, "s.json");
    // Another process saves ever longer versions as fast as it can, as the CLI's writeFile does: truncate, then write.
    const writer = spawn(process.execPath, [
      "-e",
      `const fs = require("node:fs"); const version = ${VERSION_SOURCE}; const end = Date.now() + 2500;
       for (let n = 1; Date.now() < end; n++) fs.writeFileSync(${JSON.stringify(file)}, version(n));`,
    ]);
    const exited = new Promise((resolve) => writer.once("exit", resolve));
    const store = new FsStore(dir);
    let whole = 0;
    const torn: string[] = [];
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      for (const result of [await store.read("s.json"), store.readBlocking("s.json")]) {
        if (result.status !== "ok") continue;
        let parsed: { title: string; messages: unknown[] };
        try {
          parsed = JSON.parse(result.text);
        } catch {
          continue; // caught mid-write: readers retry that themselves
        }
        if (parsed.messages.length === 300 + Number(parsed.title.slice(1))) whole++;
        else torn.push(`${parsed.title} with ${parsed.messages.length} messages`);
      }
    }
    await exited;
    expect(torn).toEqual([]);
    expect(whole).toBeGreaterThan(50);
  });
});
