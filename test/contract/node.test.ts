import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import { createApp } from "../../src/http/app.js";
import { FsStore } from "../../src/storage/fs/fs-store.js";
import { FsTrash } from "../../src/storage/fs/fs-trash.js";
import { cliFile, sessionsFor } from "../fixtures/sessions.js";
import { ADMIN_KEY, DASHBOARD_ORIGIN } from "../fixtures/settings.js";
import { contractSuite } from "./cases.js";
import { SEED_MTIME } from "./runtime.js";

/**
 * The Node server's app over a real temp directory, sessions written as the CLI writes them, the
 * trash in a directory of its own (as src/node/server.ts wires it). No watch and no listing cache
 * (sessionsFor), so a change behind its back shows at the next request.
 */
contractSuite({
  name: "Node (a sessions directory)",
  liveFeed: true,
  async start(seed, options = {}) {
    const root = await mkdtemp(path.join(os.tmpdir(), "opta-contract-"));
    onTestFinished(() => rm(root, { recursive: true, force: true }));
    const directory = path.join(root, "sessions");
    await mkdir(directory);
    const file = (name: string) => path.join(directory, name);
    const seedFile = async (name: string, text: string | Uint8Array) => {
      await writeFile(file(name), text);
      await utimes(file(name), new Date(SEED_MTIME), new Date(SEED_MTIME));
    };
    for (const session of seed.sessions ?? []) await seedFile(`${String(session.id)}.json`, cliFile(session));
    for (const [name, text] of Object.entries(seed.raw ?? {})) await seedFile(name, text);
    const sessions = sessionsFor(new FsStore(directory), {
      trash: new FsTrash(directory, path.join(root, "trash")),
      changeFeed: { coalesceMs: 10 },
      ...(options.maxSessionMb !== undefined && { maxSessionBytes: Math.floor(options.maxSessionMb * 1024 * 1024) }),
    });
    const app = createApp({
      sessions,
      adminKey: ADMIN_KEY,
      version: packageJson.version,
      corsOrigins: [DASHBOARD_ORIGIN],
      allowWrites: options.allowWrites ?? true,
      contentAsText: options.contentAsText,
    });
    return {
      fetch: async (p, init) => app.request(p, init),
      writeBehind: (name, text) => writeFile(file(name), text),
      removeBehind: (name) => unlink(file(name)),
    };
  },
});
