import { buildOnce } from "./helpers.js";

/** Compiles once before any test file runs: e2e files run in parallel, and a rebuild under a running process races it. */
export default function setup(): void {
  buildOnce();
}
