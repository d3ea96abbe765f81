import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Compiles once before any test file runs (e2e files run in parallel, and a rebuild under a running process races it),
 * and gives the run one temporary folder of its own: TMPDIR points into it for every test file and every process the
 * tests start, and it is removed at the end, so a run leaves nothing behind in the system's temp folder (not even what
 * a killed server or a failed test could not clean up).
 */
export default function setup(): () => void {
  // dist/ exactly as `npm install` builds it for `npm start`, so the tests run what users run.
  execFileSync("npm", ["run", "--silent", "build"], { cwd: new URL("../..", import.meta.url), stdio: "inherit" });
  const runTemp = mkdtempSync(path.join(os.tmpdir(), "opta-sessions-test-"));
  chmodSync(runTemp, 0o755); // as open as the system's temp folder to read through: permission tests run a server as another user
  process.env.TMPDIR = runTemp;
  return () => rmSync(runTemp, { recursive: true, force: true });
}
