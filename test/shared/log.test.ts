import { afterEach, describe, expect, it, vi } from "vitest";
import { consoleLogger, printable, printableError } from "../../src/shared/log.js";
import { ESCAPED, HOSTILE } from "../fixtures/hostile-line.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log lines", () => {
  it("writes control, separator and bidi characters as escapes, and leaves the rest alone", () => {
    expect(printable(HOSTILE)).toBe(ESCAPED);
    expect(printable("plain é 中 \t")).toBe("plain é 中 \\u0009");
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

describe("printable: what logs and sync print", () => {
  it("shows bidi controls as escapes, so a line cannot be reordered on screen", () => {
    expect(printable("failed \u202eevil\u202c and \u2066iso\u2069 \u200f\u061c")).toBe("failed \\u202eevil\\u202c and \\u2066iso\\u2069 \\u200f\\u061c");
  });

  it("shows C0 and C1 controls, separators and zero-width marks as escapes", () => {
    expect(printable("a\u001b[2Jb\rc\u0007d\u009b31me\u2028f\u200bg\ufeffh\tI")).toBe(
      "a\\u001b[2Jb\\u000dc\\u0007d\\u009b31me\\u2028f\\u200bg\\ufeffh\\u0009I",
    );
    expect(printable("tag \u{e0041}")).toBe("tag \\u{e0041}");
  });

  it("leaves ordinary text as it is", () => {
    expect(printable("synced to https://x: café ☕ 12 uploaded")).toBe("synced to https://x: café ☕ 12 uploaded");
  });
});
