import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The baseline for a start-up scan, run as its own process: read and JSON.parse every session file
 * in the directory, nothing else (no stat, no summaries, no server). index.json is not a session and
 * the server never parses it for a list, so it is left out. Prints what it parsed as JSON.
 */
const dir = process.argv[2];
let parsed = 0;
let failed = 0;
for (const name of readdirSync(dir)) {
  if (!name.endsWith(".json") || name === "index.json") continue;
  const text = readFileSync(path.join(dir, name), "utf8");
  try {
    JSON.parse(text);
    parsed++;
  } catch {
    failed++;
  }
}
console.log(JSON.stringify({ parsed, failed }));
