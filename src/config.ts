import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";

/** Node edge: turns flags and environment into a checked configuration, or a ConfigError that says what to fix. */

export interface Config {
  dir: string;
  host: string;
  port: number;
  corsOrigins: string[];
  /** The service's own cache (summaries for fast restarts); never inside the sessions directory. */
  cacheDir: string;
  /** null: none configured; the server then generates one for this run. */
  adminKey: string | null;
}

export class ConfigError extends Error {}

export const USAGE = `Usage: npm start -- [options]

Serves the Opta CLI's chat sessions to the Opta dashboard.

Options (each overrides its environment variable):
  --dir <path>           sessions directory           OPTA_SESSIONS_DIR
                         (default: $XDG_CONFIG_HOME/opta/sessions or ~/.config/opta/sessions)
  --host <host>          address to listen on         HOST (default: 127.0.0.1)
  --port <port>          port, 0 for any free one     PORT (default: 1235)
  --cors-origin <origin> browser origin allowed to call, repeatable
                                                      OPTA_CORS_ORIGINS (comma list; default: none)
  --cache-dir <path>     where session summaries are cached between runs
                                                      OPTA_CACHE_DIR (default: the platform's cache folder)
  --help                 show this help

The admin key comes only from OPTA_ADMIN_KEY (never a flag: flags show in 'ps').
Without one, a random key is generated and printed once at start.`;

export type ParsedArgs = { help: true } | { help: false; config: Config };

interface Environment {
  env: Record<string, string | undefined>;
  homedir: string;
  platform: string;
}

export function parseConfig(argv: readonly string[], { env, homedir, platform }: Environment): ParsedArgs {
  const flags = parseFlags(argv);
  if (flags.help) return { help: true };

  const originList = flags["cors-origin"]?.length
    ? { source: "--cors-origin", values: flags["cors-origin"].flatMap(splitList) }
    : { source: "OPTA_CORS_ORIGINS", values: splitList(env.OPTA_CORS_ORIGINS ?? "") };

  return {
    help: false,
    config: {
      dir: path.resolve(flags.dir || env.OPTA_SESSIONS_DIR || defaultSessionsDir(env, homedir, platform)),
      host: check(HostSchema, flags.host ?? env.HOST ?? "127.0.0.1", flags.host !== undefined ? "--host" : "HOST"),
      port: check(PortSchema, flags.port ?? env.PORT ?? "1235", flags.port !== undefined ? "--port" : "PORT"),
      corsOrigins: originList.values.map((origin) => check(OriginSchema, origin, originList.source)),
      cacheDir: path.resolve(flags["cache-dir"] || env.OPTA_CACHE_DIR || defaultCacheDir(env, homedir, platform)),
      // Header values arrive trimmed, so surrounding whitespace could never match: drop it.
      adminKey: env.OPTA_ADMIN_KEY?.trim() || null,
    },
  };
}

/** Where the Opta CLI keeps its sessions on this platform. */
export function defaultSessionsDir(env: Record<string, string | undefined>, homedir: string, platform: string): string {
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, "opta", "sessions");
  if (platform === "win32" && env.APPDATA) return path.join(env.APPDATA, "opta", "sessions");
  return path.join(homedir, ".config", "opta", "sessions");
}

/** The platform's folder for caches a program can rebuild. */
export function defaultCacheDir(env: Record<string, string | undefined>, homedir: string, platform: string): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "opta-sessions");
  if (platform === "darwin") return path.join(homedir, "Library", "Caches", "opta-sessions");
  if (platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "opta-sessions", "cache");
  return path.join(homedir, ".cache", "opta-sessions");
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        dir: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "cors-origin": { type: "string", multiple: true },
        "cache-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new ConfigError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
}

const PortSchema = z
  .string()
  .regex(/^[0-9]{1,5}$/, "must be a whole number from 0 to 65535")
  .transform(Number)
  .refine((port) => port <= 65535, "must be a whole number from 0 to 65535");

const HostSchema = z.string().trim().min(1, "must not be empty");

const OriginSchema = z.string().transform((text, ctx) => {
  const origin = URL.canParse(text) ? new URL(text) : null;
  if (!origin || !["http:", "https:"].includes(origin.protocol) || origin.pathname.length > 1 || origin.search || origin.hash) {
    ctx.addIssue({ code: "custom", message: "must be an origin like http://localhost:3000 (scheme, host, optional port; '*' is not allowed)" });
    return z.NEVER;
  }
  return origin.origin;
});

function check<T>(schema: z.ZodType<T, string>, value: string, source: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(`${source}: ${JSON.stringify(value)} ${result.error.issues[0]?.message ?? "is not valid"}`);
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}
