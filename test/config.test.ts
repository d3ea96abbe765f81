import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, type Config } from "../src/config.js";

const linux = { homedir: "/home/dev", platform: "linux" };

function config(argv: string[], env: Record<string, string> = {}, where = linux): Config {
  const parsed = parseConfig(argv, { env, ...where });
  if (parsed.help) throw new Error("unexpected --help");
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
    const env = { OPTA_SESSIONS_DIR: "/data/s", HOST: "0.0.0.0", PORT: "8080", OPTA_CORS_ORIGINS: "http://a.test, https://b.test:8443", OPTA_ADMIN_KEY: "k" };
    expect(config([], env)).toMatchObject({ dir: "/data/s", host: "0.0.0.0", port: 8080, corsOrigins: ["http://a.test", "https://b.test:8443"], adminKey: "k" });
  });

  it("lets flags override the environment, in both --flag value and --flag=value forms", () => {
    const env = { OPTA_SESSIONS_DIR: "/env", PORT: "1", HOST: "h", OPTA_CORS_ORIGINS: "http://env.test" };
    expect(config(["--dir", "/flag", "--port=2", "--host", "::1", "--cors-origin", "http://a.test", "--cors-origin=http://b.test/"], env)).toMatchObject({
      dir: "/flag",
      host: "::1",
      port: 2,
      corsOrigins: ["http://a.test", "http://b.test"],
      adminKey: null,
    });
  });

  it("answers --help", () => {
    expect(parseConfig(["--help"], { env: {}, ...linux })).toEqual({ help: true });
  });

  it.each([
    [["--prot", "1"], {}, /--prot/],
    [["--port", "65536"], {}, /--port: "65536" must be a whole number from 0 to 65535/],
    [[], { PORT: "12ab" }, /PORT: "12ab" must be a whole number/],
    [["--port", "-1"], {}, /--port/],
    [["--cors-origin", "*"], {}, /--cors-origin: "\*" must be an origin/],
    [[], { OPTA_CORS_ORIGINS: "localhost:3000" }, /OPTA_CORS_ORIGINS: "localhost:3000" must be an origin/],
    [["--cors-origin", "http://a.test/path"], {}, /must be an origin/],
    [["--host", " "], {}, /--host: " " must not be empty/],
    [["stray"], {}, /stray/],
  ] as const)("refuses %j %j with a message naming it", (argv, env, message) => {
    expect(() => config([...argv], env)).toThrow(ConfigError);
    expect(() => config([...argv], env)).toThrow(message);
  });
});
