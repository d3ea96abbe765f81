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

const compiler = spawn(process.execPath, [...tsc, "--watch", "--preserveWatchOutput"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
const server = spawn(process.execPath, ["--watch-path=dist", "dist/cli.js", ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
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
