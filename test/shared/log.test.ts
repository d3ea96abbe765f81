import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/node/pino-logger.js";
import { consoleLogger, printable, printableError } from "../../src/shared/log.js";

const HOSTILE = "a\nINFO: forged\r\u001b[31m\u007f\u0085\u2028\u2029\u202e\u200f\u061c\u2066b";
const ESCAPED = "a\\u000aINFO: forged\\u000d\\u001b[31m\\u007f\\u0085\\u2028\\u2029\\u202e\\u200f\\u061c\\u2066b";

function collected(format: "text" | "json") {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk) => (text += chunk));
  return { logger: createLogger(format, stream), text: () => text };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log lines", () => {
  it("writes control, separator and bidi characters as escapes, and leaves the rest alone", () => {
    expect(printable(HOSTILE)).toBe(ESCAPED);
    expect(printable("plain é 中 \t")).toBe("plain é 中 \\u0009");
  });

  it.each(["text", "json"] as const)("keeps one event on one line in the %s log, an error's message included", async (format) => {
    const { logger, text } = collected(format);
    logger.info(`GET /${HOSTILE} 404 1ms`, { requestId: "r1" });
    logger.error(`reading ${HOSTILE}`, Object.assign(new TypeError(`ENOENT ${HOSTILE}`), { path: HOSTILE }), { requestId: "r2" });
    await new Promise((resolve) => setImmediate(resolve));
    const lines = text().trimEnd().split("\n");
    if (format === "json") expect(lines).toHaveLength(2);
    for (const line of lines.filter((line) => line.includes("forged"))) expect(line).toMatch(/\\u000aINFO: forged/);
    expect(text()).not.toMatch(/(?!\n)\p{Cc}|[\u2028\u2029\u202e\u200f\u061c\u2066]/u);
    expect(text()).toContain(format === "text" ? ESCAPED : ESCAPED.replaceAll("\\", "\\\\"));
    expect(text()).toContain("TypeError");
  });

  it("escapes the Worker's console lines too", () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    consoleLogger.info(HOSTILE);
    consoleLogger.error(HOSTILE, new Error(HOSTILE));
    expect(lines.map((line) => JSON.parse(line) as { msg: string; err?: string })).toEqual([
      { level: "info", msg: ESCAPED },
      { level: "error", msg: ESCAPED, err: `Error: ${ESCAPED}` },
    ]);
    expect(lines.join("")).not.toMatch(/\p{Cc}|[\u2028\u2029\u202e\u200f\u061c\u2066]/u);
  });
});

describe("printableError", () => {
  it("keeps an error's cause (made printable too), which loggers show as the chain", () => {
    const error = new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED\n127.0.0.1:9"), { code: "ECONNREFUSED" }) });
    const copy = printableError(error) as TypeError & { cause: Error & { code: string } };
    expect(copy).toBeInstanceOf(TypeError);
    expect(copy.cause.message).toBe("connect ECONNREFUSED\\u000a127.0.0.1:9");
    expect(copy.cause.code).toBe("ECONNREFUSED");
  });
});
