import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/node/pino-logger.js";
import { ESCAPED, HOSTILE } from "../fixtures/hostile-line.js";

function collected(format: "text" | "json") {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk) => (text += chunk));
  return { logger: createLogger(format, stream), text: () => text };
}

describe("the pino logger's lines", () => {
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
});
