import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type Config, parseConfig, SERVER_OPTIONS, USAGE } from "../../src/node/config.js";
import type { Option } from "../../src/node/options.js";
import { ConfigError } from "../../src/shared/config-values.js";

const linux = { homedir: "/home/dev", platform: "linux" };

function config(argv: string[], env: Record<string, string> = {}, where = linux): Config {
  const parsed = parseConfig(argv, { env, ...where });
  if (parsed.action !== "serve") throw new Error(`unexpected ${parsed.action}`);
  return parsed.config;
}

describe("configuration", () => {
  it("defaults to ~/.config/opta/sessions on 127.0.0.1:1235 with no origins and no key", () => {
    expect(config([])).toEqual({
      dir: "/home/dev/.config/opta/sessions",
      host: "127.0.0.1",
      port: 1235,
      corsOrigins: [],
      cacheDir: "/home/dev/.cache/opta-sessions",
      adminKey: null,
      upstream: null,
      logFormat: "text",
      demo: false,
      dataDir: "/home/dev/.local/share/opta-sessions",
      trashDays: 30,
      allowWrites: false,
      contentAsText: false,
      maxSessionMb: 256,
      requestTimeoutSeconds: 30,
    });
  });

  it("keeps its cache in the platform's cache folder, or --cache-dir / OPTA_CACHE_DIR", () => {
    expect(config([], {}, { homedir: "/Users/dev", platform: "darwin" }).cacheDir).toBe("/Users/dev/Library/Caches/opta-sessions");
    expect(config([], { XDG_CACHE_HOME: "/xdg-cache" }).cacheDir).toBe("/xdg-cache/opta-sessions");
    expect(config([], { OPTA_CACHE_DIR: "/env-cache" }).cacheDir).toBe("/env-cache");
    expect(config(["--cache-dir", "/flag-cache"], { OPTA_CACHE_DIR: "/env-cache" }).cacheDir).toBe("/flag-cache");
  });

  it("follows XDG_CONFIG_HOME, and APPDATA on Windows", () => {
    expect(config([], { XDG_CONFIG_HOME: "/xdg" }).dir).toBe(path.resolve("/xdg/opta/sessions"));
    expect(config([], { APPDATA: "/appdata" }, { homedir: "/h", platform: "win32" }).dir).toBe(path.resolve("/appdata/opta/sessions"));
  });

  it("reads the environment", () => {
    const env = {
      OPTA_SESSIONS_DIR: "/data/s",
      HOST: "0.0.0.0",
      PORT: "8080",
      OPTA_CORS_ORIGINS: "http://a.test, https://b.test:8443",
      OPTA_ADMIN_KEY: "k-0123456789abcdef",
    };
    expect(config([], { ...env, OPTA_UPSTREAM_URL: "http://127.0.0.1:1234", OPTA_LOG_FORMAT: "json" })).toMatchObject({
      dir: "/data/s",
      host: "0.0.0.0",
      port: 8080,
      corsOrigins: ["http://a.test", "https://b.test:8443"],
      adminKey: "k-0123456789abcdef",
      upstream: new URL("http://127.0.0.1:1234"),
      logFormat: "json",
      demo: false,
    });
  });

  it("lets flags override the environment, in both --flag value and --flag=value forms", () => {
    const env = { OPTA_SESSIONS_DIR: "/env", PORT: "1", HOST: "h", OPTA_CORS_ORIGINS: "http://env.test" };
    const flags = ["--dir", "/flag", "--port=2", "--host", "::1", "--cors-origin", "http://a.test", "--cors-origin=http://b.test/"];
    const more = ["--upstream", "https://lmx.test:8443/base", "--log-format", "json", "--demo"];
    expect(config([...flags, ...more], { ...env, OPTA_UPSTREAM_URL: "http://env.test", OPTA_LOG_FORMAT: "text" })).toMatchObject({
      dir: "/flag",
      host: "::1",
      port: 2,
      corsOrigins: ["http://a.test", "http://b.test"],
      adminKey: null,
      upstream: new URL("https://lmx.test:8443/base"),
      logFormat: "json",
      demo: true,
    });
  });

  it("names every option it accepts, with its variable, in --help", () => {
    for (const option of Object.values<Option<unknown>>(SERVER_OPTIONS)) {
      expect(USAGE).toMatch(new RegExp(`^  --${option.flag} `, "m"));
      if (option.env) expect(USAGE).toMatch(new RegExp(`\\b${option.env}\\b`));
    }
  });

  it("answers --help and --version before looking at anything else", () => {
    expect(parseConfig(["--help"], { env: {}, ...linux })).toEqual({ action: "help" });
    expect(parseConfig(["-h", "--port", "x"], { env: {}, ...linux })).toEqual({ action: "help" });
    expect(parseConfig(["--version"], { env: { PORT: "x" }, ...linux })).toEqual({ action: "version" });
  });

  it.each([
    [
      ["--prot", "1"],
      {},
      /unknown option --prot\nAccepted options: --dir, --host, --port, --cors-origin, --cache-dir, --upstream, --log-format, --data-dir, --trash-days, --max-session-mb, --request-timeout, --allow-writes, --content-as-text, --demo, --version, --help/,
    ],
    [["--port"], {}, /--port/],
    [["--log-format", "xml"], {}, /--log-format: "xml" must be one of: text, json/],
    [[], { OPTA_LOG_FORMAT: "pretty" }, /OPTA_LOG_FORMAT: "pretty" must be one of: text, json/],
    [["--upstream", "127.0.0.1:1234"], {}, /--upstream: "127.0.0.1:1234" must be an http:\/\/ or https:\/\/ URL/],
    [[], { OPTA_UPSTREAM_URL: "ws://lmx.test" }, /OPTA_UPSTREAM_URL: "ws:\/\/lmx.test" must be an http/],
    [["--port", "65536"], {}, /--port: "65536" must be a whole number from 0 to 65535/],
    [[], { PORT: "12ab" }, /PORT: "12ab" must be a whole number/],
    [["--port", "-1"], {}, /--port/],
    [["--cors-origin", "*"], {}, /--cors-origin: "\*" must be an origin/],
    [[], { OPTA_CORS_ORIGINS: "localhost:3000" }, /OPTA_CORS_ORIGINS: "localhost:3000" must be an origin/],
    [["--cors-origin", "http://a.test/path"], {}, /must be an origin/],
    [["--host", " "], {}, /--host: " " must not be empty/],
    [["stray"], {}, /unexpected argument "stray"/],
  ] as const)("refuses %j %j with a message naming it", (argv, env, message) => {
    expect(() => config([...argv], env)).toThrow(ConfigError);
    expect(() => config([...argv], env)).toThrow(message);
  });
});

describe("configuration of the trash, limits and key", () => {
  it("keeps its data (the trash) in the platform's data folder, or --data-dir / OPTA_DATA_DIR, never inside the sessions directory", () => {
    expect(config([], {}, { homedir: "/Users/dev", platform: "darwin" }).dataDir).toBe("/Users/dev/Library/Application Support/opta-sessions");
    expect(config([], { XDG_DATA_HOME: "/xdg-data" }).dataDir).toBe("/xdg-data/opta-sessions");
    expect(config([], { LOCALAPPDATA: "/local" }, { homedir: "/h", platform: "win32" }).dataDir).toBe(path.resolve("/local/opta-sessions/data"));
    expect(config(["--data-dir", "/flag-data"], { OPTA_DATA_DIR: "/env-data" }).dataDir).toBe("/flag-data");
    expect(() => config(["--dir", "/s", "--data-dir", "/s/trash"])).toThrow(/--data-dir: "\/s\/trash" must not be inside the sessions directory/);
    expect(() => config(["--dir", "/s"], { OPTA_DATA_DIR: "/s" })).toThrow(/OPTA_DATA_DIR/);
  });

  it("refuses a data directory inside the sessions directory however it is reached: links, relative paths, /, the default", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "opta-datadir-"));
    try {
      const sessions = path.join(root, "sessions");
      mkdirSync(path.join(sessions, "inner"), { recursive: true });
      symlinkSync(path.join(sessions, "inner"), path.join(root, "link-into-sessions"));
      symlinkSync(sessions, path.join(root, "sessions-link"));
      const refused = /must not be inside the sessions directory/;
      // A link that leads into the sessions directory, and a data directory not made yet below it.
      expect(() => config(["--dir", sessions, "--data-dir", path.join(root, "link-into-sessions", "data")])).toThrow(refused);
      // The sessions directory named through a link, the data directory through its real path.
      expect(() => config(["--dir", path.join(root, "sessions-link")], { OPTA_DATA_DIR: path.join(sessions, "data") })).toThrow(
        /OPTA_DATA_DIR: .*must not be inside/,
      );
      // A relative path, from the directory the command runs in.
      expect(() => config(["--dir", sessions, "--data-dir", path.relative(process.cwd(), path.join(sessions, "x"))])).toThrow(refused);
      // The platform's default data folder, named as such (not as OPTA_DATA_DIR).
      expect(() => config(["--dir", sessions], { XDG_DATA_HOME: path.join(sessions, "xdg") })).toThrow(/^the default data directory: .*must not be inside/);
      // Everything is inside /.
      expect(() => config(["--dir", "/", "--data-dir", path.join(root, "data")])).toThrow(refused);
      // Nor the sessions directory inside the trash.
      expect(() => config(["--dir", path.join(root, "data", "trash", "s"), "--data-dir", path.join(root, "data")])).toThrow(/nor hold it in its trash/);
      // Nor the cache, whose file is named like a session.
      expect(() => config(["--dir", sessions, "--cache-dir", path.join(root, "link-into-sessions")])).toThrow(
        /^--cache-dir: .*must not be inside the sessions directory/,
      );
      // Beside it is fine, and --demo uses folders of its own whatever these say.
      expect(config(["--dir", sessions, "--data-dir", path.join(root, "sessions-data")]).dataDir).toBe(path.join(root, "sessions-data"));
      expect(config(["--demo", "--dir", sessions, "--data-dir", path.join(sessions, "data")]).demo).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("turns the content-as-text switch on with --content-as-text or OPTA_CONTENT_AS_TEXT=1, off by default", () => {
    expect(config([]).contentAsText).toBe(false);
    expect(config(["--content-as-text"]).contentAsText).toBe(true);
    expect(config([], { OPTA_CONTENT_AS_TEXT: "1" }).contentAsText).toBe(true);
    expect(config([], { OPTA_CONTENT_AS_TEXT: "0" }).contentAsText).toBe(false);
    expect(() => config([], { OPTA_CONTENT_AS_TEXT: "yes please" })).toThrow(/OPTA_CONTENT_AS_TEXT/);
  });

  it("reads --trash-days, --max-session-mb and --request-timeout, or their variables", () => {
    expect(config(["--trash-days", "7", "--max-session-mb=0.5"], { OPTA_REQUEST_TIMEOUT: "2.5" })).toMatchObject({
      trashDays: 7,
      maxSessionMb: 0.5,
      requestTimeoutSeconds: 2.5,
    });
    expect(() => config(["--trash-days", "0"])).toThrow(/--trash-days: "0" must be a number of days above 0/);
    expect(() => config([], { OPTA_MAX_SESSION_MB: "lots" })).toThrow(/OPTA_MAX_SESSION_MB: "lots" must be a number of MiB/);
  });

  it("reads the key from OPTA_ADMIN_KEY_FILE (first line, trimmed), and refuses short keys without echoing them", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "opta-key-"));
    try {
      const file = path.join(dir, "key");
      writeFileSync(file, "  from-a-file-0123456789  \nsecond line\n");
      expect(config([], { OPTA_ADMIN_KEY_FILE: file }).adminKey).toBe("from-a-file-0123456789");
      expect(() => config([], { OPTA_ADMIN_KEY_FILE: file, OPTA_ADMIN_KEY: "x".repeat(20) })).toThrow(/not both/);
      expect(() => config([], { OPTA_ADMIN_KEY_FILE: path.join(dir, "missing") })).toThrow(/OPTA_ADMIN_KEY_FILE: cannot read .*ENOENT/);
      writeFileSync(file, "tooshort15chars");
      expect(() => config([], { OPTA_ADMIN_KEY_FILE: file })).toThrow(/OPTA_ADMIN_KEY_FILE: the key has 15 characters; use at least 16/);
      expect(() => config([], { OPTA_ADMIN_KEY: "hunter2" })).toThrow(ConfigError);
      expect(() => config([], { OPTA_ADMIN_KEY: "hunter2" })).not.toThrow(/hunter2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses the LaunchAgent examples' placeholder keys, and others of their family, saying to set a real key", () => {
    const plists = ["dev.opta.sessions.plist", "dev.opta.sessions-sync.plist"].map((name) =>
      readFileSync(new URL(`../../launchd/${name}`, import.meta.url), "utf8"),
    );
    const shipped = plists.map((plist) => /<key>OPTA_ADMIN_KEY<\/key>\s*<string>([^<]*)<\/string>/.exec(plist)?.[1]);
    expect(shipped).toEqual(["REPLACE-WITH-THE-ADMIN-KEY", "REPLACE-WITH-THE-WORKER-ADMIN-KEY"]);
    const family = ["replace_with_your_admin_key", "YOUR-ADMIN-KEY-HERE", "change-me-change-me", "<the deployment's admin key>", "x".repeat(24)];
    for (const key of [...shipped, ...family]) {
      expect(() => config([], { OPTA_ADMIN_KEY: String(key) })).toThrow(/^OPTA_ADMIN_KEY: that is an example's placeholder, not a key; set a real key/);
    }
    // A real key that merely contains such words is a key.
    expect(config([], { OPTA_ADMIN_KEY: "replace-with-the-admin-key-7f3a9c" }).adminKey).toBe("replace-with-the-admin-key-7f3a9c");
  });
});
