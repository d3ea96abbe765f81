#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../shared/config-values.js";
import { type Config, parseConfig, USAGE } from "./config.js";
import { demoCorpus } from "./demo.js";
import { createLogger } from "./pino-logger.js";
import { packageVersion, type RunningServer, StartupError, startServer } from "./server.js";

/** The `opta-sessions` command (and `npm start`): flags, --help, --version, --demo, signals; `sync` is its own command. */
async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === "sync") {
    // Loaded only here: the server never needs it.
    const { syncCommand } = await import("../sync/command.js");
    process.exitCode = await syncCommand(argv.slice(1));
    return;
  }
  let config: Config;
  try {
    const parsed = parseConfig(argv, { env: process.env, homedir: os.homedir(), platform: process.platform });
    if (parsed.action === "help") return void console.log(USAGE);
    if (parsed.action === "version") return void console.log(packageVersion());
    config = parsed.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`error: ${error.message}`);
    process.exitCode = 2;
    return;
  }

  const logger = createLogger(config.logFormat);
  // The demo's sessions, trash and cache all live in one temporary folder: nothing it does reaches the user's own.
  const demoRoot = config.demo ? await mkdtemp(path.join(os.tmpdir(), "opta-sessions-demo-")) : null;
  if (demoRoot) {
    const dir = path.join(demoRoot, "sessions");
    await writeDemoCorpus(dir);
    logger.info(`demo: serving generated sample sessions from ${dir} (removed at exit, with the demo's own trash and cache)`);
    config = { ...config, dir, dataDir: path.join(demoRoot, "data"), cacheDir: path.join(demoRoot, "cache") };
  }
  const removeDemo = async () => {
    if (demoRoot) await rm(demoRoot, { recursive: true, force: true });
  };

  // Handled from before the start: a signal right after "listening on" still stops cleanly (demo folder removed).
  let server: RunningServer | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl-C: stop now
    stopping = true;
    logger.info(`${signal}: stopping`);
    // Give open requests a moment, then go regardless (an idle keep-alive must not hold us up).
    setTimeout(() => void removeDemo().finally(() => process.exit(0)), 3000).unref();
    void (server?.close() ?? Promise.resolve()).then(removeDemo).then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));

  try {
    server = await startServer(config, logger);
  } catch (error) {
    await removeDemo();
    if (!(error instanceof StartupError)) throw error;
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
    process.removeAllListeners("SIGINT").removeAllListeners("SIGTERM");
  }
}

async function writeDemoCorpus(dir: string): Promise<void> {
  await mkdir(dir);
  for (const [name, text] of Object.entries(demoCorpus(Date.now()))) await writeFile(path.join(dir, name), text);
}

// Run when started as a program (`node dist/node/cli.js`, or the npm bin, which is a symlink to this file).
if (realpathSync(process.argv[1] ?? "/") === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
