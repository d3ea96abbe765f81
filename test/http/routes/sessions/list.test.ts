import { describe, expect, it } from "vitest";
import { type SessionList, SessionListSchema, type SessionSummary } from "../../../../src/http/schemas.js";
import { expectInvalidParameter } from "../../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, recordingLogger, SUMMARY_KEYS, storeWith } from "../../../fixtures/sessions.js";

type App = ReturnType<typeof appFor>;

async function list(app: App, query = ""): Promise<SessionList> {
  const res = await app.request(`/admin/sessions${query}`, { headers: AUTH });
  expect(res.status).toBe(200);
  return SessionListSchema.parse(await res.json());
}

function idsOf(page: SessionList): string[] {
  return page.sessions.map((session) => session.id);
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

/** The summary the list gives for a store holding just this session. */
async function summaryOf(session: Record<string, unknown>): Promise<SessionSummary> {
  return only((await list(appFor(storeWith([session])))).sessions);
}

function without(session: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const copy = { ...session };
  for (const key of keys) delete copy[key];
  return copy;
}

/** A session whose created and updated are both `time`. */
function at(id: string, time: unknown, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return cliSession(id, { created: time, updated: time, ...overrides });
}

describe("GET /admin/sessions: the summary of a session", () => {
  it("sends every SessionSummary field of a well-formed CLI session", async () => {
    const summary = await summaryOf(
      cliSession("abc123", {
        created: "2026-03-01T10:22:31.123Z",
        updated: "2026-03-02T08:00:00.000Z",
        model: "mlx-community/Llama-3.3-70B-4bit",
        title: "Fix the parser",
        tags: ["bugfix", "parser"],
      }),
    );
    expect(summary).toStrictEqual({
      id: "abc123",
      title: "Fix the parser",
      model: "mlx-community/Llama-3.3-70B-4bit",
      tags: ["bugfix", "parser"],
      created: "2026-03-01T10:22:31.123Z",
      updated: "2026-03-02T08:00:00.000Z",
      created_at: "2026-03-01T10:22:31.123Z",
      updated_at: "2026-03-02T08:00:00.000Z",
      message_count: 2,
      first_user_message: "question from abc123",
    });
  });

  it("sends exactly the SessionSummary keys, never file-only fields or unknown keys", async () => {
    const store = storeWith([cliSession("abc", { secret: "do not send", toolCallCount: 4, compacted: true })]);
    const res = await appFor(store).request("/admin/sessions", { headers: AUTH });
    const body = (await res.json()) as { sessions: Record<string, unknown>[] };
    expect(Object.keys(body).sort()).toEqual(["limit", "offset", "sessions", "total"]);
    expect(Object.keys(only(body.sessions)).sort()).toEqual(SUMMARY_KEYS);
  });

  it.each([
    ["an empty string", ""],
    ["only whitespace", " \t\n "],
    ["a number", 42],
    ["null", null],
    ["an array", ["title"]],
  ])("sends title and model as null when the file has %s there", async (_label, value) => {
    const summary = await summaryOf(cliSession("abc", { title: value, model: value }));
    expect(summary.title).toBeNull();
    expect(summary.model).toBeNull();
  });

  it("sends title and model as null when the file has no such keys", async () => {
    const summary = await summaryOf(without(cliSession("abc"), "title", "model"));
    expect(summary.title).toBeNull();
    expect(summary.model).toBeNull();
  });

  it("sends a title with surrounding spaces exactly as the file has it", async () => {
    expect((await summaryOf(cliSession("abc", { title: "  Spaced  " }))).title).toBe("  Spaced  ");
  });

  it("drops tags that are not strings and keeps the rest in order", async () => {
    const summary = await summaryOf(cliSession("abc", { tags: ["a", 1, null, "b", { tag: "c" }, ["d"], true, ""] }));
    expect(summary.tags).toEqual(["a", "b", ""]);
  });

  it.each([
    ["missing", undefined],
    ["a string", "bugfix"],
    ["an object", { 0: "bugfix" }],
  ])("sends tags as [] when the file's tags are %s", async (_label, value) => {
    const session = value === undefined ? without(cliSession("abc"), "tags") : cliSession("abc", { tags: value });
    expect((await summaryOf(session)).tags).toEqual([]);
  });

  it.each([
    ["missing", undefined],
    ["an empty string", ""],
    ["a number", 1_700_000_000_000],
    ["null", null],
  ])("falls back to created for updated when updated is %s", async (_label, value) => {
    const base = cliSession("abc", { created: "2026-03-01T10:00:00.000Z", updated: value });
    const summary = await summaryOf(value === undefined ? without(base, "updated") : base);
    expect(summary.updated).toBe("2026-03-01T10:00:00.000Z");
    expect(summary.updated_at).toBe("2026-03-01T10:00:00.000Z");
  });

  it("sends an unparseable updated string as the file has it, and the file's modification time as updated_at", async () => {
    const store = storeWith([cliSession("abc", { created: "2026-03-01T10:00:00.000Z", updated: "last tuesday" })]);
    const summary = only((await list(appFor(store))).sessions);
    expect(summary.updated).toBe("last tuesday");
    expect(summary.created_at).toBe("2026-03-01T10:00:00.000Z");
    expect(summary.updated_at).toBe(new Date((await store.stat("abc.json"))?.mtimeMs ?? Number.NaN).toISOString());
  });

  it("sends created and updated as empty strings when the file has no usable strings, and both _at spellings as its modification time", async () => {
    const store = storeWith([cliSession("abc", { created: 12, updated: false })]);
    const summary = only((await list(appFor(store))).sessions);
    const mtime = new Date((await store.stat("abc.json"))?.mtimeMs ?? Number.NaN).toISOString();
    expect(summary).toMatchObject({ created: "", updated: "", created_at: mtime, updated_at: mtime });
  });

  it("keeps created_at and updated_at equal to created and updated", async () => {
    const summary = await summaryOf(cliSession("abc", { created: "2026-01-01T00:00:00+05:00", updated: "2026-02-01" }));
    expect(summary.created_at).toBe(summary.created);
    expect(summary.updated_at).toBe(summary.updated);
    expect(summary.created).toBe("2026-01-01T00:00:00+05:00");
    expect(summary.updated).toBe("2026-02-01");
  });

  it("counts every entry of messages but system ones as message_count, whatever its shape", async () => {
    const messages = [1, null, "stray", [], {}, { role: "system", content: "sys" }, { role: "tool", content: null }, { role: "system", content: "more" }];
    expect((await summaryOf(cliSession("abc", { messages }))).message_count).toBe(6);
  });

  it.each([
    ["missing", undefined],
    ["an object", { 0: { role: "user", content: "hi" } }],
    ["a string", "hello"],
  ])("counts 0 messages and no first user message when messages is %s", async (_label, value) => {
    const session = value === undefined ? without(cliSession("abc"), "messages") : cliSession("abc", { messages: value });
    const summary = await summaryOf(session);
    expect(summary.message_count).toBe(0);
    expect(summary.first_user_message).toBeNull();
  });

  it("lists a file whose inner id differs from its name under the file name's stem", async () => {
    const store = storeWith([], { "filename1.json": cliFile(cliSession("innerid")) });
    const page = await list(appFor(store));
    expect(idsOf(page)).toEqual(["filename1"]);
    expect(page.total).toBe(1);
  });
});

describe("GET /admin/sessions: first_user_message", () => {
  const firstUserMessage = async (messages: unknown[]) => (await summaryOf(cliSession("abc", { messages }))).first_user_message;

  it("takes the first user message's string content", async () => {
    expect(
      await firstUserMessage([
        { role: "system", content: "You are Opta." },
        { role: "user", content: "Hello there" },
      ]),
    ).toBe("Hello there");
  });

  it("joins the text parts of a parts array with a space, skipping image parts", async () => {
    const content = [
      { type: "text", text: "look at" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "text", text: "this screenshot" },
    ];
    expect(await firstUserMessage([{ role: "user", content }])).toBe("look at this screenshot");
  });

  it("makes every run of whitespace one space and trims the ends", async () => {
    expect(await firstUserMessage([{ role: "user", content: " \n\t fix   the\n\nparser\t\tplease \r\n" }])).toBe("fix the parser please");
  });

  it("collapses whitespace across joined text parts too", async () => {
    const content = [
      { type: "text", text: "  one  " },
      { type: "text", text: "\ntwo\n" },
    ];
    expect(await firstUserMessage([{ role: "user", content }])).toBe("one two");
  });

  it("cuts to the first 200 code points without splitting astral characters", async () => {
    const text = await firstUserMessage([{ role: "user", content: "😀".repeat(250) }]);
    expect(text).toBe("😀".repeat(200));
    expect([...(text ?? "")]).toHaveLength(200);
  });

  it("counts mixed BMP and astral characters as code points when cutting", async () => {
    const text = await firstUserMessage([{ role: "user", content: "a𝄞".repeat(150) }]);
    expect(text).toBe("a𝄞".repeat(100));
  });

  it("keeps a message of exactly 200 code points whole", async () => {
    const content = "é".repeat(100) + "🎉".repeat(100);
    expect(await firstUserMessage([{ role: "user", content }])).toBe(content);
  });

  it("trims before cutting and not after the cut", async () => {
    const content = `   ${"a".repeat(199)} b${"c".repeat(50)}`;
    expect(await firstUserMessage([{ role: "user", content }])).toBe(`${"a".repeat(199)} `);
  });

  it("is null when there is no user message", async () => {
    expect(
      await firstUserMessage([
        { role: "system", content: "sys" },
        { role: "assistant", content: "hi" },
      ]),
    ).toBeNull();
  });

  it("is null when there are no messages at all", async () => {
    expect(await firstUserMessage([])).toBeNull();
  });

  it.each([
    ["null content", null],
    ["an empty string", ""],
    ["only whitespace", "  \n\t "],
    ["only image parts", [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }]],
    ["an empty parts array", []],
    ["a content object", { type: "text", text: "not a parts array" }],
  ])("is null when the first user message has %s, even if a later one has text", async (_label, content) => {
    expect(
      await firstUserMessage([
        { role: "user", content },
        { role: "assistant", content: "ok" },
        { role: "user", content: "the second user message" },
      ]),
    ).toBeNull();
  });

  it("is null when the first user message has no content key", async () => {
    expect(await firstUserMessage([{ role: "user" }, { role: "user", content: "later" }])).toBeNull();
  });

  it("uses only the first user message, never later ones", async () => {
    expect(
      await firstUserMessage([
        { role: "user", content: "first" },
        { role: "assistant", content: "reply" },
        { role: "user", content: "second" },
      ]),
    ).toBe("first");
  });

  it("finds the first user message after system, assistant and odd entries", async () => {
    expect(
      await firstUserMessage([
        7,
        null,
        "user",
        { content: "no role" },
        { role: "USER", content: "wrong case" },
        { role: "assistant", content: "assistant first" },
        { role: "user", content: "the real one" },
      ]),
    ).toBe("the real one");
  });

  it("ignores text parts whose text is not a string", async () => {
    const content = [{ type: "text", text: 5 }, { type: "text" }, { type: "text", text: "kept" }];
    expect(await firstUserMessage([{ role: "user", content }])).toBe("kept");
  });
});

describe("GET /admin/sessions: paging and order", () => {
  // Inserted out of order on purpose; expected list order in ORDER below.
  const sessions = [
    at("k2", "2025-12-31T23:59:59.999Z"),
    at("g7", "garbage"),
    at("d4", "2026-03-04T02:00:00+02:00"), // same instant as b2 and c3
    at("a1", "2026-03-05T00:00:00.000Z"),
    without(cliSession("h8"), "created", "updated"),
    cliSession("e5", { created: "2026-03-03T00:00:00.000Z", updated: "not a date" }),
    at("c3", "2026-03-04T00:00:00.000Z"),
    at("a0", 5),
    cliSession("f6", { created: "2026-03-02T00:00:00.000Z", updated: "" }),
    at("k3", "2026-01-01T01:00:00+01:00"), // same instant as k1
    at("b2", "2026-03-04T00:00:00Z"),
    at("k1", "2026-01-01T00:00:00.000Z"),
  ];
  const ORDER = ["a1", "b2", "c3", "d4", "e5", "f6", "k1", "k3", "k2", "a0", "g7", "h8"];

  it("orders by time descending, ties by id ascending, sessions with no usable time last", async () => {
    const page = await list(appFor(storeWith(sessions)));
    expect(idsOf(page)).toEqual(ORDER);
    expect(page.total).toBe(ORDER.length);
  });

  it.each([1, 2, 5, 7, 11, 12, 200])("pages of %i cover every session exactly once, in order", async (size) => {
    const app = appFor(storeWith(sessions));
    const seen: string[] = [];
    for (let offset = 0; offset < ORDER.length; offset += size) {
      const page = await list(app, `?limit=${size}&offset=${offset}`);
      expect(page.total).toBe(ORDER.length);
      expect(page.limit).toBe(size);
      expect(page.offset).toBe(offset);
      expect(page.sessions.length).toBe(Math.min(size, ORDER.length - offset));
      seen.push(...idsOf(page));
    }
    expect(seen).toEqual(ORDER);
  });

  it("compares times as instants, not as strings", async () => {
    const store = storeWith([
      at("plus2", "2026-03-01T12:00:00+02:00"), // 10:00Z
      at("utc", "2026-03-01T11:00:00Z"),
      at("minus5", "2026-03-01T07:30:00-05:00"), // 12:30Z
    ]);
    expect(idsOf(await list(appFor(store)))).toEqual(["minus5", "utc", "plus2"]);
  });

  it("orders by created when updated does not parse as an instant", async () => {
    const store = storeWith([
      cliSession("older", { created: "2026-01-01T00:00:00Z", updated: "2026-02-01T00:00:00Z" }),
      cliSession("badupdated", { created: "2026-03-01T00:00:00Z", updated: "2026-13-45T99:00:00Z" }),
      cliSession("newest", { created: "2026-01-01T00:00:00Z", updated: "2026-04-01T00:00:00Z" }),
    ]);
    expect(idsOf(await list(appFor(store)))).toEqual(["newest", "badupdated", "older"]);
  });

  it("orders by updated, not created, when updated parses", async () => {
    const store = storeWith([
      cliSession("createdlate", { created: "2026-06-01T00:00:00Z", updated: "2026-01-01T00:00:00Z" }),
      cliSession("updatedlate", { created: "2026-01-01T00:00:00Z", updated: "2026-05-01T00:00:00Z" }),
    ]);
    expect(idsOf(await list(appFor(store)))).toEqual(["updatedlate", "createdlate"]);
  });

  it("echoes the default limit 50 and offset 0 and serves at most 50", async () => {
    const many = Array.from({ length: 60 }, (_, i) => at(`s${String(i).padStart(2, "0")}`, "2026-03-01T00:00:00Z"));
    const page = await list(appFor(storeWith(many)));
    expect(page.limit).toBe(50);
    expect(page.offset).toBe(0);
    expect(page.total).toBe(60);
    expect(page.sessions).toHaveLength(50);
  });

  it("echoes the limit and offset given", async () => {
    const page = await list(appFor(storeWith(sessions)), "?limit=3&offset=4");
    expect(page).toMatchObject({ limit: 3, offset: 4, total: ORDER.length });
    expect(idsOf(page)).toEqual(ORDER.slice(4, 7));
  });

  it("gives no sessions but the right total for an offset beyond the end", async () => {
    const page = await list(appFor(storeWith(sessions)), "?offset=100");
    expect(page).toEqual({ sessions: [], total: ORDER.length, limit: 50, offset: 100 });
  });

  it("lists nothing with total 0 for an empty store", async () => {
    expect(await list(appFor(storeWith([])))).toEqual({ sessions: [], total: 0, limit: 50, offset: 0 });
  });
});

describe("GET /admin/sessions: parameter validation", () => {
  const app = () => appFor(storeWith([cliSession("abc")]));

  it.each(["1", "200"])("accepts limit=%s", async (limit) => {
    expect((await list(app(), `?limit=${limit}`)).limit).toBe(Number(limit));
  });

  it.each(["0", "201", "-1", "1.5", "abc", "", "1e2", "0x10", "99999999999999999999"])("refuses limit=%j with 400 naming limit", async (limit) => {
    await expectInvalidParameter(await app().request(`/admin/sessions?limit=${encodeURIComponent(limit)}`, { headers: AUTH }), "limit");
  });

  it("refuses a repeated limit", async () => {
    await expectInvalidParameter(await app().request("/admin/sessions?limit=1&limit=2", { headers: AUTH }), "limit");
  });

  it.each(["0", "5", "1000000"])("accepts offset=%s", async (offset) => {
    expect((await list(app(), `?offset=${offset}`)).offset).toBe(Number(offset));
  });

  it.each(["-1", "abc", "1.5", ""])("refuses offset=%j with 400 naming offset", async (offset) => {
    await expectInvalidParameter(await app().request(`/admin/sessions?offset=${encodeURIComponent(offset)}`, { headers: AUTH }), "offset");
  });

  it("refuses a repeated offset", async () => {
    await expectInvalidParameter(await app().request("/admin/sessions?offset=0&offset=1", { headers: AUTH }), "offset");
  });

  it.each(["2026-13-01", "2026-02-30", "2026-00-10", "yesterday", "2026-03-01T25:00:00Z", "1700000000000", "03/01/2026"])(
    "refuses since=%j with 400 naming since",
    async (since) => {
      await expectInvalidParameter(await app().request(`/admin/sessions?since=${encodeURIComponent(since)}`, { headers: AUTH }), "since");
    },
  );

  it.each(["2026-02-28", "2024-02-29", "2026-03-01T12:00:00Z", "2026-03-01T12:00:00.123+02:00", "2026-03-01T12:00"])("accepts since=%j", async (since) => {
    await list(app(), `?since=${encodeURIComponent(since)}`);
  });

  it.each(["model", "tag"])("accepts a %s of 200 characters and refuses 201 with 400 naming it", async (param) => {
    await list(app(), `?${param}=${"m".repeat(200)}`);
    await expectInvalidParameter(await app().request(`/admin/sessions?${param}=${"m".repeat(201)}`, { headers: AUTH }), param);
  });
});

describe("GET /admin/sessions: filters", () => {
  it("filters by model as a case-insensitive substring", async () => {
    const store = storeWith([
      at("m1", "2026-03-05T00:00:00Z", { model: "MiniMax-M2.5-5bit" }),
      at("m2", "2026-03-04T00:00:00Z", { model: "mlx-community/Llama-3.3-70B-4bit" }),
      at("m3", "2026-03-03T00:00:00Z", { model: "" }),
      without(at("m4", "2026-03-02T00:00:00Z"), "model"),
      at("m5", "2026-03-01T00:00:00Z", { model: "minimax-other" }),
    ]);
    const app = appFor(store);
    expect(idsOf(await list(app, "?model=MINIMAX"))).toEqual(["m1", "m5"]);
    expect(idsOf(await list(app, "?model=llama-3.3"))).toEqual(["m2"]);
    expect(idsOf(await list(app, `?model=${encodeURIComponent("community/LLAMA")}`))).toEqual(["m2"]);
    expect(await list(app, "?model=gpt")).toMatchObject({ sessions: [], total: 0 });
  });

  it("filters by tag exactly: case-sensitive, never a substring", async () => {
    const store = storeWith([
      at("t1", "2026-03-05T00:00:00Z", { tags: ["bugfix", "ui"] }),
      at("t2", "2026-03-04T00:00:00Z", { tags: ["Bugfix"] }),
      at("t3", "2026-03-03T00:00:00Z", { tags: ["bugfixes"] }),
      at("t4", "2026-03-02T00:00:00Z", { tags: ["bug"] }),
      at("t5", "2026-03-01T00:00:00Z", { tags: [1, "bugfix"] }),
      at("t6", "2026-02-28T00:00:00Z", { tags: "bugfix" }),
    ]);
    const app = appFor(store);
    expect(idsOf(await list(app, "?tag=bugfix"))).toEqual(["t1", "t5"]);
    expect(idsOf(await list(app, "?tag=Bugfix"))).toEqual(["t2"]);
    expect(idsOf(await list(app, "?tag=bug"))).toEqual(["t4"]);
    expect(idsOf(await list(app, "?tag=fix"))).toEqual([]);
  });

  describe("since", () => {
    const store = () =>
      storeWith([
        at("s1", "2026-03-02T00:00:00.000Z"), // exactly the instant: matches
        at("s2", "2026-03-01T23:59:59.999Z"),
        at("s3", "2026-03-02T01:00:00+02:00"), // 2026-03-01T23:00Z: before, though its string sorts after
        at("s4", "2026-03-01T20:00:00-05:00"), // 2026-03-02T01:00Z: after, though its string sorts before
        cliSession("s5", { created: "2026-03-05T00:00:00Z", updated: "junk" }), // time from created
        cliSession("s6", { created: "junk", updated: "junk" }), // no usable time
        without(cliSession("s7"), "created", "updated"), // no usable time
        cliSession("s8", { created: "2026-04-01T00:00:00Z", updated: "2026-03-01T00:00:00Z" }), // updated wins
      ]);

    it.each(["2026-03-02", "2026-03-02T00:00:00Z", "2026-03-02T00:00:00", "2026-03-02T02:00:00+02:00", "2026-03-01T19:00:00-05:00"])(
      "keeps sessions at or after since=%s, compared as instants (date-only and no offset mean UTC)",
      async (since) => {
        const page = await list(appFor(store()), `?since=${encodeURIComponent(since)}`);
        expect(idsOf(page)).toEqual(["s5", "s4", "s1"]);
        expect(page.total).toBe(3);
      },
    );

    it("never matches sessions with no usable time, however early since is", async () => {
      const page = await list(appFor(store()), "?since=0001-01-01");
      expect(page.total).toBe(6);
      expect(idsOf(page)).not.toContain("s6");
      expect(idsOf(page)).not.toContain("s7");
    });
  });

  it("combines model, tag and since, with total counting every match before paging", async () => {
    const store = storeWith([
      at("c1", "2026-03-06T00:00:00Z", { model: "MiniMax-M2.5", tags: ["work"] }),
      at("c2", "2026-03-05T00:00:00Z", { model: "minimax-m3", tags: ["work", "x"] }),
      at("c3", "2026-03-04T00:00:00Z", { model: "Llama", tags: ["work"] }), // wrong model
      at("c4", "2026-03-04T00:00:00Z", { model: "MINIMAX", tags: ["Work"] }), // wrong tag case
      at("c5", "2026-03-03T00:00:00Z", { model: "minimax", tags: ["work"] }),
      at("c6", "2026-01-15T00:00:00Z", { model: "minimax", tags: ["work"] }), // too old
      at("c7", "2026-03-02T00:00:00Z", { model: "xminimaxx", tags: ["home", "work"] }),
      at("c8", "junk", { model: "minimax", tags: ["work"] }), // no usable time
    ]);
    const app = appFor(store);
    const all = await list(app, "?model=MiniMax&tag=work&since=2026-02-01");
    expect(idsOf(all)).toEqual(["c1", "c2", "c5", "c7"]);
    const page = await list(app, "?model=MiniMax&tag=work&since=2026-02-01&limit=2&offset=1");
    expect(page).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect(idsOf(page)).toEqual(["c2", "c5"]);
    expect(await list(app, "?model=MiniMax&tag=work&since=2026-02-01&offset=4")).toMatchObject({ sessions: [], total: 4 });
  });
});

describe("GET /admin/sessions: files that are not sessions", () => {
  const damaged = {
    "truncated.json": '{\n  "id": "truncated",\n  "created": "2026-03-01',
    "array.json": "[]",
    "nul.json": "null",
    "number.json": "42",
    "string.json": '"a session?"',
    "empty.json": "",
  };

  it("leaves damaged files and directories out of the list and the total", async () => {
    const store = storeWith([at("good1", "2026-03-02T00:00:00Z"), at("good2", "2026-03-01T00:00:00Z")], damaged);
    store.putDirectory("folder.json");
    const page = await list(appFor(store));
    expect(idsOf(page)).toEqual(["good1", "good2"]);
    expect(page.total).toBe(2);
  });

  it("warns exactly once per damaged file across several requests", async () => {
    const store = storeWith([at("good1", "2026-03-02T00:00:00Z")], damaged);
    store.putDirectory("folder.json");
    const logger = recordingLogger();
    const app = appFor(store, { logger });
    for (let i = 0; i < 3; i++) expect((await list(app)).total).toBe(1);
    await list(app, "?limit=1&offset=0");
    const warnings = logger.lines.filter((line) => line.level === "warn").map((line) => line.line);
    const names = [...Object.keys(damaged), "folder.json"];
    expect(warnings).toHaveLength(names.length);
    for (const name of names) expect(warnings.filter((line) => line.includes(name))).toHaveLength(1);
  });

  it("warns exactly once per damaged file even when rescans re-read freshly written files", async () => {
    const store = storeWith([at("good1", "2026-03-02T00:00:00Z")], damaged);
    store.putDirectory("folder.json");
    const logger = recordingLogger();
    let clock = 0; // within a second of the store's modification times: every file counts as freshly written
    const app = appFor(store, { logger, now: () => ++clock });
    for (let i = 0; i < 4; i++) expect((await list(app)).total).toBe(1);
    const warnings = logger.lines.filter((line) => line.level === "warn");
    expect(warnings).toHaveLength(Object.keys(damaged).length + 1);
  });

  it("never lists index.json, non-.json files, dot-files or names with extra dots, even when they hold a session", async () => {
    const store = storeWith([at("real", "2026-03-01T00:00:00Z")], {
      "index.json": cliFile(cliSession("index")),
      "notes.txt": cliFile(cliSession("notes")),
      ".hidden.json": cliFile(cliSession(".hidden")),
      "a.b.json": cliFile(cliSession("a.b")),
      "real.json.bak": cliFile(cliSession("real")),
      "real.json~": cliFile(cliSession("real")),
      ".real.json.swp": "binary junk",
    });
    const logger = recordingLogger();
    const page = await list(appFor(store, { logger }));
    expect(idsOf(page)).toEqual(["real"]);
    expect(page.total).toBe(1);
    expect(logger.lines.filter((line) => line.level === "warn")).toEqual([]);
  });
});
