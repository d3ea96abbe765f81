import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { z } from "zod";
import { MIN_ADMIN_KEY_LENGTH } from "../http/middleware/admin-key.js";
import { ConfigError, check, checkedAdminKey, OriginSchema, positive, SwitchSchema, splitList } from "../shared/config-values.js";

export { ConfigError } from "../shared/config-values.js";

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
  /** LMX's base URL: requests we do not own are forwarded there. null: none, we answer everything. */
  upstream: URL | null;
  logFormat: LogFormat;
  /** Serve a generated sample corpus from a temporary directory instead of `dir`. */
  demo: boolean;
  /** The service's own data (the trash); never inside the sessions directory. */
  dataDir: string;
  /** Deleted sessions are purged from the trash after this many days. */
  trashDays: number;
  /** GET of a session file larger than this (MiB) answers 413. */
  maxSessionMb: number;
  /** Seconds before an unanswered request is abandoned (503), and the most a client may take to send its headers. */
  requestTimeoutSeconds: number;
  /** Accept sessions from `opta-sessions sync` (PUT): writes into the sessions directory, so off by default. */
  allowWrites: boolean;
  /** Send message content as text, for the existing dashboard (which cannot show a parts array). */
  contentAsText: boolean;
}

const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const USAGE = `Usage: opta-sessions [options]        (from a checkout: npm start -- [options])
       opta-sessions sync --to <url>  push the sessions to another deployment (opta-sessions sync --help)

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
  --upstream <url>       forward every request that is not ours to LMX at this URL
                                                      OPTA_UPSTREAM_URL (e.g. http://127.0.0.1:1234)
  --log-format <format>  text or json                 OPTA_LOG_FORMAT (default: text)
  --data-dir <path>      the service's own data: the trash of deleted sessions
                                                      OPTA_DATA_DIR (default: the platform's data folder)
  --trash-days <days>    purge deleted sessions after this many days
                                                      OPTA_TRASH_DAYS (default: 30)
  --max-session-mb <MiB> largest session file served  OPTA_MAX_SESSION_MB (default: 256)
  --request-timeout <s>  abandon a request after this many seconds
                                                      OPTA_REQUEST_TIMEOUT (default: 30)
  --allow-writes         accept sessions from 'opta-sessions sync' (PUT /admin/sessions/:id),
                         written into the sessions directory   OPTA_ALLOW_WRITES=1 (default: off)
  --content-as-text      send each message's content as text (for the existing dashboard)
                                                      OPTA_CONTENT_AS_TEXT=1 (default: off)
  --demo                 serve a generated sample corpus from a temporary directory, with a trash
                         and cache of its own (all removed at exit)
  --version              print the version
  --help                 show this help

The admin key comes only from OPTA_ADMIN_KEY, or from the file OPTA_ADMIN_KEY_FILE names
(never a flag: flags show in 'ps'); at least ${MIN_ADMIN_KEY_LENGTH} characters. Without one, a random
key is generated and printed once at start.`;

const OPTIONS = {
  dir: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "cors-origin": { type: "string", multiple: true },
  "cache-dir": { type: "string" },
  upstream: { type: "string" },
  "log-format": { type: "string" },
  "data-dir": { type: "string" },
  "trash-days": { type: "string" },
  "max-session-mb": { type: "string" },
  "request-timeout": { type: "string" },
  "allow-writes": { type: "boolean" },
  "content-as-text": { type: "boolean" },
  demo: { type: "boolean" },
  version: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

type ParsedArgs = { action: "help" } | { action: "version" } | { action: "serve"; config: Config };

interface Environment {
  env: Record<string, string | undefined>;
  homedir: string;
  platform: string;
}

export function parseConfig(argv: readonly string[], { env, homedir, platform }: Environment): ParsedArgs {
  const flags = parseFlags(argv, OPTIONS);
  if (flags.help) return { action: "help" };
  if (flags.version) return { action: "version" };

  const originList = flags["cors-origin"]?.length
    ? { source: "--cors-origin", values: flags["cors-origin"].flatMap(splitList) }
    : { source: "OPTA_CORS_ORIGINS", values: splitList(env.OPTA_CORS_ORIGINS ?? "") };
  const upstream = flags.upstream ?? (env.OPTA_UPSTREAM_URL || undefined);
  const dir = sessionsDirOf(flags.dir, { env, homedir, platform });
  const dataDir = path.resolve(flags["data-dir"] || env.OPTA_DATA_DIR || defaultDataDir(env, homedir, platform));
  const cacheDir = cacheDirOf(flags["cache-dir"], { env, homedir, platform });
  const demo = flags.demo ?? false;
  // --demo uses data and cache folders of its own (src/node/cli.ts), so only a real run can misplace them.
  if (!demo) {
    const dataSource = flags["data-dir"] ? "--data-dir" : env.OPTA_DATA_DIR ? "OPTA_DATA_DIR" : "the default data directory";
    if (isInside(dataDir, dir) || isInside(dir, path.join(dataDir, "trash"))) {
      throw new ConfigError(
        `${dataSource}: ${JSON.stringify(dataDir)} must not be inside the sessions directory ${JSON.stringify(dir)}, nor hold it in its trash (links followed): choose another with --data-dir`,
      );
    }
    // The cache file is named like a session (catalog-<digest>.json): inside, it would be listed as one.
    if (isInside(cacheDir, dir)) {
      const cacheSource = flags["cache-dir"] ? "--cache-dir" : env.OPTA_CACHE_DIR ? "OPTA_CACHE_DIR" : "the default cache directory";
      throw new ConfigError(`${cacheSource}: ${JSON.stringify(cacheDir)} must not be inside the sessions directory ${JSON.stringify(dir)} (links followed)`);
    }
  }
  const number = (flag: keyof typeof OPTIONS, variable: string, fallback: string, schema: z.ZodType<number, string>) => {
    const flagged = flags[flag];
    return check(schema, typeof flagged === "string" ? flagged : env[variable] || fallback, typeof flagged === "string" ? `--${flag}` : variable);
  };

  return {
    action: "serve",
    config: {
      dir,
      host: check(HostSchema, flags.host ?? env.HOST ?? "127.0.0.1", flags.host !== undefined ? "--host" : "HOST"),
      port: check(PortSchema, flags.port ?? env.PORT ?? "1235", flags.port !== undefined ? "--port" : "PORT"),
      corsOrigins: originList.values.map((origin) => check(OriginSchema, origin, originList.source)),
      cacheDir,
      adminKey: adminKeyOf(env),
      upstream: upstream === undefined ? null : check(UpstreamSchema, upstream, flags.upstream !== undefined ? "--upstream" : "OPTA_UPSTREAM_URL"),
      logFormat: check(
        LogFormatSchema,
        flags["log-format"] ?? (env.OPTA_LOG_FORMAT || "text"),
        flags["log-format"] !== undefined ? "--log-format" : "OPTA_LOG_FORMAT",
      ),
      demo,
      dataDir,
      trashDays: number("trash-days", "OPTA_TRASH_DAYS", "30", positive("a number of days", 36_500)),
      maxSessionMb: number("max-session-mb", "OPTA_MAX_SESSION_MB", "256", positive("a number of MiB", 1024 * 1024)),
      requestTimeoutSeconds: number("request-timeout", "OPTA_REQUEST_TIMEOUT", "30", positive("a number of seconds", 3600)),
      allowWrites: flags["allow-writes"] ?? check(SwitchSchema, env.OPTA_ALLOW_WRITES || "0", "OPTA_ALLOW_WRITES"),
      contentAsText: flags["content-as-text"] ?? check(SwitchSchema, env.OPTA_CONTENT_AS_TEXT || "0", "OPTA_CONTENT_AS_TEXT"),
    },
  };
}

/** OPTA_ADMIN_KEY, or the first line of the file OPTA_ADMIN_KEY_FILE names; refused when short. */
function adminKeyOf(env: Record<string, string | undefined>): string | null {
  let key = env.OPTA_ADMIN_KEY;
  let source = "OPTA_ADMIN_KEY";
  if (env.OPTA_ADMIN_KEY_FILE) {
    if (key) throw new ConfigError("set OPTA_ADMIN_KEY or OPTA_ADMIN_KEY_FILE, not both");
    source = "OPTA_ADMIN_KEY_FILE";
    try {
      key = readFileSync(env.OPTA_ADMIN_KEY_FILE, "utf8").split(/\r?\n/)[0];
    } catch (error) {
      const code = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
      throw new ConfigError(`OPTA_ADMIN_KEY_FILE: cannot read ${JSON.stringify(env.OPTA_ADMIN_KEY_FILE)} (${code})`);
    }
  }
  return checkedAdminKey(key, source);
}

// `opta-sessions sync`: the same sessions directory, cache folder and key as the server, plus where to push.

export interface SyncConfig {
  dir: string;
  /** The deployment's base URL, ending in "/" so that admin paths join under any path prefix. */
  to: URL;
  /** Where the digests of unchanged files are remembered between runs; never inside the sessions directory. */
  cacheDir: string;
  adminKey: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Keep running: sync again after every change and every minute. */
  watch: boolean;
  /** Lets a round delete more sessions on the deployment than the directory holds (at least 100 always may be). */
  allowMassDelete: boolean;
}

type ParsedSyncArgs = { action: "help" } | { action: "sync"; config: SyncConfig };

export const SYNC_USAGE = `Usage: opta-sessions sync --to <url> [options]

Pushes new and changed sessions, and deletions, from the local sessions directory to another
deployment of opta-sessions (a Cloudflare Worker, or a server started with --allow-writes),
until it holds exactly the sessions of the directory.

Options (each overrides its environment variable):
  --to <url>             the deployment's base URL    OPTA_SYNC_URL (required)
  --dir <path>           sessions directory           OPTA_SESSIONS_DIR
                         (default: $XDG_CONFIG_HOME/opta/sessions or ~/.config/opta/sessions)
  --cache-dir <path>     where digests of unchanged files are remembered between runs
                                                      OPTA_CACHE_DIR (default: the platform's cache folder)
  --concurrency <n>      requests at once, 1 to 32    (default: 4)
  --watch                keep running: sync again after every change, and every minute
  --allow-mass-delete    let a round delete more sessions on the deployment than the directory
                         holds (at most that many, or 100, otherwise: a guard against a wrong --dir)
  --help                 show this help

The deployment's admin key comes only from OPTA_ADMIN_KEY, or from the file OPTA_ADMIN_KEY_FILE names.
Exit codes: 0 everything in sync, 1 something failed (each failure is named), 2 bad options.`;

const SYNC_OPTIONS = {
  to: { type: "string" },
  dir: { type: "string" },
  "cache-dir": { type: "string" },
  concurrency: { type: "string" },
  watch: { type: "boolean" },
  "allow-mass-delete": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseSyncConfig(argv: readonly string[], environment: Environment): ParsedSyncArgs {
  const flags = parseFlags(argv, SYNC_OPTIONS);
  if (flags.help) return { action: "help" };
  const { env } = environment;
  const to = flags.to ?? (env.OPTA_SYNC_URL || undefined);
  if (to === undefined)
    throw new ConfigError("--to <url> is required (or OPTA_SYNC_URL): the deployment to sync to, e.g. https://sessions.example.workers.dev");
  const dir = sessionsDirOf(flags.dir, environment);
  const cacheDir = cacheDirOf(flags["cache-dir"], environment);
  // The state file is named like a session: inside the directory it would be synced as one.
  if (isInside(cacheDir, dir)) {
    throw new ConfigError(`${flags["cache-dir"] ? "--cache-dir" : "OPTA_CACHE_DIR"}: ${JSON.stringify(cacheDir)} must not be inside the sessions directory`);
  }
  const adminKey = adminKeyOf(env);
  if (adminKey === null) throw new ConfigError("no admin key: set OPTA_ADMIN_KEY (or OPTA_ADMIN_KEY_FILE) to the deployment's admin key");
  return {
    action: "sync",
    config: {
      dir,
      to: check(SyncUrlSchema, to, flags.to !== undefined ? "--to" : "OPTA_SYNC_URL"),
      cacheDir,
      adminKey,
      concurrency: check(ConcurrencySchema, flags.concurrency ?? "4", "--concurrency"),
      watch: flags.watch ?? false,
      allowMassDelete: flags["allow-mass-delete"] ?? false,
    },
  };
}

function sessionsDirOf(flag: string | undefined, { env, homedir, platform }: Environment): string {
  return path.resolve(flag || env.OPTA_SESSIONS_DIR || defaultSessionsDir(env, homedir, platform));
}

function cacheDirOf(flag: string | undefined, { env, homedir, platform }: Environment): string {
  return path.resolve(flag || env.OPTA_CACHE_DIR || defaultCacheDir(env, homedir, platform));
}

/** Whether `child` is `parent` or below it, once symbolic links are followed (either may be reached through one). */
function isInside(child: string, parent: string): boolean {
  const relative = path.relative(realPathOf(parent), realPathOf(child));
  return relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/** The absolute path with the links of its existing part resolved; a part not made yet is kept as written. */
function realPathOf(target: string): string {
  const absolute = path.resolve(target);
  const rest: string[] = [];
  for (let existing = absolute; ; existing = path.dirname(existing)) {
    try {
      return path.join(realpathSync.native(existing), ...rest);
    } catch {
      if (path.dirname(existing) === existing) return absolute;
      rest.unshift(path.basename(existing));
    }
  }
}

/** Where the Opta CLI keeps its sessions on this platform. */
function defaultSessionsDir(env: Record<string, string | undefined>, homedir: string, platform: string): string {
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, "opta", "sessions");
  if (platform === "win32" && env.APPDATA) return path.join(env.APPDATA, "opta", "sessions");
  return path.join(homedir, ".config", "opta", "sessions");
}

/** The platform's folder for caches a program can rebuild. */
function defaultCacheDir(env: Record<string, string | undefined>, homedir: string, platform: string): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "opta-sessions");
  if (platform === "darwin") return path.join(homedir, "Library", "Caches", "opta-sessions");
  if (platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "opta-sessions", "cache");
  return path.join(homedir, ".cache", "opta-sessions");
}

/** The platform's folder for a program's own data (kept, unlike a cache). */
function defaultDataDir(env: Record<string, string | undefined>, homedir: string, platform: string): string {
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, "opta-sessions");
  if (platform === "darwin") return path.join(homedir, "Library", "Application Support", "opta-sessions");
  if (platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "opta-sessions", "data");
  return path.join(homedir, ".local", "share", "opta-sessions");
}

function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const accepted = Object.keys(options)
      .map((name) => `--${name}`)
      .join(", ");
    throw new ConfigError(`${flagProblem(error)}\nAccepted options: ${accepted}. Run with --help for details.`);
  }
}

/** parseArgs's own messages are long and generic: name the argument and what is wrong with it. */
function flagProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? /"([^"]+)"/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && quoted) return `unknown option ${quoted}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && quoted) return `unexpected argument "${quoted}" (options start with --)`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return message.replace(/^Option '-\w, /, "Option '");
  return message;
}

const PortSchema = z
  .string()
  .regex(/^[0-9]{1,5}$/, "must be a whole number from 0 to 65535")
  .transform(Number)
  .refine((port) => port <= 65535, "must be a whole number from 0 to 65535");

const LogFormatSchema = z.enum(LOG_FORMATS, { error: `must be one of: ${LOG_FORMATS.join(", ")}` });

const UpstreamSchema = z.string().transform((text, ctx) => {
  const url = plainHttpUrl(text);
  if (!url) {
    ctx.addIssue({ code: "custom", message: "must be an http:// or https:// URL like http://127.0.0.1:1234 (no query, no credentials)" });
    return z.NEVER;
  }
  return url;
});

const SyncUrlSchema = z.string().transform((text, ctx) => {
  const url = plainHttpUrl(text);
  if (!url) {
    ctx.addIssue({ code: "custom", message: "must be an http:// or https:// URL like https://sessions.example.workers.dev (no query, no credentials)" });
    return z.NEVER;
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
});

/** An http(s) URL with nothing a base URL must not carry: no query, fragment or credentials. */
function plainHttpUrl(text: string): URL | null {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || !["http:", "https:"].includes(url.protocol) || url.search || url.hash || url.username || url.password) return null;
  return url;
}

const ConcurrencySchema = z
  .string()
  .regex(/^[0-9]{1,2}$/, "must be a whole number from 1 to 32")
  .transform(Number)
  .refine((count) => count >= 1 && count <= 32, "must be a whole number from 1 to 32");

const HostSchema = z.string().trim().min(1, "must not be empty");
