/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { expectError, expectInvalidParameter, SESSION_CORRUPT } from "../fixtures/errors.js";
import { cliFile, cliSession, MESSAGES_OF_EVERY_SHAPE } from "../fixtures/sessions.js";
import { fullOf, listBody, type Summary, summaryOf } from "./expected.js";
import { type ContractRuntime, expectJson, KEY, SEED_MTIME } from "./runtime.js";

// The files the real Opta CLI wrote (copied from ../shared/fixtures/real-cli-sessions), as text: seeded byte for byte.
const REAL_FILES = import.meta.glob<string>("../fixtures/real-cli-sessions/sessions/*.json", { eager: true, query: "?raw", import: "default" });
const MANIFEST = import.meta.glob<string>("../fixtures/real-cli-sessions/manifest.json", { eager: true, query: "?raw", import: "default" });

interface RealManifest {
  sessions: Record<string, { id: string }>;
  vintage: string[];
  cliList: { id: string; messageCount: number }[];
}

const manifest = JSON.parse(Object.values(MANIFEST)[0] ?? "{}") as RealManifest;
const realRaw: Record<string, string> = Object.fromEntries(Object.entries(REAL_FILES).map(([file, text]) => [file.slice(file.lastIndexOf("/") + 1), text]));
const realIds = Object.keys(realRaw)
  .filter((name) => name !== "index.json")
  .map((name) => name.replace(/\.json$/, ""));

const SMALL_LIMIT_MB = 0.01;
const SMALL_LIMIT_BYTES = Math.floor(SMALL_LIMIT_MB * 1024 * 1024);
const TOO_LARGE = {
  message: `the session is larger than this deployment's limit of ${SMALL_LIMIT_BYTES} bytes (--max-session-mb, or OPTA_MAX_SESSION_MB)`,
  type: "invalid_request_error",
  code: "session_too_large",
} as const;

/** A session 100,000 arrays deep inside a message: JSON.parse takes it, JSON.stringify of it overflows the stack. */
const DEEP = `{"id":"deep","created":"2026-03-01T10:00:00.000Z","messages":[{"role":"user","content":"deep one"},${"[".repeat(100_000)}${"]".repeat(100_000)}]}`;

/** What two overlapping CLI saves leave: the whole session, then the tail of the longer write. */
const TWICE = `${cliFile(cliSession("twice", { messages: [{ role: "user", content: "overlapping saves marker" }] }))}\n      }\n    }\n  ],\n  "toolCallCount": 0,\n  "compacted": false\n}`;

async function listOf(target: { fetch(path: string, init?: RequestInit): Promise<Response> }, query = ""): Promise<{ sessions: Summary[]; total: number }> {
  const res = await target.fetch(`/admin/sessions${query}`, { headers: KEY });
  expect(res.status).toBe(200);
  return (await res.json()) as { sessions: Summary[]; total: number };
}

async function searchIds(target: { fetch(path: string, init?: RequestInit): Promise<Response> }, q: string): Promise<string[]> {
  const res = await target.fetch(`/admin/sessions/search?q=${encodeURIComponent(q)}&limit=100`, { headers: KEY });
  expect(res.status).toBe(200);
  return ((await res.json()) as Summary[]).map((summary) => summary.id);
}

/** Issue 12's reading rules: real CLI files, size limit, deep nesting, overlapping saves, counts, times, filters, the compatibility switch. */
export function readingCases(runtime: ContractRuntime): void {
  describe("sessions written by the real Opta CLI", () => {
    it("lists, reads, counts and finds every one as the contract says", async () => {
      expect(realIds).toHaveLength(10);
      const target = await runtime.start({ raw: realRaw });
      const listed = await listOf(target);
      expect(listed.total).toBe(10);
      expect(listed.sessions.map((summary) => summary.id).sort()).toEqual([...realIds].sort());
      const cliCounts = new Map(manifest.cliList.map((entry) => [entry.id, entry.messageCount]));
      for (const id of realIds) {
        const file = JSON.parse(realRaw[`${id}.json`] as string) as { created: string; updated: string; messages: { role: string }[] };
        const res = await target.fetch(`/admin/sessions/${id}`, { headers: KEY });
        expect(res.status, id).toBe(200);
        const session = (await res.json()) as Summary & { messages: unknown[] };
        const nonSystem = file.messages.filter((message) => message.role !== "system").length;
        // The file decides: the CLI's own list agrees except for vintage sessions, whose stale index counted the system prompt.
        expect(session.message_count, id).toBe(nonSystem);
        if (!manifest.vintage.includes(id)) expect(session.message_count, id).toBe(cliCounts.get(id));
        expect(session.messages, id).toEqual(file.messages);
        expect([session.created_at, session.updated_at], id).toEqual([file.created, file.updated]);
        expect(
          listed.sessions.find((summary) => summary.id === id),
          id,
        ).toEqual(Object.fromEntries(Object.keys(listed.sessions[0] ?? {}).map((key) => [key, session[key as keyof Summary]])));
        expect(await searchIds(target, id), id).toContain(id);
      }
    });

    it("counts 0 messages for a session holding only its system prompt, and has no title or first message", async () => {
      const target = await runtime.start({ raw: realRaw });
      const id = manifest.sessions.empty?.id as string;
      const summary = (await listOf(target)).sessions.find((entry) => entry.id === id);
      expect(summary).toMatchObject({ message_count: 0, title: null, first_user_message: null });
    });

    it("drops the control characters an @image reference inlines from first_user_message", async () => {
      const target = await runtime.start({ raw: realRaw });
      const summary = (await listOf(target)).sessions.find((entry) => entry.id === manifest.sessions.images?.id);
      expect(summary?.first_user_message).toBe(
        'What is wrong in ? <file path="/Users/dev/work/project/screenshot.png"> \ufffdPNG IHDR\u0109 IDATx\ufffdc\ufffd\ufffd\ufffdP\ufffd\ufffd\ufffd\ufffd\ufffd!IEND\ufffdB`\ufffd </file>',
      );
      const multiline = (await listOf(target)).sessions.find((entry) => entry.id === manifest.sessions.multiline?.id);
      expect(multiline?.first_user_message).toBe("Please explain the difference between a bounded queue and a ring buffer in detail, with examples");
    });
  });

  describe("files the listing leaves out, as GET refuses them", () => {
    it("leaves a file over the size limit out of list, total and search, unread, and GET answers 413", async () => {
      const big = cliFile(cliSession("big", { messages: [{ role: "user", content: `needle ${"x".repeat(SMALL_LIMIT_BYTES)}` }] }));
      const small = cliFile(cliSession("small", { messages: [{ role: "user", content: "needle" }] }));
      const target = await runtime.start({ raw: { "big.json": big, "small.json": small } }, { maxSessionMb: SMALL_LIMIT_MB });
      const listed = await listOf(target);
      expect([listed.sessions.map((summary) => summary.id), listed.total]).toEqual([["small"], 1]);
      expect(await searchIds(target, "needle")).toEqual(["small"]);
      expect(await searchIds(target, "big")).toEqual([]);
      await expectError(await target.fetch("/admin/sessions/big", { headers: KEY }), 413, TOO_LARGE);
    });

    it("leaves a session nested 100,000 levels deep out of list, total and search, and GET answers 422", async () => {
      const target = await runtime.start({ raw: { "deep.json": DEEP }, sessions: [cliSession("ok")] });
      const listed = await listOf(target);
      expect([listed.sessions.map((summary) => summary.id), listed.total]).toEqual([["ok"], 1]);
      expect(await searchIds(target, "deep")).toEqual([]);
      await expectError(await target.fetch("/admin/sessions/deep", { headers: KEY }), 422, SESSION_CORRUPT);
      await expectError(await target.fetch("/admin/sessions/deep/messages", { headers: KEY }), 422, SESSION_CORRUPT);
    });

    it("serves a session nested 100 levels deep like any other", async () => {
      const messages = [{ role: "user", content: "nested" }, JSON.parse(`${"[".repeat(100)}${"]".repeat(100)}`)];
      const target = await runtime.start({ sessions: [cliSession("nest", { messages })] });
      await expectJson(
        await target.fetch("/admin/sessions/nest", { headers: KEY }),
        200,
        fullOf("nest", { messages, message_count: 2, first_user_message: "nested" }),
      );
    });
  });

  describe("a file two overlapping CLI saves left (one complete session, then other bytes)", () => {
    it("is listed, searchable and served from its leading session; a truncated file is still left out", async () => {
      const messages = [{ role: "user", content: "overlapping saves marker" }];
      const target = await runtime.start({ raw: { "twice.json": TWICE, "half.json": TWICE.slice(0, 200) } });
      const summary = summaryOf("twice", { message_count: 1, first_user_message: "overlapping saves marker" });
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summary]));
      expect(await searchIds(target, "overlapping")).toEqual(["twice"]);
      await expectJson(await target.fetch("/admin/sessions/twice", { headers: KEY }), 200, fullOf("twice", { ...summary, messages }));
      await expectError(await target.fetch("/admin/sessions/half", { headers: KEY }), 422, SESSION_CORRUPT);
    });
  });

  describe("summary fields", () => {
    it("counts every message but system ones", async () => {
      const messages = [{ role: "system", content: "a" }, { role: "user", content: "q" }, { role: "system", content: "b" }, 7, { role: "tool", content: "t" }];
      const target = await runtime.start({ sessions: [cliSession("abc", { messages })] });
      expect((await listOf(target)).sessions[0]?.message_count).toBe(3);
    });

    it("removes control characters but whitespace from first_user_message, then makes whitespace runs one space", async () => {
      const messages = [
        {
          role: "user",
          content: [
            { type: "text", text: "\u0000a\u0000b\u0007 c\u0085d\n\t" },
            { type: "text", text: "\u001be\u007f" },
          ],
        },
      ];
      const target = await runtime.start({ sessions: [cliSession("abc", { messages })] });
      expect((await listOf(target)).sessions[0]?.first_user_message).toBe("ab cd e");
    });

    it("sends the file's modification time as created_at and updated_at when its times are not instants, in list and GET alike", async () => {
      const target = await runtime.start({ raw: { "notime.json": cliFile(cliSession("notime", { created: "", updated: "not a date" })) } });
      const times = { created: "", updated: "not a date", created_at: SEED_MTIME, updated_at: SEED_MTIME };
      expect((await listOf(target)).sessions[0]).toMatchObject(times);
      expect(await (await target.fetch("/admin/sessions/notime", { headers: KEY })).json()).toMatchObject(times);
    });
  });

  describe("PUT /admin/sessions/:id with X-Session-Mtime", () => {
    const put = (target: { fetch(path: string, init?: RequestInit): Promise<Response> }, id: string, mtime: string) =>
      target.fetch(`/admin/sessions/${id}`, {
        method: "PUT",
        headers: { ...KEY, "Content-Type": "application/json", "X-Session-Mtime": mtime },
        body: cliFile(cliSession(id, { created: "unknown", updated: "" })),
      });

    it("keeps the time it names as the session's modification time, which times that are not instants fall back to", async () => {
      const target = await runtime.start({});
      expect((await put(target, "synced", "2025-05-06T09:08:09.123+02:00")).status).toBe(201);
      const times = { created: "unknown", updated: "unknown", created_at: "2025-05-06T07:08:09.123Z", updated_at: "2025-05-06T07:08:09.123Z" };
      expect((await listOf(target)).sessions[0]).toMatchObject(times);
      expect(await (await target.fetch("/admin/sessions/synced", { headers: KEY })).json()).toMatchObject(times);
    });

    it.each(["yesterday", "2026-02-30T00:00:00Z", "1700000000000", ""])("refuses X-Session-Mtime %j with 400 naming it, storing nothing", async (mtime) => {
      const target = await runtime.start({});
      const message = "X-Session-Mtime must be an ISO 8601 instant, e.g. 2026-07-01T08:00:00.000Z";
      await expectInvalidParameter(await put(target, "bad", mtime), "X-Session-Mtime", message);
      expect((await target.fetch("/admin/sessions/bad", { headers: KEY })).status).toBe(404);
    });
  });

  describe("GET /admin/sessions: until and cwd", () => {
    const SESSIONS = [
      cliSession("late", { created: "2026-03-05T10:00:00Z", updated: "2026-03-05T10:00:00Z", cwd: "/Users/dev/Project" }),
      cliSession("edge", { created: "2026-03-04T00:00:00Z", updated: "2026-03-04T00:00:00Z", cwd: "/Users/dev/other" }),
      cliSession("early", { created: "2026-03-03T23:59:59.999Z", updated: "2026-03-03T23:59:59.999Z", cwd: "/srv/PROJECTS/x" }),
      cliSession("never", { created: "no time", updated: "", cwd: "/Users/dev/project" }),
    ];
    const ids = async (query: string) => {
      const target = await runtime.start({ sessions: SESSIONS });
      const listed = await listOf(target, query);
      expect(listed.total).toBe(listed.sessions.length);
      return listed.sessions.map((summary) => summary.id);
    };

    it.each<[string, string[]]>([
      ["until=2026-03-04", ["early"]],
      ["until=2026-03-04T00:00:00.001Z", ["edge", "early"]],
      ["until=2026-03-04T01:00:00%2B01:00", ["early"]],
      ["until=2026-03-04T00:00", ["early"]],
      ["until=2100-01-01", ["late", "edge", "early"]],
      ["since=2026-03-04&until=2026-03-05", ["edge"]],
    ])("takes %s as an instant, before it, never matching no usable time", async (query, expected) => {
      expect(await ids(`?${query}`)).toEqual(expected);
    });

    it.each<[string, string[]]>([
      ["cwd=project", ["late", "early", "never"]],
      ["cwd=%2FUSERS%2Fdev", ["late", "edge", "never"]],
      ["cwd=", ["late", "edge", "early", "never"]],
      ["cwd=project&until=2026-03-05", ["early"]],
    ])("takes %s as a case-insensitive substring of the working directory", async (query, expected) => {
      expect(await ids(`?${query}`)).toEqual(expected);
    });

    it.each<[string, string, string]>([
      ["until=yesterday", "until", "until must be an ISO 8601 date or date-time, e.g. 2026-07-01 or 2026-07-01T12:00:00Z"],
      ["until=2026-01-01&until=2026-01-02", "until", "until must be given only once"],
      ["cwd=a&cwd=b", "cwd", "cwd must be given only once"],
      [`cwd=${"c".repeat(1001)}`, "cwd", "cwd must be at most 1000 characters"],
    ])("refuses %s with 400 naming the parameter", async (query, param, message) => {
      const target = await runtime.start({ sessions: SESSIONS });
      await expectInvalidParameter(await target.fetch(`/admin/sessions?${query}`, { headers: KEY }), param, message);
    });
  });

  describe("the compatibility switch for the existing dashboard (content as text)", () => {
    const AS_TEXT = MESSAGES_OF_EVERY_SHAPE.map((message, i) => (i === 1 ? { ...(message as object), content: "  look   at [image] this" } : message));

    it("is off by default: content passes through exactly as stored", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { messages: MESSAGES_OF_EVERY_SHAPE })] });
      expect(((await (await target.fetch("/admin/sessions/abc", { headers: KEY })).json()) as { messages: unknown[] }).messages).toEqual(
        MESSAGES_OF_EVERY_SHAPE,
      );
    });

    it("sends every parts array as text (text parts joined by a space, [image] for an image), null and strings as they are, on GET and the messages route", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { messages: MESSAGES_OF_EVERY_SHAPE })] }, { contentAsText: true });
      expect(((await (await target.fetch("/admin/sessions/abc", { headers: KEY })).json()) as { messages: unknown[] }).messages).toEqual(AS_TEXT);
      await expectJson(await target.fetch("/admin/sessions/abc/messages?offset=1&limit=2", { headers: KEY }), 200, {
        messages: AS_TEXT.slice(1, 3),
        total: AS_TEXT.length,
        offset: 1,
      });
      // Summaries and search are the same either way.
      expect((await listOf(target)).sessions[0]?.first_user_message).toBe("look at this");
    });
  });
}
