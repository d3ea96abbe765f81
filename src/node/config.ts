import path from "node:path";
import { z } from "zod";
import { MIN_ADMIN_KEY_LENGTH } from "../http/middleware/admin-key.js";
import { ConfigError, originList, plainHttpUrl, positive, SwitchSchema } from "../shared/config-values.js";
import { absolutePath, adminKeyOf, CACHE_DIR, defaultDataDir, type Environment, isInside, type Option, readOptions, SESSIONS_DIR } from "./options.js";

/** The server's configuration: its flags and environment, checked, or a ConfigError that says what to fix. */

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
  /** Accept sessions from `opta-sessions sync` (PUT, and its batches): writes into the sessions directory, so off by default. */
  allowWrites: boolean;
  /** Send message content as text, for the existing dashboard (which cannot show a parts array). */
  contentAsText: boolean;
}

export const LOG_FORMATS = ["text", "json"] as const;
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
  --allow-writes         accept sessions from 'opta-sessions sync' (PUT /admin/sessions/:id, POST
                         /admin/sync/sessions), written into the sessions directory
                                                      OPTA_ALLOW_WRITES=1 (default: off)
  --content-as-text      send each message's content as text (for the existing dashboard)
                                                      OPTA_CONTENT_AS_TEXT=1 (default: off)
  --demo                 serve a generated sample corpus from a temporary directory, with a trash
                         and cache of its own (all removed at exit)
  --version              print the version
  --help                 show this help

The admin key comes only from OPTA_ADMIN_KEY, or from the file OPTA_ADMIN_KEY_FILE names
(never a flag: flags show in 'ps'); at least ${MIN_ADMIN_KEY_LENGTH} characters. Without one, a random
key is generated and printed once at start.`;

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

const HostSchema = z.string().trim().min(1, "must not be empty");

/** The server's options, in the order --help and the "Accepted options" list name them. */
export const SERVER_OPTIONS = {
  dir: SESSIONS_DIR,
  host: { flag: "host", env: "HOST", parse: HostSchema, default: "127.0.0.1", empty: "value" },
  port: { flag: "port", env: "PORT", parse: PortSchema, default: "1235", empty: "value" },
  corsOrigins: { flag: "cors-origin", form: "list", env: "OPTA_CORS_ORIGINS", parse: originList, default: "" },
  cacheDir: CACHE_DIR,
  upstream: { flag: "upstream", env: "OPTA_UPSTREAM_URL", parse: UpstreamSchema },
  logFormat: { flag: "log-format", env: "OPTA_LOG_FORMAT", parse: LogFormatSchema, default: "text" },
  dataDir: { flag: "data-dir", env: "OPTA_DATA_DIR", parse: absolutePath, default: defaultDataDir, empty: "unset" },
  trashDays: { flag: "trash-days", env: "OPTA_TRASH_DAYS", parse: positive("a number of days", 36_500), default: "30" },
  maxSessionMb: { flag: "max-session-mb", env: "OPTA_MAX_SESSION_MB", parse: positive("a number of MiB", 1024 * 1024), default: "256" },
  requestTimeoutSeconds: { flag: "request-timeout", env: "OPTA_REQUEST_TIMEOUT", parse: positive("a number of seconds", 3600), default: "30" },
  allowWrites: { flag: "allow-writes", form: "switch", env: "OPTA_ALLOW_WRITES", parse: SwitchSchema, default: "off" },
  contentAsText: { flag: "content-as-text", form: "switch", env: "OPTA_CONTENT_AS_TEXT", parse: SwitchSchema, default: "off" },
  demo: { flag: "demo", form: "switch", parse: SwitchSchema, default: "off" },
} satisfies Record<string, Option<unknown>>;

export type ParsedArgs = { action: "help" } | { action: "version" } | { action: "serve"; config: Config };

export function parseConfig(argv: readonly string[], environment: Environment): ParsedArgs {
  const read = readOptions(argv, SERVER_OPTIONS, ["help", "version"], environment);
  if (read.action !== "run") return { action: read.action };
  const { values, sources } = read;
  // --demo uses data and cache folders of its own (src/node/cli.ts), so only a real run can misplace them.
  if (!values.demo) {
    const { dir, dataDir, cacheDir } = values;
    if (isInside(dataDir, dir) || isInside(dir, path.join(dataDir, "trash"))) {
      throw new ConfigError(
        `${sources.dataDir ?? "the default data directory"}: ${JSON.stringify(dataDir)} must not be inside the sessions directory ${JSON.stringify(dir)}, nor hold it in its trash (links followed): choose another with --data-dir`,
      );
    }
    // The cache file is named like a session (catalog-<digest>.json): inside, it would be listed as one.
    if (isInside(cacheDir, dir)) {
      throw new ConfigError(
        `${sources.cacheDir ?? "the default cache directory"}: ${JSON.stringify(cacheDir)} must not be inside the sessions directory ${JSON.stringify(dir)} (links followed)`,
      );
    }
  }
  return { action: "serve", config: { ...values, adminKey: adminKeyOf(environment.env), upstream: values.upstream ?? null } };
}
