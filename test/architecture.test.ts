import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../src", import.meta.url));

/**
 * The folders that run on Node only, and why; every other folder of src/ is Web-standard (it runs on the
 * Worker too). A file's folder says which it is: there is no list of files to keep.
 */
const NODE_FOLDERS = {
  node: "the Node server: process, HTTP server, sockets, threads, flags, pino, brotli",
  "storage/fs": "the filesystem store and trash",
  sync: "the sync command, run on the Mac beside the sessions directory",
};
const WEB_FOLDERS = ["http", "sessions", "storage", "shared", "cloudflare"];

const isNodeOnly = (file: string) => Object.keys(NODE_FOLDERS).some((folder) => file.startsWith(`${folder}${path.sep}`));
const usesNode = (text: string) => /from\s+["'](node:|@hono\/node-server|pino|ws["'])|\bprocess\./.test(text);

async function sourceFiles(): Promise<string[]> {
  return (await readdir(src, { recursive: true })).filter((file) => file.endsWith(".ts")).sort();
}

describe("architecture", () => {
  it("has every source file in a folder named for where it runs (none loose in src/)", async () => {
    const files = await sourceFiles();
    expect(files.length).toBeGreaterThan(10);
    const folders = [...Object.keys(NODE_FOLDERS), ...WEB_FOLDERS];
    expect(files.filter((file) => !folders.some((folder) => file.startsWith(`${folder}${path.sep}`)))).toEqual([]);
  });

  it("keeps the Web-standard folders on Web-standard APIs (node: imports only in the Node folders)", async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles()) {
      if (!isNodeOnly(file) && usesNode(await readFile(path.join(src, file), "utf8"))) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });

  it("keeps the Worker's whole import graph out of the Node folders (src/cloudflare/worker.ts reaches no Node-only file)", async () => {
    const reached = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (reached.has(file)) return;
      reached.add(file);
      const text = await readFile(path.join(src, file), "utf8");
      for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)\.js["']/g)) {
        await visit(path.normalize(path.join(path.dirname(file), `${specifier}.ts`)));
      }
    };
    await visit(path.join("cloudflare", "worker.ts"));
    expect(reached).toContain(path.join("storage", "r2-store.ts"));
    expect(reached).toContain(path.join("http", "app.ts"));
    expect([...reached].filter(isNodeOnly)).toEqual([]);
  });
});
