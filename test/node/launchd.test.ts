import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/node/config.js";
import { parseSyncConfig } from "../../src/sync/config.js";

const ENVIRONMENT = { env: { OPTA_ADMIN_KEY: "k-0123456789abcdef" }, homedir: "/Users/you", platform: "darwin" };

const read = (name: string) => readFile(new URL(`../../launchd/${name}`, import.meta.url), "utf8");

/** The <string>s of the array after a <key>, comments dropped. */
function arrayAfter(plist: string, key: string): string[] {
  const text = plist.replace(/<!--[\s\S]*?-->/g, "");
  const array = new RegExp(`<key>${key}</key>\\s*<array>([\\s\\S]*?)</array>`).exec(text)?.[1] ?? "";
  return [...array.matchAll(/<string>([^<]*)<\/string>/g)].map((match) => match[1] ?? "");
}

describe.each([
  ["dev.opta.sessions.plist", "dev.opta.sessions"],
  ["dev.opta.sessions-sync.plist", "dev.opta.sessions-sync"],
])("the example LaunchAgent %s", (file, label) => {
  it("starts at login, restarts, logs to a file, and is well-formed XML (no `--` inside a comment)", async () => {
    const plist = await read(file);
    for (const key of ["Label", "RunAtLoad", "KeepAlive", "StandardOutPath", "StandardErrorPath", "OPTA_ADMIN_KEY"])
      expect(plist).toContain(`<key>${key}</key>`);
    expect(plist).toContain(`<string>${label}</string>`);
    expect(plist).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
    for (const [comment] of plist.matchAll(/<!--([\s\S]*?)-->/g)) expect(comment.slice(4, -3)).not.toContain("--");
  });
});

describe("the example LaunchAgents' commands", () => {
  it("run the server with flags it accepts", async () => {
    const [env, node, script, ...args] = arrayAfter(await read("dev.opta.sessions.plist"), "ProgramArguments");
    expect([env, node]).toEqual(["/usr/bin/env", "node"]);
    expect(script).toMatch(/\/dist\/node\/cli\.js$/);
    expect(parseConfig(args, ENVIRONMENT)).toMatchObject({ action: "serve", config: { port: 1235, upstream: new URL("http://127.0.0.1:1234") } });
  });

  it("run sync --watch with flags it accepts", async () => {
    const [env, node, script, command, ...args] = arrayAfter(await read("dev.opta.sessions-sync.plist"), "ProgramArguments");
    expect([env, node, command]).toEqual(["/usr/bin/env", "node", "sync"]);
    expect(script).toMatch(/\/dist\/node\/cli\.js$/);
    expect(parseSyncConfig(args, ENVIRONMENT)).toMatchObject({
      action: "sync",
      config: { watch: true, to: new URL("https://opta-sessions.your-subdomain.workers.dev/") },
    });
  });
});
