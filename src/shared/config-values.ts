import { z } from "zod";
import { MIN_ADMIN_KEY_LENGTH } from "../http/middleware/admin-key.js";

/**
 * Parsers for settings that both entries read: the Node server's flags and variables (config.ts)
 * and the Worker's vars (worker.ts). Web-standard only, so the Worker can use them.
 */

export class ConfigError extends Error {}

/** A schema for one value, or a function for a value made of several (which names the part that is wrong). */
export type Parser<T> = z.ZodType<T, string> | ((text: string, source: string) => T);

/** The value, or a ConfigError naming where it came from (`source`: a flag or variable) and what is wrong with it. */
export function check<T>(parser: Parser<T>, value: string, source: string): T {
  if (typeof parser === "function") return parser(value, source);
  const result = parser.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(`${source}: ${JSON.stringify(value)} ${result.error.issues[0]?.message ?? "is not valid"}`);
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

export function positive(what: string, max: number) {
  const message = `must be ${what} above 0 and at most ${max}`;
  return z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?$/, message)
    .transform(Number)
    .refine((value) => value > 0 && value <= max, message);
}

/** An on/off environment variable. */
export const SwitchSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(["1", "true", "yes", "on", "0", "false", "no", "off"], { error: "must be 1/true/yes/on or 0/false/no/off" }))
  .transform((value) => ["1", "true", "yes", "on"].includes(value));

const OriginSchema = z.string().transform((text, ctx) => {
  const origin = URL.canParse(text) ? new URL(text) : null;
  if (!origin || !["http:", "https:"].includes(origin.protocol) || origin.pathname.length > 1 || origin.search || origin.hash) {
    ctx.addIssue({ code: "custom", message: "must be an origin like http://localhost:3000 (scheme, host, optional port; '*' is not allowed)" });
    return z.NEVER;
  }
  return origin.origin;
});

/** A comma list of browser origins; a wrong one is named on its own. */
export function originList(text: string, source: string): string[] {
  return splitList(text).map((origin) => check(OriginSchema, origin, source));
}

/** An http(s) URL with nothing a base URL must not carry: no query, fragment or credentials. */
export function plainHttpUrl(text: string): URL | null {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || !["http:", "https:"].includes(url.protocol) || url.search || url.hash || url.username || url.password) return null;
  return url;
}

/** Words an example's stand-in for a key is made of (REPLACE-WITH-THE-ADMIN-KEY, your-key-here, changeme). */
const PLACEHOLDER_WORDS =
  /^(?:replace|change|insert|enter|paste|put|set|your|with|me|this|here|the|a|an|my|real|own|admin|worker|deployment|api|secret|token|key|s)+$/;

/** An example's placeholder, not a key: made only of placeholder words, `<...>`, or one character repeated. */
function isPlaceholderKey(key: string): boolean {
  const words = key.toLowerCase().replace(/[^a-z0-9]/g, "");
  return /^<.*>$/s.test(key) || /^(.)\1*$/s.test(key) || PLACEHOLDER_WORDS.test(words);
}

/** A configured admin key, trimmed; null when none is set; refused when short or an example's placeholder. */
export function checkedAdminKey(raw: string | undefined, source: string): string | null {
  // Header values arrive trimmed, so surrounding whitespace could never match: drop it.
  const key = raw?.trim();
  if (!key) return null;
  // The LaunchAgent examples ship REPLACE-WITH-THE-ADMIN-KEY: left in, it would be a key anyone can read.
  if (isPlaceholderKey(key)) {
    throw new ConfigError(`${source}: that is an example's placeholder, not a key; set a real key, e.g. "$(openssl rand -base64 24)"`);
  }
  if (key.length < MIN_ADMIN_KEY_LENGTH) {
    // Never echo the key, not even a short one: only its length.
    throw new ConfigError(`${source}: the key has ${key.length} characters; use at least ${MIN_ADMIN_KEY_LENGTH}, e.g. "$(openssl rand -base64 24)"`);
  }
  return key;
}
