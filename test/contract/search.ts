import { describe, expect, it, vi } from "vitest";
import { expectInvalidParameter } from "../fixtures/errors.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";
import { type Summary, summaryOf } from "./expected.js";
import { type ContractRuntime, expectJson, KEY, type Target, VISIBLE_WITHIN_MS } from "./runtime.js";

export interface Searchable {
  title?: string;
  model?: string;
  tags?: string[];
  /** The first message, the user's (so also first_user_message: keep it single-spaced). */
  user?: string;
  /** The second message, the assistant's. */
  assistant?: string;
  /** Any messages after those two. */
  more?: unknown[];
  cwd?: string;
}

/** A session at `time` with neutral text, so only what the test adds can match; and its expected summary. */
export function searchable(id: string, time: string, fields: Searchable = {}): { session: Record<string, unknown>; summary: Summary } {
  const user = fields.user ?? "hello";
  const messages = [{ role: "user", content: user }, { role: "assistant", content: fields.assistant ?? "hi" }, ...(fields.more ?? [])];
  const common = { created: time, updated: time, model: fields.model ?? "plain-model", tags: fields.tags ?? [] };
  return {
    session: cliSession(id, { ...common, title: fields.title ?? "", messages, ...(fields.cwd !== undefined && { cwd: fields.cwd }) }),
    summary: summaryOf(id, { ...common, title: fields.title ?? null, message_count: messages.length, first_user_message: user }),
  };
}

export const T = "2026-03-01T00:00:00Z";

export function search(target: Target, q: string, extra = ""): Promise<Response> {
  return target.fetch(`/admin/sessions/search?q=${encodeURIComponent(q)}${extra}`, { headers: KEY });
}

/** The answer is exactly these sessions' summaries, in this order. */
async function expectFound(target: Target, q: string, found: readonly { summary: Summary }[], extra = ""): Promise<void> {
  await expectJson(
    await search(target, q, extra),
    200,
    found.map((entry) => entry.summary),
  );
}

/** GET /admin/sessions/search: matching, ranking, limits and validation. */
export function searchCases(runtime: ContractRuntime): void {
  const start = (entries: readonly { session: Record<string, unknown> }[], raw?: Record<string, string>) =>
    runtime.start({ sessions: entries.map((entry) => entry.session), raw });

  describe("GET /admin/sessions/search", () => {
    describe("matching", () => {
      const cases: [string, ReturnType<typeof searchable>][] = [
        ["the id", searchable("needle42", T)],
        ["the title", searchable("t", T, { title: "The Needle42 title" })],
        ["the model", searchable("m", T, { model: "needle42-7b" })],
        ["a tag", searchable("g", T, { tags: ["other", "NEEDLE42"] })],
        ["a user message", searchable("u", T, { user: "where is needle42?" })],
        ["a later user message", searchable("l", T, { more: [{ role: "user", content: "then needle42" }] })],
        ["an assistant message", searchable("a", T, { assistant: "found NeEdLe42" })],
        [
          "a text part",
          searchable("p", T, {
            more: [
              {
                role: "assistant",
                content: [
                  { type: "image_url", image_url: { url: "data:x" } },
                  { type: "text", text: "a needle42" },
                ],
              },
            ],
          }),
        ],
      ];
      it.each(cases)("finds a term, case-insensitively, in %s", async (_field, entry) => {
        const target = await start([entry, searchable("zzz", "2026-03-02T00:00:00Z")]);
        await expectFound(target, "NEEDLE42", [entry]);
      });

      it.each<[string, Searchable]>([
        ["a system prompt", { more: [{ role: "system", content: "secretword" }] }],
        ["a system prompt's text parts", { more: [{ role: "system", content: [{ type: "text", text: "secretword" }] }] }],
        ["tool output", { more: [{ role: "tool", tool_call_id: "c1", content: "secretword" }] }],
        ["tool output text parts", { more: [{ role: "tool", tool_call_id: "c1", content: [{ type: "text", text: "secretword" }] }] }],
        [
          "tool-call arguments",
          {
            more: [
              { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "grep", arguments: '{"q":"secretword"}' } }] },
            ],
          },
        ],
        ["an image part's url", { more: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x.test/secretword.png" } }] }] }],
        ["the working directory", { cwd: "/Users/dev/secretword" }],
      ])("does not search %s", async (_field, fields) => {
        const target = await start([searchable("abc", T, fields)]);
        await expectFound(target, "secretword", []);
      });

      it("requires every whitespace-separated term to match somewhere, never across two fields", async () => {
        const both = searchable("both", "2026-03-01T00:00:00Z", { title: "alpha", assistant: "beta" });
        const split = searchable("split", "2026-03-04T00:00:00Z", { model: "ALPHA", tags: ["Beta"] });
        const target = await start([
          both,
          searchable("onlyalpha", "2026-03-02T00:00:00Z", { title: "alpha" }),
          searchable("onlybeta", "2026-03-03T00:00:00Z", { model: "beta" }),
          split,
        ]);
        await expectFound(target, "alpha beta", [split, both]);
        await expectFound(target, "  alpha\t\n BETA  ", [split, both]);
        await expectFound(target, "alpha beta gamma", []);
        await expectFound(target, "alphabeta", []);
      });

      it("never finds damaged files or files that are not sessions", async () => {
        const good = searchable("goodone", T, { title: "broken needle" });
        const target = await start([good], {
          "broken.json": '{"id":"broken","title":"broken needle',
          "brokenarray.json": '[{"title":"broken needle"}]',
          "index.json": cliFile(cliSession("index", { title: "broken needle" })),
          "notes.txt": cliFile(cliSession("notes", { title: "broken needle" })),
        });
        await expectFound(target, "broken needle", [good]);
      });

      it("finds a session written behind its back within a second, and stops finding one removed", async () => {
        const target = await start([searchable("gone", T, { title: "kiwi" })]);
        await expectFound(target, "kiwi", [searchable("gone", T, { title: "kiwi" })]);
        const added = searchable("added", T, { assistant: "a kiwi" });
        await target.writeBehind("added.json", cliFile(added.session));
        await target.removeBehind("gone.json");
        await vi.waitFor(() => expectFound(target, "kiwi", [added]), VISIBLE_WITHIN_MS);
      });
    });

    describe("ranking", () => {
      it("ranks a hit in id, title or tag above model, and model above message text", async () => {
        const viaMessage = searchable("viamessage", "2026-03-05T00:00:00Z", { user: "zebra" });
        const viaModel = searchable("viamodel", "2026-03-04T00:00:00Z", { model: "zebra-7b" });
        const viaTag = searchable("viatag", "2026-03-03T00:00:00Z", { tags: ["zebra"] });
        const viaTitle = searchable("viatitle", "2026-03-02T00:00:00Z", { title: "Zebra" });
        const viaId = searchable("zebraid", "2026-03-01T00:00:00Z");
        const target = await start([viaMessage, viaModel, viaTag, viaTitle, viaId]);
        await expectFound(target, "zebra", [viaTag, viaTitle, viaId, viaModel, viaMessage]);
      });

      it("scores each term at the best field it hits and adds the terms up: two name hits, then a name and the user's words, then the model", async () => {
        const titleAndText = searchable("titleandtext", "2026-03-04T00:00:00Z", { title: "alpha", user: "beta" });
        const bothModel = searchable("bothmodel", "2026-03-03T00:00:00Z", { model: "alpha-beta", user: "alpha beta" });
        const titleAndTag = searchable("titleandtag", "2026-03-01T00:00:00Z", { title: "alpha", tags: ["beta"], model: "alpha-beta", user: "alpha beta" });
        const target = await start([titleAndText, bothModel, titleAndTag]);
        await expectFound(target, "alpha beta", [titleAndTag, titleAndText, bothModel]);
      });

      it("orders equal ranks as the list does: time descending, ties by id, no usable time last", async () => {
        const entries = [
          searchable("notime", "garbage", { title: "match" }),
          searchable("b", "2026-03-01T12:00:00+02:00", { title: "match" }),
          searchable("a", "2026-03-01T10:00:00Z", { title: "match" }),
          searchable("newest", "2026-03-01T11:00:00Z", { title: "match" }),
          searchable("old", "2026-01-01", { title: "match" }),
          searchable("anothernotime", "", { title: "match" }),
        ];
        const [notime, b, a, newest, old, anothernotime] = entries;
        const target = await start(entries);
        await expectFound(target, "match", [newest!, a!, b!, old!, anothernotime!, notime!]);
      });

      it("applies the limit after ranking over all sessions, 20 by default", async () => {
        const newer = Array.from({ length: 24 }, (_, i) =>
          searchable(`n${String(i).padStart(2, "0")}`, `2026-03-01T10:${String(i).padStart(2, "0")}:00Z`, { user: "kiwi in text" }),
        );
        const oldestBest = searchable("oldest", "2020-01-01T00:00:00Z", { title: "Kiwi" });
        const target = await start([...newer, oldestBest]);
        const listOrder = [...newer].reverse();
        await expectFound(target, "kiwi", [oldestBest], "&limit=1");
        await expectFound(target, "kiwi", [oldestBest, ...listOrder.slice(0, 19)]);
        await expectFound(target, "kiwi", [oldestBest, ...listOrder], "&limit=100");
      });
    });

    describe("parameters", () => {
      const Q_LENGTH = "q must be between 1 and 200 characters after trimming";
      it.each<[string, string, string]>([
        ["", "q", "q is required"],
        ["q=", "q", Q_LENGTH],
        ["q=%20%09%20", "q", Q_LENGTH],
        [`q=${"a".repeat(201)}`, "q", Q_LENGTH],
        [`q=${encodeURIComponent("😀".repeat(201))}`, "q", Q_LENGTH],
        ["q=a&q=b", "q", "q must be given only once"],
        ["q=a&limit=0", "limit", "limit must be an integer between 1 and 100"],
        ["q=a&limit=101", "limit", "limit must be an integer between 1 and 100"],
        ["q=a&limit=1&limit=2", "limit", "limit must be given only once"],
      ])("refuses ?%s with 400 naming the parameter", async (query, param, message) => {
        const target = await start([searchable("abc", T)]);
        await expectInvalidParameter(await target.fetch(`/admin/sessions/search?${query}`, { headers: KEY }), param, message);
      });

      it.each([
        ["200 characters after trimming", `  ${"a".repeat(200)}  `],
        ["200 emoji (code points, not UTF-16 units)", "😀".repeat(200)],
      ])("accepts %s", async (_label, q) => {
        const target = await start([searchable("abc", T)]);
        await expectFound(target, q, []);
      });
    });

    it("is not shadowed by /:id, even with a session named search", async () => {
      const named = searchable("search", T);
      const target = await start([named]);
      await expectFound(target, "search", [named]);
      await expectInvalidParameter(await target.fetch("/admin/sessions/search", { headers: KEY }), "q", "q is required");
      expect((await target.fetch("/admin/sessions/search/messages", { headers: KEY })).status).toBe(200);
    });
  });
}
