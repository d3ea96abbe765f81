import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config.js";

const plist = await readFile(new URL("../launchd/dev.opta.sessions.plist", import.meta.url), "utf8");

/** The <string>s of the array after a <key>, comments dropped. */
function arrayAfter(key: string): string[] {
  const text = plist.replace(/<!--[\s\S]*?-->/g, "");
  const array = new RegExp(`<key>${key}</key>\\s*<array>([\\s\\S]*?)</array>`).exec(text)?.[1] ?? "";
  return [...array.matchAll(/<string>([^<]*)<\/string>/g)].map((match) => match[1] ?? "");
}

describe("the example LaunchAgent", () => {
  it("runs the built command with flags the server accepts", () => {
    const [env, node, script, ...args] = arrayAfter("ProgramArguments");
    expect([env, node]).toEqual(["/usr/bin/env", "node"]);
    expect(script).toMatch(/\/dist\/cli\.js$/);
    const parsed = parseConfig(args, { env: { OPTA_ADMIN_KEY: "k-0123456789abcdef" }, homedir: "/Users/you", platform: "darwin" });
    expect(parsed).toMatchObject({ action: "serve", config: { port: 1235, upstream: new URL("http://127.0.0.1:1234") } });
  });

  it("starts at login, restarts, and logs to a file", () => {
    for (const key of ["Label", "RunAtLoad", "KeepAlive", "StandardOutPath", "StandardErrorPath", "OPTA_ADMIN_KEY"])
      expect(plist).toContain(`<key>${key}</key>`);
    expect(plist).toContain("<string>dev.opta.sessions</string>");
    expect(plist).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<!DOCTYPE plist/);
  });
});
