import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, USAGE } from "../../src/node/config.js";
import type { Option } from "../../src/node/options.js";
import { ConfigError } from "../../src/shared/config-values.js";
import { parseSyncConfig, SYNC_OPTIONS, SYNC_USAGE, type SyncConfig } from "../../src/sync/config.js";

const linux = { homedir: "/home/dev", platform: "linux" };
const KEY = { OPTA_ADMIN_KEY: "sync-key-0123456789" };

function syncConfig(argv: string[], env: Record<string, string> = KEY, where = linux): SyncConfig {
  const parsed = parseSyncConfig(argv, { env, ...where });
  if (parsed.action !== "sync") throw new Error(`unexpected ${parsed.action}`);
  return parsed.config;
}

function serverConfig(env: Record<string, string>) {
  const parsed = parseConfig([], { env, ...linux });
  if (parsed.action !== "serve") throw new Error(`unexpected ${parsed.action}`);
  return parsed.config;
}

describe("sync configuration", () => {
  it("defaults to the server's sessions directory and cache folder, 4 requests at once, no watching", () => {
    expect(syncConfig(["--to", "https://sessions.example.workers.dev"])).toEqual({
      dir: "/home/dev/.config/opta/sessions",
      to: new URL("https://sessions.example.workers.dev/"),
      cacheDir: "/home/dev/.cache/opta-sessions",
      adminKey: "sync-key-0123456789",
      concurrency: 4,
      watch: false,
      allowMassDelete: false,
    });
  });

  it("finds the directory and cache exactly where the server does, for any environment", () => {
    const environments: Record<string, string>[] = [
      {},
      { XDG_CONFIG_HOME: "/xdg", XDG_CACHE_HOME: "/xdg-cache" },
      { OPTA_SESSIONS_DIR: "/data/s", OPTA_CACHE_DIR: "/data/c" },
    ];
    for (const env of environments) {
      const server = serverConfig({ ...KEY, ...env });
      expect(syncConfig(["--to", "http://x"], { ...KEY, ...env })).toMatchObject({ dir: server.dir, cacheDir: server.cacheDir });
    }
  });

  it("takes flags over the environment", () => {
    const env = { ...KEY, OPTA_SYNC_URL: "https://env.test", OPTA_SESSIONS_DIR: "/env/s", OPTA_CACHE_DIR: "/env/c" };
    expect(syncConfig([], env)).toMatchObject({ to: new URL("https://env.test/"), dir: "/env/s", cacheDir: "/env/c" });
    expect(syncConfig(["--to=https://flag.test", "--dir", "/flag/s", "--cache-dir", "/flag/c", "--concurrency", "32", "--watch"], env)).toMatchObject({
      to: new URL("https://flag.test/"),
      dir: "/flag/s",
      cacheDir: "/flag/c",
      concurrency: 32,
      watch: true,
    });
  });

  it("keeps a base URL's path, ending it in a slash so admin paths join under it", () => {
    expect(syncConfig(["--to", "https://host.test/base"]).to.href).toBe("https://host.test/base/");
    expect(syncConfig(["--to", "https://host.test/base/"]).to.href).toBe("https://host.test/base/");
    expect(new URL("admin/sync/manifest", syncConfig(["--to", "http://127.0.0.1:8787/a/b"]).to).href).toBe("http://127.0.0.1:8787/a/b/admin/sync/manifest");
  });

  it.each([
    [["--to", "ftp://host.test"], '--to: "ftp://host.test" must be an http:// or https:// URL'],
    [["--to", "host.test"], '--to: "host.test" must be an http:// or https:// URL'],
    [["--to", "https://host.test/?x=1"], "(no query, no credentials)"],
    [["--to", "https://user:pw@host.test"], "(no query, no credentials)"],
    [["--to", "https://:pw@host.test"], "(no query, no credentials)"],
    [[], "--to <url> is required (or OPTA_SYNC_URL)"],
    [["--to", "http://x", "--concurrency", "0"], '--concurrency: "0" must be a whole number from 1 to 32'],
    [["--to", "http://x", "--concurrency", "33"], "must be a whole number from 1 to 32"],
    [["--to", "http://x", "--concurrency", "2.5"], "must be a whole number from 1 to 32"],
    [
      ["--to", "http://x", "--port", "1"],
      "unknown option --port\nAccepted options: --to, --dir, --cache-dir, --concurrency, --watch, --allow-mass-delete, --help.",
    ],
    [["--to", "http://x", "now"], 'unexpected argument "now"'],
    [["--to", "http://x", "--dir", "/s", "--cache-dir", "/s/cache"], '--cache-dir: "/s/cache" must not be inside the sessions directory'],
  ])("refuses %j: %s", (argv, message) => {
    expect(() => syncConfig(argv)).toThrow(ConfigError);
    expect(() => syncConfig(argv)).toThrow(message);
  });

  it("lets a round delete more than the directory holds only with --allow-mass-delete", () => {
    expect(syncConfig(["--to", "http://x", "--allow-mass-delete"]).allowMassDelete).toBe(true);
    expect(syncConfig(["--to", "http://x"]).allowMassDelete).toBe(false);
  });

  it("needs a key, from OPTA_ADMIN_KEY or OPTA_ADMIN_KEY_FILE, and never echoes it", () => {
    expect(() => syncConfig(["--to", "http://x"], {})).toThrow("no admin key: set OPTA_ADMIN_KEY (or OPTA_ADMIN_KEY_FILE)");
    expect(() => syncConfig(["--to", "http://x"], { OPTA_ADMIN_KEY: "short-secret" })).toThrow(/the key has 12 characters/);
    expect(() => syncConfig(["--to", "http://x"], { OPTA_ADMIN_KEY: "short-secret" })).not.toThrow(/short-secret/);
    expect(() => syncConfig(["--to", "http://x"], { OPTA_ADMIN_KEY: "REPLACE-WITH-THE-WORKER-ADMIN-KEY" })).toThrow(/placeholder, not a key; set a real key/);
    const dir = mkdtempSync(path.join(os.tmpdir(), "opta-sync-key-"));
    try {
      const file = path.join(dir, "key");
      writeFileSync(file, "from-a-file-0123456789\n");
      expect(syncConfig(["--to", "http://x"], { OPTA_ADMIN_KEY_FILE: file }).adminKey).toBe("from-a-file-0123456789");
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it("names every option it accepts, with its variable, in --help", () => {
    for (const option of Object.values<Option<unknown>>(SYNC_OPTIONS)) {
      expect(SYNC_USAGE).toMatch(new RegExp(`^  --${option.flag} `, "m"));
      if (option.env) expect(SYNC_USAGE).toMatch(new RegExp(`\\b${option.env}\\b`));
    }
  });

  it("answers --help before checking anything else", () => {
    expect(parseSyncConfig(["--help", "--concurrency", "0"], { env: {}, ...linux })).toEqual({ action: "help" });
  });

  it("is named in the server's --help", () => {
    expect(USAGE).toContain("opta-sessions sync --to <url>");
  });
});
