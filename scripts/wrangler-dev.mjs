import { spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `wrangler dev` as README's "Deploy to Cloudflare" runs it (src/cloudflare/worker.ts from
 * wrangler.example.toml, a local R2 bucket), on loopback ports of its own, for the end-to-end
 * test and `npm run bench:worker`.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const START_TIMEOUT_MS = 90_000;

/** A port free on 127.0.0.1 right now. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts wrangler dev with the bucket kept in `state` and `vars` set; resolves once /healthz answers. */
export async function startWranglerDev({ state, vars, logLevel = "log" }) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const args = ["dev", "--config", "wrangler.example.toml", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", state, "--log-level", logLevel, "--show-interactive-dev-session=false");
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawn(process.execPath, [path.join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const until = Date.now() + START_TIMEOUT_MS;
  // Only once wrangler says it is ready on our port is /healthz asked: until then another process that happened to
  // take the port in between (it was free a moment ago, not reserved) could answer in its place.
  const ready = `Ready on ${url}`;
  while (
    !output.includes(ready) ||
    !(await fetch(`${url}/healthz`).then(
      (res) => res.ok,
      () => false,
    ))
  ) {
    if (Date.now() > until || child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev did not start on ${url}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, pid: child.pid, output: () => output, stop };
}
