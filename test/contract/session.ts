import { describe, expect, it, vi } from "vitest";
import { expectError, expectInvalidParameter, SESSION_CORRUPT, SESSION_ID_RULES, SESSION_NOT_FOUND } from "../fixtures/errors.js";
import { cliFile, cliSession, MESSAGES_OF_EVERY_SHAPE } from "../fixtures/sessions.js";
import { fullOf, summaryOf } from "./expected.js";
import { type ContractRuntime, expectJson, KEY, VISIBLE_WITHIN_MS } from "./runtime.js";

const DAMAGED = { "broken.json": '{"id": "broken", "title": "half of', "array.json": "[1, 2]", "null.json": "null", "empty.json": "" };

const BAD_IDS: [string, string][] = [
  ["129 characters", "a".repeat(129)],
  ["a dot", "a.b"],
  ["a .json suffix", "abc.json"],
  ["an encoded slash", "a%2Fb"],
  ["an encoded path traversal", "..%2F..%2Fabc"],
  ["an encoded backslash", "a%5Cb"],
  ["an encoded NUL", "a%00b"],
  ["a space", "a%20b"],
  ["a non-ASCII letter", encodeURIComponent("café")],
  ["an emoji", encodeURIComponent("😀")],
];

/** GET /admin/sessions/:id and its messages, and which ids exist. */
export function sessionCases(runtime: ContractRuntime): void {
  describe("GET /admin/sessions/:id", () => {
    it("answers every summary field plus cwd, messages exactly as stored, tool_call_count and compacted", async () => {
      const fields = {
        created: "2026-03-01T10:22:31.123Z",
        updated: "2026-03-02T08:00:00.000Z",
        model: "mlx-community/Llama-3.3-70B-4bit",
        cwd: "/Users/dev/opta",
        title: "Read a file — « ok » 🌞",
        tags: ["files", "naïve"],
      };
      const target = await runtime.start({
        sessions: [cliSession("abc123", { ...fields, tags: ["files", 3, "naïve"], messages: MESSAGES_OF_EVERY_SHAPE, toolCallCount: 1, compacted: true })],
      });
      await expectJson(
        await target.fetch("/admin/sessions/abc123", { headers: KEY }),
        200,
        fullOf("abc123", {
          ...fields,
          message_count: 10, // every entry but the system message
          first_user_message: "look at this",
          messages: [...MESSAGES_OF_EVERY_SHAPE],
          tool_call_count: 1,
          compacted: true,
        }),
      );
    });

    it("answers the same summary fields as the list", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { title: " \t", model: 7, updated: "", tags: ["x"] })] });
      const summary = summaryOf("abc", { title: null, model: null, tags: ["x"] });
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, { sessions: [summary], total: 1, limit: 50, offset: 0 });
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc", { title: null, model: null, tags: ["x"] }));
    });

    it("fills missing or wrong-typed fields with their empty values and still serves the session", async () => {
      const target = await runtime.start({
        raw: { "bare.json": cliFile({ cwd: 5, messages: "nope", tags: null, created: 3, toolCallCount: -1, compacted: "yes" }) },
      });
      const empty = { title: null, model: null, created: "", message_count: 0, first_user_message: null, cwd: "", messages: [] };
      await expectJson(await target.fetch("/admin/sessions/bare", { headers: KEY }), 200, fullOf("bare", empty));
    });

    it("answers under the requested id when the file's inner id differs", async () => {
      const target = await runtime.start({ raw: { "outer.json": cliFile(cliSession("inner")) } });
      const inner = fullOf("inner");
      await expectJson(await target.fetch("/admin/sessions/outer", { headers: KEY }), 200, { ...inner, id: "outer" });
    });

    it.each<[string, unknown[], string | null]>([
      [
        "joins text parts with a space and makes every run of whitespace one space",
        [
          {
            role: "user",
            content: [
              { type: "text", text: " a\n\nb " },
              { type: "text", text: "c" },
            ],
          },
        ],
        "a b c",
      ],
      [
        "cuts to 200 code points without splitting astral characters",
        [{ role: "user", content: `  ${"😀".repeat(150)} ${"x".repeat(100)}` }],
        `${"😀".repeat(150)} ${"x".repeat(49)}`,
      ],
      ["keeps no trailing space after the cut", [{ role: "user", content: `${"y".repeat(199)} z` }], `${"y".repeat(199)} `],
      [
        "uses only the first user message",
        [
          { role: "assistant", content: "hi" },
          { role: "user", content: [{ type: "image_url" }] },
          { role: "user", content: "later" },
        ],
        null,
      ],
      ["is null without a user message", [{ role: "system", content: "s" }], null],
    ])("first_user_message %s", async (_rule, messages, expected) => {
      const target = await runtime.start({ sessions: [cliSession("fum", { messages })] });
      await expectJson(
        await target.fetch("/admin/sessions/fum", { headers: KEY }),
        200,
        fullOf("fum", { messages, message_count: messages.filter((m) => (m as { role?: string }).role !== "system").length, first_user_message: expected }),
      );
    });

    it("answers an id given with encodeURIComponent, and one of 128 characters", async () => {
      const long = "L".repeat(128);
      const target = await runtime.start({ sessions: [cliSession("a_b-C9"), cliSession(long)] });
      await expectJson(await target.fetch(`/admin/sessions/${encodeURIComponent("a_b-C9")}`, { headers: KEY }), 200, fullOf("a_b-C9"));
      await expectJson(await target.fetch(`/admin/sessions/${long}`, { headers: KEY }), 200, fullOf(long));
    });

    it("answers 404 session_not_found for an id with no session", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectError(await target.fetch("/admin/sessions/nosuch", { headers: KEY }), 404, SESSION_NOT_FOUND);
    });

    it.each(Object.keys(DAMAGED))("answers 422 session_corrupt for the damaged file %s", async (name) => {
      const target = await runtime.start({ raw: DAMAGED });
      await expectError(await target.fetch(`/admin/sessions/${name.replace(".json", "")}`, { headers: KEY }), 422, SESSION_CORRUPT);
    });

    it.each(BAD_IDS)("answers 400 naming id for %s", async (_label, id) => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectInvalidParameter(await target.fetch(`/admin/sessions/${id}`, { headers: KEY }), "id", SESSION_ID_RULES);
      await expectInvalidParameter(await target.fetch(`/admin/sessions/${id}/messages`, { headers: KEY }), "id", SESSION_ID_RULES);
    });

    it.each(["index", "INDEX", "Index"])("answers 404 for %s, even beside an index.json holding a session", async (id) => {
      const target = await runtime.start({ raw: { "index.json": cliFile(cliSession("index")), "INDEX.json": cliFile(cliSession("INDEX")) } });
      await expectError(await target.fetch(`/admin/sessions/${id}`, { headers: KEY }), 404, SESSION_NOT_FOUND);
      await expectError(await target.fetch(`/admin/sessions/${id}/messages`, { headers: KEY }), 404, SESSION_NOT_FOUND);
    });

    it("reads a session written or removed behind its back at once", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc"));
      await target.writeBehind("abc.json", cliFile(cliSession("abc", { title: "changed" })));
      await expectJson(await target.fetch("/admin/sessions/abc", { headers: KEY }), 200, fullOf("abc", { title: "changed" }));
      await target.removeBehind("abc.json");
      await expectError(await target.fetch("/admin/sessions/abc", { headers: KEY }), 404, SESSION_NOT_FOUND);
      await vi.waitFor(
        async () => expect(((await (await target.fetch("/admin/sessions", { headers: KEY })).json()) as { total: number }).total).toBe(0),
        VISIBLE_WITHIN_MS,
      );
    });
  });

  describe("GET /admin/sessions/:id/messages", () => {
    const MESSAGES = Array.from({ length: 250 }, (_, i) => (i % 50 === 7 ? i : { role: i % 2 ? "assistant" : "user", content: `message ${i}`, extra: { i } }));
    const start = () => runtime.start({ sessions: [cliSession("big", { messages: MESSAGES })], raw: { "broken.json": "{" } });

    it("answers the first 100 messages by default, exactly as stored, with the total", async () => {
      const target = await start();
      await expectJson(await target.fetch("/admin/sessions/big/messages", { headers: KEY }), 200, { messages: MESSAGES.slice(0, 100), total: 250, offset: 0 });
    });

    it("pages through every message exactly once, and answers an empty page past the end", async () => {
      const target = await start();
      for (let offset = 0; offset < 250; offset += 77) {
        const res = await target.fetch(`/admin/sessions/big/messages?offset=${offset}&limit=77`, { headers: KEY });
        await expectJson(res, 200, { messages: MESSAGES.slice(offset, offset + 77), total: 250, offset });
      }
      await expectJson(await target.fetch("/admin/sessions/big/messages?offset=1000&limit=500", { headers: KEY }), 200, {
        messages: [],
        total: 250,
        offset: 1000,
      });
    });

    it.each<[string, string, string]>([
      ["limit=0", "limit", "limit must be an integer between 1 and 500"],
      ["limit=501", "limit", "limit must be an integer between 1 and 500"],
      ["offset=-1", "offset", `offset must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}`],
      ["offset=1&offset=2", "offset", "offset must be given only once"],
    ])("refuses %s with 400 naming the parameter", async (query, param, message) => {
      const target = await start();
      await expectInvalidParameter(await target.fetch(`/admin/sessions/big/messages?${query}`, { headers: KEY }), param, message);
    });

    it("answers 404 and 422 as GET of the session does", async () => {
      const target = await start();
      await expectError(await target.fetch("/admin/sessions/missing/messages", { headers: KEY }), 404, SESSION_NOT_FOUND);
      await expectError(await target.fetch("/admin/sessions/broken/messages", { headers: KEY }), 422, SESSION_CORRUPT);
    });
  });
}
