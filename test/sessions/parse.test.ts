import { describe, expect, it } from "vitest";
import { MAX_NESTING, parseSessionFile } from "../../src/sessions/parse.js";
import { browserInstant } from "../../src/sessions/time.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";

const MTIME = Date.parse("2026-01-02T03:04:05.678Z");

function parsed(overrides: Record<string, unknown>) {
  const result = parseSessionFile("abc", cliFile(cliSession("abc", overrides)), MTIME);
  if (!result) throw new Error("not a session");
  return result.session;
}

const firstOf = (content: unknown) => parsed({ messages: [{ role: "user", content }] }).first_user_message;

/** The least of a few runs: the figure least disturbed by whatever else the machine is doing. */
function fastestMs(run: () => unknown, runs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

describe("first_user_message", () => {
  it.each<[string, unknown, string | null]>([
    ["removes control characters, keeps whitespace ones as spaces", "\u0000a\u0001b\tc\r\nd\u007f\u0085e", "ab c de"],
    ["makes a run of whitespace and control characters one space", "a \u0000\u0000 \n b", "a b"],
    [
      "joins text parts with a space, even around control characters",
      [
        { type: "text", text: "a\u0000" },
        { type: "text", text: "\u0000b" },
      ],
      "a b",
    ],
    ["is null when only control characters and whitespace remain", "\u0000 \u0001\n", null],
    ["keeps U+FFFD and lone surrogates (not control characters)", "\ufffdx\ud83d", "\ufffdx\ud83d"],
    ["counts astral characters as one code point", `${"😀".repeat(201)}`, "😀".repeat(200)],
    ["keeps a space the cut ends on", `${"y".repeat(199)} \u0000 z`, `${"y".repeat(199)} `],
  ])("%s", (_rule, content, expected) => {
    expect(firstOf(content)).toBe(expected);
  });

  it("costs what the first 200 code points cost, not what the message holds (50 MiB)", () => {
    const text = cliFile(cliSession("abc", { messages: [{ role: "user", content: `  start ${"word ".repeat(10 * 1024 * 1024)}` }] }));
    // Parsing the file is the floor: the summary's share must stay small beside it (materializing the whole message took ~100 times as long).
    const parse = fastestMs(() => JSON.parse(text));
    let first: string | null | undefined;
    const session = fastestMs(() => {
      first = parseSessionFile("abc", text, MTIME)?.session.first_user_message;
    }, 1);
    expect(first).toBe(`start${" word".repeat(39)}`);
    expect(session).toBeLessThan(parse * 3 + 50);
  });
});

describe("message_count", () => {
  it("counts every entry of messages but system ones, whatever their shape", () => {
    const messages = [{ role: "system" }, { role: "user" }, { role: "System" }, null, 3, "s", [], { role: "tool" }, { role: "system", content: "x" }];
    expect(parsed({ messages }).message_count).toBe(7);
  });
});

describe("a file that is not one JSON object", () => {
  const session = cliFile(cliSession("abc"));

  it.each([
    ["the tail of a longer save", `${session}\n  ],\n  "toolCallCount": 0,\n  "compacted": false\n}`],
    ["a second whole save", `${session}${session}`],
    ["a byte-order mark and garbage", `\ufeff${session}xyz`],
    ["braces and quotes inside strings", `${cliFile(cliSession("abc", { title: 'a "}" {[ \\" ]' }))}}}]`],
  ])("is read from its leading object, marked trailing, after %s", (_label, text) => {
    const result = parseSessionFile("abc", text, MTIME);
    expect(result?.trailing).toBe(true);
    expect(result?.session.message_count).toBe(2);
  });

  it("is not trailing when whole", () => {
    expect(parseSessionFile("abc", `${session}\n  `, MTIME)?.trailing).toBe(false);
  });

  it.each([
    ["truncated", session.slice(0, -1)],
    ["truncated inside a string", session.slice(0, 40)],
    ["an array followed by bytes", "[1] {}"],
    ["a leading object that is not JSON", "{'a': 1} x"],
    ["empty", ""],
  ])("is not a session when %s", (_label, text) => {
    expect(parseSessionFile("abc", text, MTIME)).toBeNull();
  });
});

describe("nesting", () => {
  const nested = (levels: number) => `{"messages":[${"[".repeat(levels)}${"]".repeat(levels)}]}`;

  it(`serves a session nested ${MAX_NESTING} levels deep and refuses one level more`, () => {
    // The file's object is level 0, messages level 1: MAX_NESTING - 1 arrays inside it reach level MAX_NESTING.
    expect(parseSessionFile("abc", nested(MAX_NESTING - 1), MTIME)).not.toBeNull();
    expect(parseSessionFile("abc", nested(MAX_NESTING), MTIME)).toBeNull();
    expect(parseSessionFile("abc", nested(100_000), MTIME)).toBeNull();
  });

  it("keeps every session it serves serializable", () => {
    const session = parseSessionFile("abc", nested(MAX_NESTING - 1), MTIME)?.session;
    expect(() => JSON.stringify(session)).not.toThrow();
  });
});

describe("created_at and updated_at", () => {
  it.each<[string, string]>([
    ["2026-03-01T10:22:31.123Z", "2026-03-01T10:22:31.123Z"],
    ["2026-03-01T12:22:31+02:00", "2026-03-01T12:22:31+02:00"],
    ["2026-03-01", "2026-03-01"],
    // Instants a browser may read otherwise (local time, or not at all) are sent as the same instant in UTC.
    ["2026-03-01T10:22:31", "2026-03-01T10:22:31.000Z"],
    ["2026-03-01 10:22:31Z", "2026-03-01T10:22:31.000Z"],
    ["2026-03-01T12:22:31.5+0200", "2026-03-01T10:22:31.500Z"],
    ["", "2026-01-02T03:04:05.678Z"],
    ["not a date", "2026-01-02T03:04:05.678Z"],
    ["2026-02-30", "2026-01-02T03:04:05.678Z"],
  ])("sends %j as %j", (time, expected) => {
    expect(browserInstant(time, MTIME)).toBe(expected);
    const session = parsed({ created: time, updated: time });
    expect([session.created_at, session.updated_at]).toEqual([expected, expected]);
    expect(Number.isNaN(Date.parse(session.created_at))).toBe(false);
  });

  it("rounds a modification time with a fraction of a millisecond (as stat gives it)", () => {
    expect(browserInstant("", MTIME + 0.9999)).toBe("2026-01-02T03:04:05.679Z");
  });
});
