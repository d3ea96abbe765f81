import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * `npm run dev -- [flags]`: builds, then recompiles src/ on every change and restarts the server on every new build.
 * Both children stop with this process (Ctrl-C, SIGTERM), so no compiler is left watching in the background.
 */
const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = [fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)), "-p", "tsconfig.build.json"];

const build = spawnSync(process.execPath, tsc, { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

// tsc prints its errors on stdout: shown, so a broken edit does not pass for a server still running the old build.
// Each child in its own process group: a Ctrl-C reaches it once, from stop() below, not also from the terminal
// (the server takes a second signal as "stop now", skipping its clean stop).
const compiler = spawn(process.execPath, [...tsc, "--watch", "--preserveWatchOutput"], { cwd: root, stdio: ["ignore", "inherit", "inherit"], detached: true });
const server = spawn(process.execPath, ["--watch-path=dist", "dist/node/cli.js", ...process.argv.slice(2)], { cwd: root, stdio: "inherit", detached: true });
const stop = () => {
  compiler.kill("SIGTERM");
  server.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
server.on("exit", (code) => {
  compiler.kill("SIGTERM");
  process.exitCode = code ?? 0;
});
