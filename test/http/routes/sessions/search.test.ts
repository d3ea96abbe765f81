import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type SessionSummary, SessionSummarySchema } from "../../../../src/http/schemas.js";
import { expectInvalidParameter } from "../../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, SUMMARY_KEYS, storeWith } from "../../../fixtures/sessions.js";

type App = ReturnType<typeof appFor>;

async function search(app: App, q: string, extra = ""): Promise<SessionSummary[]> {
  const res = await app.request(`/admin/sessions/search?q=${encodeURIComponent(q)}${extra}`, { headers: AUTH });
  expect(res.status).toBe(200);
  return z.array(SessionSummarySchema).parse(await res.json());
}

async function searchIds(app: App, q: string, extra = ""): Promise<string[]> {
  return (await search(app, q, extra)).map((session) => session.id);
}

/** A plain session at `time` with neutral text, so only what the test adds can match. */
function session(id: string, time: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return cliSession(id, {
    created: time,
    updated: time,
    title: "",
    model: "plain-model",
    tags: [],
    messages: [
      { role: "user", content: "hello" },
      { role: "assistant", content: "hi" },
    ],
    ...overrides,
  });
}

describe("GET /admin/sessions/search: answer shape", () => {
  it("answers a bare array of items with exactly the SessionSummary keys", async () => {
    const app = appFor(storeWith([cliSession("abc", { title: "Parser work", secret: "x", toolCallCount: 3 })]));
    const res = await app.request("/admin/sessions/search?q=parser", { headers: AUTH });
    expect(res.status).toBe(200);
    const body: unknown = await res.json();
    expect(Array.isArray(body)).toBe(true);
    const items = body as Record<string, unknown>[];
    expect(items).toHaveLength(1);
    expect(Object.keys(items[0] ?? {}).sort()).toEqual(SUMMARY_KEYS);
    expect(items[0]).toMatchObject({ id: "abc", title: "Parser work", message_count: 2 });
  });

  it("answers an empty array when nothing matches", async () => {
    expect(await search(appFor(storeWith([cliSession("abc")])), "nothingmatchesthis")).toEqual([]);
  });

  it("is not shadowed by /:id, even when a session named search exists", async () => {
    const store = storeWith([
      session("search", "2026-03-01T00:00:00Z", { title: "the search session" }),
      session("other", "2026-03-02T00:00:00Z", { title: "findme" }),
    ]);
    const app = appFor(store);
    expect(await searchIds(app, "findme")).toEqual(["other"]);
    expect(await searchIds(app, "search")).toEqual(["search"]);
    await expectInvalidParameter(await app.request("/admin/sessions/search", { headers: AUTH }), "q");
  });
});

describe("GET /admin/sessions/search: parameter validation", () => {
  const app = () => appFor(storeWith([session("abc", "2026-03-01T00:00:00Z", { title: "x".repeat(300) })]));

  it("refuses a missing q with 400 naming q", async () => {
    await expectInvalidParameter(await app().request("/admin/sessions/search", { headers: AUTH }), "q");
  });

  it.each(["", " ", "   \t\n  "])("refuses q=%j (empty after trimming) with 400 naming q", async (q) => {
    await expectInvalidParameter(await app().request(`/admin/sessions/search?q=${encodeURIComponent(q)}`, { headers: AUTH }), "q");
  });

  it("refuses a repeated q", async () => {
    await expectInvalidParameter(await app().request("/admin/sessions/search?q=a&q=b", { headers: AUTH }), "q");
  });

  it("accepts 200 characters after trimming surrounding whitespace", async () => {
    expect(await searchIds(app(), `   ${"x".repeat(200)}   `)).toEqual(["abc"]);
  });

  it("refuses 201 characters with 400 naming q", async () => {
    const q = "x".repeat(201);
    await expectInvalidParameter(await app().request(`/admin/sessions/search?q=${q}`, { headers: AUTH }), "q");
  });

  it("counts code points, so 200 emoji are accepted and 201 refused", async () => {
    await search(app(), "😀".repeat(200));
    const res = await app().request(`/admin/sessions/search?q=${encodeURIComponent("😀".repeat(201))}`, { headers: AUTH });
    await expectInvalidParameter(res, "q");
  });

  it("serves at most 20 results by default", async () => {
    const many = Array.from({ length: 25 }, (_, i) => session(`s${String(i).padStart(2, "0")}`, "2026-03-01T00:00:00Z", { title: "common" }));
    expect(await search(appFor(storeWith(many)), "common")).toHaveLength(20);
  });

  it.each([
    ["1", 1],
    ["100", 100],
  ])("accepts limit=%s", async (limit, expected) => {
    const many = Array.from({ length: 120 }, (_, i) => session(`s${String(i).padStart(3, "0")}`, "2026-03-01T00:00:00Z", { title: "common" }));
    expect(await search(appFor(storeWith(many)), "common", `&limit=${limit}`)).toHaveLength(expected);
  });

  it.each(["0", "101", "-1", "1.5", "abc", ""])("refuses limit=%j with 400 naming limit", async (limit) => {
    await expectInvalidParameter(await app().request(`/admin/sessions/search?q=x&limit=${encodeURIComponent(limit)}`, { headers: AUTH }), "limit");
  });
});

describe("GET /admin/sessions/search: matching", () => {
  it("matches a case-insensitive substring", async () => {
    const app = appFor(storeWith([session("abc", "2026-03-01T00:00:00Z", { title: "Refactor the Parser" })]));
    expect(await searchIds(app, "REFACTOR")).toEqual(["abc"]);
    expect(await searchIds(app, "factor THE pars")).toEqual(["abc"]);
    expect(await searchIds(app, "parsers")).toEqual(["abc"]); // one typo from "parser"
    expect(await searchIds(app, "parsersx")).toEqual([]);
  });

  it.each([
    ["id", session("needle42", "2026-03-01T00:00:00Z")],
    ["title", session("t", "2026-03-01T00:00:00Z", { title: "The Needle42 title" })],
    ["model", session("m", "2026-03-01T00:00:00Z", { model: "needle42-7b" })],
    ["a tag", session("g", "2026-03-01T00:00:00Z", { tags: ["other", "NEEDLE42"] })],
    ["a user message", session("u", "2026-03-01T00:00:00Z", { messages: [{ role: "user", content: "where is needle42?" }] })],
    [
      "a later user message",
      session("l", "2026-03-01T00:00:00Z", {
        messages: [
          { role: "user", content: "first" },
          { role: "assistant", content: "ok" },
          { role: "user", content: "then needle42" },
        ],
      }),
    ],
    ["an assistant message", session("a", "2026-03-01T00:00:00Z", { messages: [{ role: "assistant", content: "found needle42" }] })],
    [
      "a text part",
      session("p", "2026-03-01T00:00:00Z", {
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: "data:x" } },
              { type: "text", text: "a needle42 here" },
            ],
          },
        ],
      }),
    ],
  ])("finds a term in %s", async (_field, found) => {
    const app = appFor(storeWith([found, session("zzz", "2026-03-02T00:00:00Z")]));
    expect(await searchIds(app, "needle42")).toEqual([String(found.id)]);
  });

  it.each([
    ["a system prompt", { messages: [{ role: "system", content: "secretword" }] }],
    ["a system prompt's text parts", { messages: [{ role: "system", content: [{ type: "text", text: "secretword" }] }] }],
    ["tool output", { messages: [{ role: "tool", tool_call_id: "c1", content: "secretword" }] }],
    ["tool output text parts", { messages: [{ role: "tool", tool_call_id: "c1", content: [{ type: "text", text: "secretword" }] }] }],
    [
      "tool-call arguments",
      {
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "grep", arguments: '{"pattern":"secretword"}' } }],
          },
        ],
      },
    ],
    ["an image part's url", { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x.test/secretword.png" } }] }] }],
    ["the working directory", { cwd: "/Users/dev/secretword" }],
  ])("does not search %s", async (_field, overrides) => {
    const app = appFor(storeWith([session("abc", "2026-03-01T00:00:00Z", overrides)]));
    expect(await searchIds(app, "secretword")).toEqual([]);
  });

  it("requires every whitespace-separated term to match somewhere (AND)", async () => {
    const app = appFor(
      storeWith([
        session("both", "2026-03-01T00:00:00Z", { title: "alpha", messages: [{ role: "assistant", content: "beta" }] }),
        session("onlyalpha", "2026-03-02T00:00:00Z", { title: "alpha" }),
        session("onlybeta", "2026-03-03T00:00:00Z", { model: "beta" }),
        session("split", "2026-03-04T00:00:00Z", { model: "ALPHA", tags: ["Beta"] }),
      ]),
    );
    expect(await searchIds(app, "alpha beta")).toEqual(["split", "both"]);
    expect(await searchIds(app, "  alpha\t\n beta  ")).toEqual(["split", "both"]);
    expect(await searchIds(app, "alpha beta gamma")).toEqual([]);
  });

  it("does not match a term across two fields", async () => {
    const app = appFor(storeWith([session("abc", "2026-03-01T00:00:00Z", { title: "foo", tags: ["bar"] })]));
    expect(await searchIds(app, "foobar")).toEqual([]);
    expect(await searchIds(app, "foo bar")).toEqual(["abc"]);
  });

  it("never finds damaged files, whatever their name or text", async () => {
    const store = storeWith([session("goodone", "2026-03-01T00:00:00Z", { title: "broken things" })], {
      "broken.json": '{"id":"broken","title":"broken',
      "brokenarray.json": '[{"title":"broken"}]',
      "brokennull.json": "null",
    });
    store.putDirectory("brokendir.json");
    expect(await searchIds(appFor(store), "broken")).toEqual(["goodone"]);
  });

  it("never finds index.json or other non-session files", async () => {
    const store = storeWith([], {
      "index.json": cliFile(cliSession("index", { title: "needle" })),
      "notes.txt": cliFile(cliSession("notes", { title: "needle" })),
      ".hidden.json": cliFile(cliSession("hidden", { title: "needle" })),
    });
    expect(await searchIds(appFor(store), "needle")).toEqual([]);
  });
});

describe("GET /admin/sessions/search: ranking", () => {
  it("ranks a hit in id, title or tag above model, and model above message text", async () => {
    const app = appFor(
      storeWith([
        session("viamessage", "2026-03-05T00:00:00Z", { messages: [{ role: "user", content: "zebra" }] }),
        session("viamodel", "2026-03-04T00:00:00Z", { model: "zebra-7b" }),
        session("viatag", "2026-03-03T00:00:00Z", { tags: ["zebra"] }),
        session("viatitle", "2026-03-02T00:00:00Z", { title: "Zebra" }),
        session("zebraid", "2026-03-01T00:00:00Z"),
      ]),
    );
    expect(await searchIds(app, "zebra")).toEqual(["viatag", "viatitle", "zebraid", "viamodel", "viamessage"]);
  });

  it("places each term at the best field it hits", async () => {
    const app = appFor(
      storeWith([
        session("newer", "2026-03-02T00:00:00Z", { model: "zebra", messages: [{ role: "user", content: "zebra" }] }),
        session("older", "2026-03-01T00:00:00Z", { title: "zebra", model: "zebra", messages: [{ role: "user", content: "zebra" }] }),
      ]),
    );
    expect(await searchIds(app, "zebra")).toEqual(["older", "newer"]);
  });

  it("adds up each term's score at the best field it hits", async () => {
    const app = appFor(
      storeWith([
        // alpha in the title (3) and beta in the user's words (1.4)
        session("titleandtext", "2026-03-03T00:00:00Z", { title: "alpha", messages: [{ role: "user", content: "beta" }] }),
        // both terms in the model (1.5 each)
        session("bothmodel", "2026-03-02T00:00:00Z", { model: "alpha-beta" }),
        // both terms in title or tags (3 each): best
        session("titleandtag", "2026-03-01T00:00:00Z", { title: "alpha", tags: ["beta"] }),
      ]),
    );
    expect(await searchIds(app, "alpha beta")).toEqual(["titleandtag", "titleandtext", "bothmodel"]);
  });

  it("orders equal ranks by list order: time descending, ties by id, no usable time last", async () => {
    const app = appFor(
      storeWith([
        session("notime", "garbage", { title: "match" }),
        session("b", "2026-03-01T12:00:00+02:00", { title: "match" }), // 10:00Z
        session("a", "2026-03-01T10:00:00Z", { title: "match" }),
        session("newest", "2026-03-01T11:00:00Z", { title: "match" }),
        session("old", "2026-01-01T00:00:00Z", { title: "match" }),
        cliSession("fromcreated", { created: "2026-02-01T00:00:00Z", updated: "nope", title: "match", tags: [] }),
        session("anothernotime", "", { title: "match" }),
      ]),
    );
    expect(await searchIds(app, "match")).toEqual(["newest", "a", "b", "fromcreated", "old", "anothernotime", "notime"]);
  });

  it("applies the limit after ranking over all sessions", async () => {
    const newer = Array.from({ length: 30 }, (_, i) =>
      session(`n${String(i).padStart(2, "0")}`, `2026-03-01T10:${String(i).padStart(2, "0")}:00Z`, {
        messages: [{ role: "user", content: "kiwi in text" }],
      }),
    );
    const oldestBest = session("oldest", "2020-01-01T00:00:00Z", { title: "Kiwi" });
    const app = appFor(storeWith([...newer, oldestBest]));
    expect(await searchIds(app, "kiwi", "&limit=1")).toEqual(["oldest"]);
    const top = await searchIds(app, "kiwi");
    expect(top).toHaveLength(20);
    expect(top[0]).toBe("oldest");
  });
});
