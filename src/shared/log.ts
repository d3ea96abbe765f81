/** What ties a log line to one request; the Node edge prints it in text or JSON. */
export interface LogFields {
  requestId?: string;
}

/** Where the app writes its lines; the Node entry prints them, tests collect or drop them. */
export interface Logger {
  info(line: string, fields?: LogFields): void;
  warn(line: string, fields?: LogFields): void;
  error(line: string, error?: unknown, fields?: LogFields): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/**
 * What may not reach a log line or a terminal as itself: C0 and C1 controls (a newline would start a forged
 * line, an escape sequence would drive the terminal), format characters (bidi overrides and isolates,
 * zero-width marks, which reorder or hide what is shown), line and paragraph separators, and lone
 * surrogates. A request's path, a file name, an error message or a deployment's answer can hold any of them.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** The text with each such character written as its escape (`\u202e`, `\u{e0041}`): one event is always one line. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (char) => {
    const code = char.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** The error as it may be logged (same class, so loggers name it): its message, stack frames and string fields made printable. */
export function printableError(error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === "string" ? printable(error) : error;
  const copy: Error = Object.create(Object.getPrototypeOf(error));
  for (const [name, value] of Object.entries(error)) Object.assign(copy, { [name]: typeof value === "string" ? printable(value) : value });
  const head = `${error.name}: ${error.message}`;
  const frames = error.stack?.startsWith(head) ? error.stack.slice(head.length) : "";
  if (error.cause !== undefined) copy.cause = printableError(error.cause); // not enumerable: copied by name (pino logs the chain)
  copy.message = printable(error.message);
  copy.stack = `${printable(error.name)}: ${copy.message}${frames.split("\n").map(printable).join("\n")}`;
  return copy;
}

/** For the Worker: console lines, which `wrangler tail` and the dashboard's logs show (JSON, one object a line). */
export const consoleLogger: Logger = {
  info: (line, fields) => console.log(JSON.stringify({ level: "info", msg: printable(line), ...fields })),
  warn: (line, fields) => console.warn(JSON.stringify({ level: "warn", msg: printable(line), ...fields })),
  error: (line, error, fields) => {
    const err = printable(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    console.error(JSON.stringify({ level: "error", msg: printable(line), err, ...fields }));
  },
};
