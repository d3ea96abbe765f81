import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../src", import.meta.url));
// The Node edge: the only files allowed to use Node's APIs.
const NODE_EDGE = new Set([
  "node.ts",
  "connections.ts",
  "cli.ts",
  "config.ts",
  "logger.ts", // pino writes to Node streams
  "compression.ts", // brotli is only in node:zlib
  "websocket-proxy.ts", // upgrades exist only on Node's HTTP server
  path.join("storage", "fs-store.ts"),
  path.join("storage", "fs-cache.ts"),
  path.join("storage", "fs-trash.ts"),
  path.join("storage", "fs-paths.ts"),
  path.join("storage", "fs-watch.ts"),
  path.join("workers", "pool.ts"), // worker threads
  path.join("workers", "load-worker.ts"),
  path.join("sync", "command.ts"), // the sync command: process, signals
  path.join("sync", "local.ts"), // the sessions directory and the state file, for sync
]);

describe("architecture", () => {
  it("keeps the app and the domain on Web-standard APIs (no node: imports outside the Node edge)", async () => {
    const files = (await readdir(src, { recursive: true })).filter((file) => file.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(10);
    const offenders: string[] = [];
    for (const file of files) {
      if (NODE_EDGE.has(file)) continue;
      const text = await readFile(path.join(src, file), "utf8");
      if (/from\s+["'](node:|@hono\/node-server|pino|ws["'])|\bprocess\./.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });

  it("keeps the Worker's whole import graph off the Node edge (src/worker.ts reaches no Node-only file)", async () => {
    const reached = new Set<string>();
    const visit = async (file: string): Promise<void> => {
      if (reached.has(file)) return;
      reached.add(file);
      const text = await readFile(path.join(src, file), "utf8");
      for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)\.js["']/g)) {
        await visit(path.normalize(path.join(path.dirname(file), `${specifier}.ts`)));
      }
    };
    await visit("worker.ts");
    expect(reached).toContain(path.join("storage", "r2-store.ts"));
    expect(reached).toContain("app.ts");
    expect([...reached].filter((file) => NODE_EDGE.has(file))).toEqual([]);
  });
});
