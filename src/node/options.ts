import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { z } from "zod";
import { ConfigError, check, checkedAdminKey, type Parser } from "../shared/config-values.js";

/**
 * How the Node commands (the server, `opta-sessions sync`) read their options: each command
 * declares a table, one entry per option, and readOptions takes each from its flag, else its
 * environment variable, else its default. Also what both commands read alike: the sessions
 * directory, the cache folder, the admin key, and the platform's folders.
 */

/** What a command reads besides its arguments (tests pass their own). */
export interface Environment {
  env: Record<string, string | undefined>;
  homedir: string;
  platform: string;
}

export interface Option<T> {
  /** The flag, without its dashes. */
  flag: string;
  /** "switch": a flag without a value, on when given; "list": repeatable, its values joined by commas. Otherwise one value. */
  form?: "switch" | "list";
  /** The environment variable read when the flag is not given. */
  env?: string;
  parse: Parser<T>;
  /** The text parsed when neither is given (a function when it depends on the platform); none: the value is undefined. */
  default?: string | ((environment: Environment) => string);
  /**
   * What an empty text means. Unless said here an empty flag is a value (checked, so usually
   * refused) and an empty variable is unset. "unset": both are unset (an empty path would name the
   * working directory); "value": both are values.
   */
  empty?: "unset" | "value";
}

type Table = Record<string, Option<unknown>>;

type Parsed<P> = P extends z.ZodType ? z.output<P> : P extends (...args: never[]) => infer T ? T : never;

/** Each option's value; undefined when nothing gave it one and it has no default. */
type Values<O extends Table> = { [K in keyof O]: Parsed<O[K]["parse"]> | (O[K] extends { default: unknown } ? never : undefined) };

/** The flag or variable each value came from; absent for a default. */
type Sources<O extends Table> = { [K in keyof O]?: string };

/** Flags that answer instead of running (listed in this order among the accepted options). */
const ACTIONS = { version: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } } as const;
type Action = keyof typeof ACTIONS;

/**
 * The command's options from its table. `actions`: the flags among ACTIONS it has, the first one
 * given answering before any value is checked.
 */
export function readOptions<O extends Table, A extends Action>(
  argv: readonly string[],
  table: O,
  actions: readonly A[],
  environment: Environment,
): { action: A } | { action: "run"; values: Values<O>; sources: Sources<O> } {
  const accepted: NonNullable<ParseArgsConfig["options"]> = {};
  for (const option of Object.values(table)) {
    accepted[option.flag] = { type: option.form === "switch" ? "boolean" : "string", multiple: option.form === "list" };
  }
  for (const [action, flag] of Object.entries(ACTIONS)) if (actions.some((wanted) => wanted === action)) accepted[action] = flag;
  const flags = parseFlags(argv, accepted);
  const asked = actions.find((action) => flags[action] === true);
  if (asked !== undefined) return { action: asked };

  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [name, option] of Object.entries(table)) {
    const text = textOf(option, flagText(flags[option.flag]), environment);
    if (text === undefined) continue;
    values[name] = check(option.parse, text.value, text.source);
    if (!text.isDefault) sources[name] = text.source;
  }
  // Every entry of the table was parsed by its own parser just above.
  return { action: "run", values: values as Values<O>, sources: sources as Sources<O> };
}

/** A flag's text as parseArgs gives it: a list joined by commas, a switch given "on". */
function flagText(given: string | boolean | (string | boolean)[] | undefined): string | undefined {
  if (Array.isArray(given)) return given.join(",");
  if (typeof given === "boolean") return given ? "on" : undefined;
  return given;
}

/** The flag, else the variable, else the default: the text to parse and the name to blame for it. */
function textOf(option: Option<unknown>, flag: string | undefined, environment: Environment) {
  const counts = (text: string | undefined, emptyCounts: boolean): text is string => text !== undefined && (text !== "" || emptyCounts);
  if (counts(flag, option.empty !== "unset")) return { value: flag, source: `--${option.flag}`, isDefault: false };
  const variable = option.env === undefined ? undefined : environment.env[option.env];
  if (option.env !== undefined && counts(variable, option.empty === "value")) return { value: variable, source: option.env, isDefault: false };
  if (option.default === undefined) return undefined;
  const value = typeof option.default === "function" ? option.default(environment) : option.default;
  // Were a default refused, the variable it stands in for is the one to name.
  return { value, source: option.env ?? `--${option.flag}`, isDefault: true };
}

function parseFlags(argv: readonly string[], options: NonNullable<ParseArgsConfig["options"]>) {
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

/** A path, absolute from the directory the command runs in. */
export const absolutePath = (text: string): string => path.resolve(text);

/** The sessions directory, the server's and sync's alike. */
export const SESSIONS_DIR = {
  flag: "dir",
  env: "OPTA_SESSIONS_DIR",
  parse: absolutePath,
  default: defaultSessionsDir,
  empty: "unset",
} satisfies Option<string>;

/** The service's own cache (the server's saved catalog, sync's digests); never inside the sessions directory. */
export const CACHE_DIR = { flag: "cache-dir", env: "OPTA_CACHE_DIR", parse: absolutePath, default: defaultCacheDir, empty: "unset" } satisfies Option<string>;

/** OPTA_ADMIN_KEY, or the first line of the file OPTA_ADMIN_KEY_FILE names; refused when short. */
export function adminKeyOf(env: Record<string, string | undefined>): string | null {
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

/** Whether `child` is `parent` or below it, once symbolic links are followed (either may be reached through one). */
export function isInside(child: string, parent: string): boolean {
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
function defaultSessionsDir({ env, homedir, platform }: Environment): string {
  if (env.XDG_CONFIG_HOME) return path.join(env.XDG_CONFIG_HOME, "opta", "sessions");
  if (platform === "win32" && env.APPDATA) return path.join(env.APPDATA, "opta", "sessions");
  return path.join(homedir, ".config", "opta", "sessions");
}

/** The platform's folder for caches a program can rebuild. */
function defaultCacheDir({ env, homedir, platform }: Environment): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "opta-sessions");
  if (platform === "darwin") return path.join(homedir, "Library", "Caches", "opta-sessions");
  if (platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "opta-sessions", "cache");
  return path.join(homedir, ".cache", "opta-sessions");
}

/** The platform's folder for a program's own data (kept, unlike a cache). */
export function defaultDataDir({ env, homedir, platform }: Environment): string {
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, "opta-sessions");
  if (platform === "darwin") return path.join(homedir, "Library", "Application Support", "opta-sessions");
  if (platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "opta-sessions", "data");
  return path.join(homedir, ".local", "share", "opta-sessions");
}
