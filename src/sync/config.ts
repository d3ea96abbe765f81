import { z } from "zod";
import { adminKeyOf, CACHE_DIR, type Environment, isInside, type Option, readOptions, SESSIONS_DIR } from "../node/options.js";
import { ConfigError, plainHttpUrl, SwitchSchema } from "../shared/config-values.js";

/** `opta-sessions sync`'s configuration: the same sessions directory, cache folder and key as the server, plus where to push. */

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

export type ParsedSyncArgs = { action: "help" } | { action: "sync"; config: SyncConfig };

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

const SyncUrlSchema = z.string().transform((text, ctx) => {
  const url = plainHttpUrl(text);
  if (!url) {
    ctx.addIssue({ code: "custom", message: "must be an http:// or https:// URL like https://sessions.example.workers.dev (no query, no credentials)" });
    return z.NEVER;
  }
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
});

const ConcurrencySchema = z
  .string()
  .regex(/^[0-9]{1,2}$/, "must be a whole number from 1 to 32")
  .transform(Number)
  .refine((count) => count >= 1 && count <= 32, "must be a whole number from 1 to 32");

/** Sync's options, in the order --help and the "Accepted options" list name them. */
export const SYNC_OPTIONS = {
  to: { flag: "to", env: "OPTA_SYNC_URL", parse: SyncUrlSchema },
  dir: SESSIONS_DIR,
  cacheDir: CACHE_DIR,
  concurrency: { flag: "concurrency", parse: ConcurrencySchema, default: "4" },
  watch: { flag: "watch", form: "switch", parse: SwitchSchema, default: "off" },
  allowMassDelete: { flag: "allow-mass-delete", form: "switch", parse: SwitchSchema, default: "off" },
} satisfies Record<string, Option<unknown>>;

export function parseSyncConfig(argv: readonly string[], environment: Environment): ParsedSyncArgs {
  const read = readOptions(argv, SYNC_OPTIONS, ["help"], environment);
  if (read.action !== "run") return { action: read.action };
  const { to, ...values } = read.values;
  if (to === undefined)
    throw new ConfigError("--to <url> is required (or OPTA_SYNC_URL): the deployment to sync to, e.g. https://sessions.example.workers.dev");
  // The state file is named like a session: inside the directory it would be synced as one.
  if (isInside(values.cacheDir, values.dir)) {
    throw new ConfigError(`${read.sources.cacheDir ?? "OPTA_CACHE_DIR"}: ${JSON.stringify(values.cacheDir)} must not be inside the sessions directory`);
  }
  const adminKey = adminKeyOf(environment.env);
  if (adminKey === null) throw new ConfigError("no admin key: set OPTA_ADMIN_KEY (or OPTA_ADMIN_KEY_FILE) to the deployment's admin key");
  return { action: "sync", config: { ...values, to, adminKey } };
}
