import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { createSessionsClient, SessionsApiError } from "opta-sessions/client";
import { afterEach, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../../src/http/app.js";
import type { SessionsApiError as SourceError } from "../../src/http/client.js";
import { ADMIN_KEY, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;
let server: ServerProcess | undefined;
let example: string | undefined;

afterEach(async () => {
  await killProcess(server);
  server = undefined;
  if (example) await rm(example, { force: true });
  example = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("exports the typed client as opta-sessions/client, typed from the app (package.json exports)", () => {
  // The type-check of this file (npm test runs tsc first) fails if the export or its types do not resolve.
  expectTypeOf<SessionsApiError>().toEqualTypeOf<SourceError>();
  expectTypeOf<ReturnType<typeof createSessionsClient>["admin"]["sessions"]["$get"]>().not.toBeAny();
  expectTypeOf<AppType>().not.toBeAny();
});

it("runs the README's client example as written, with node, against a running server", async () => {
  const readme = await readFile(path.join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Typed client"));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toContain('from "opta-sessions/client"');
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-client-example-"));
  await writeFile(path.join(dir, "abcdefghijkl.json"), cliFile(cliSession("abcdefghijkl", { title: "The only session" })));
  server = startProcess(["--dir", dir, "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
  const [, url] = await waitForOutput(server, /listening on (\S+)/);

  // Where the README says to save it: in the checkout's folder, so the package's own exports resolve the import.
  example = path.join(root, `client-example-${process.pid}.mjs`);
  await writeFile(example, code ?? "");
  const { stdout } = await promisify(execFile)(process.execPath, [example], { env: { ...process.env, OPTA_URL: url, OPTA_ADMIN_KEY: ADMIN_KEY } });
  expect(stdout).toBe("1 sessions; newest: The only session\nV1StGXR8_Z5j: no such session\n");
});
