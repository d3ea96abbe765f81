import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { adminRouteGroups } from "../src/http/upstream.js";
import { USAGE } from "../src/node/config.js";
import { appFor, storeWith } from "./fixtures/sessions.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README.md stays true", () => {
  it("stands alone: no link to files outside the repository", () => {
    expect(readme).not.toMatch(/\.\.\/shared/);
  });

  it("names every route group answered locally under --upstream", () => {
    const answeredHere = readme.split("\n").find((line) => line.startsWith("- Answered here:"));
    const groups = adminRouteGroups(appFor(storeWith([])).routes);
    expect(groups).toEqual(["/admin/search", "/admin/sessions", "/admin/sync", "/admin/trash"]);
    for (const group of groups) expect(answeredHere).toContain(`\`${group}\``);
  });

  it("documents every option the server accepts", () => {
    const flags = [...USAGE.matchAll(/^ {2}(--[a-z-]+)/gm)].map((match) => match[1]);
    expect(flags.length).toBeGreaterThan(10);
    for (const flag of flags) expect(readme, flag).toContain(flag);
  });

  it("names only files and folders that exist (README.md and SECURITY.md; dist/ as the build makes it)", () => {
    const security = readFileSync(new URL("../SECURITY.md", import.meta.url), "utf8");
    const named = [...`${readme}\n${security}`.matchAll(/`(?:node )?((?:src|test|scripts|bench|launchd|dist)\/[\w./-]+?)`/g)].map((match) => match[1] ?? "");
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((file) => !existsSync(new URL(`../${file}`, import.meta.url)))).toEqual([]);
  });
});
