import { describe, expect, it, vi } from "vitest";
import { expectInvalidParameter } from "../fixtures/errors.js";
import { cliFile, cliSession } from "../fixtures/sessions.js";
import { DASHBOARD_ORIGIN } from "../fixtures/settings.js";
import { at, listBody, pair, type Summary, summaryOf } from "./expected.js";
import { type ContractRuntime, expectJson, KEY, VISIBLE_WITHIN_MS } from "./runtime.js";

/** Times and ties: c and d share an instant written two ways (+02:00 and Z), e has no usable time. */
const ORDERED = [
  at("b", "2026-03-05T10:00:00.000Z"),
  at("c", "2026-03-04T12:00:00+02:00"),
  at("d", "2026-03-04T10:00:00.000Z"),
  pair("a", { created: "2026-03-04T09:00:00Z", updated: "last tuesday" }),
  at("f", "2026-03-01"),
  at("e", "not a time"),
];

const DAMAGED = { "broken.json": '{"id": "broken", "title": "half of', "array.json": "[1, 2]", "text.json": '"a string"', "empty.json": "" };

async function listOf(target: { fetch(path: string, init?: RequestInit): Promise<Response> }, query = ""): Promise<{ sessions: Summary[]; total: number }> {
  const res = await target.fetch(`/admin/sessions${query}`, { headers: KEY });
  expect(res.status).toBe(200);
  return (await res.json()) as { sessions: Summary[]; total: number };
}

/** GET /admin/sessions: order, paging, filters, validation, and what is not a session. */
export function listCases(runtime: ContractRuntime): void {
  describe("GET /admin/sessions", () => {
    it("answers every summary field of a CLI session, with the default limit and offset echoed", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc", { tags: ["work", "rust"] })] });
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("abc", { tags: ["work", "rust"] })]));
    });

    it("orders by time descending as instants, ties by id, sessions with no usable time last", async () => {
      const target = await runtime.start({ sessions: [...ORDERED].reverse().map((entry) => entry.session) });
      await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody(ORDERED.map((entry) => entry.summary)));
    });

    it("echoes limit and offset and counts every session in total", async () => {
      const target = await runtime.start({ sessions: ORDERED.map((entry) => entry.session) });
      await expectJson(
        await target.fetch("/admin/sessions?limit=2&offset=3", { headers: KEY }),
        200,
        listBody([ORDERED[3]!.summary, ORDERED[4]!.summary], { total: 6, limit: 2, offset: 3 }),
      );
    });

    it("pages through every session exactly once", async () => {
      const sessions = Array.from({ length: 11 }, (_, i) => at(`s${i % 4}${i}`, `2026-03-0${1 + (i % 3)}T00:00:00Z`));
      const target = await runtime.start({ sessions: sessions.map((entry) => entry.session) });
      const all = (await listOf(target, "?limit=200")).sessions.map((summary) => summary.id);
      const paged: string[] = [];
      for (let offset = 0; offset < 12; offset += 3) {
        const page = await listOf(target, `?limit=3&offset=${offset}`);
        expect(page.total).toBe(11);
        paged.push(...page.sessions.map((summary) => summary.id));
      }
      expect(paged).toEqual(all);
      expect(new Set(paged).size).toBe(11);
    });

    it("answers no sessions but the right total past the end", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectJson(await target.fetch("/admin/sessions?offset=5", { headers: KEY }), 200, listBody([], { total: 1, offset: 5 }));
    });

    it("answers a poll that changed nothing with 304 and no body, and a changed list with 200", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      const first = await target.fetch("/admin/sessions", { headers: KEY });
      const etag = first.headers.get("ETag");
      expect(etag).toMatch(/^W\/"/);
      const again = await target.fetch("/admin/sessions", { headers: { ...KEY, "If-None-Match": etag!, Origin: DASHBOARD_ORIGIN } });
      expect(again.status).toBe(304);
      expect(again.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
      expect(await again.text()).toBe("");
      await target.fetch("/admin/sessions/abc", { method: "DELETE", headers: KEY });
      await expectJson(await target.fetch("/admin/sessions", { headers: { ...KEY, "If-None-Match": etag! } }), 200, listBody([]));
    });

    describe("filters", () => {
      const MODELS = [
        at("m1", "2026-03-03T00:00:00Z", { model: "MiniMax-M2.5-5bit", tags: ["work"] }),
        at("m2", "2026-03-02T00:00:00Z", { model: "Qwen3-Coder", tags: ["Work", "home"] }),
        at("m3", "2026-03-01T00:00:00Z", { model: "minimax-text", tags: ["workshop"] }),
      ];
      const filtered = async (query: string, expected: readonly { summary: Summary }[], page: { limit?: number; offset?: number; total?: number } = {}) => {
        const target = await runtime.start({ sessions: MODELS.map((entry) => entry.session) });
        const summaries = expected.map((entry) => entry.summary);
        const shown = summaries.slice(page.offset ?? 0, (page.offset ?? 0) + (page.limit ?? 50));
        await expectJson(await target.fetch(`/admin/sessions${query}`, { headers: KEY }), 200, listBody(shown, { total: summaries.length, ...page }));
      };

      it("takes model as a case-insensitive substring", () => filtered("?model=MINIMAX", [MODELS[0]!, MODELS[2]!]));
      it("takes tag exactly: case-sensitive and never a substring", () => filtered("?tag=work", [MODELS[0]!]));
      it("treats an empty filter as no filter", () => filtered("?model=&tag=", MODELS));
      it("counts every match in total before paging", () => filtered("?model=minimax&limit=1&offset=1", [MODELS[0]!, MODELS[2]!], { limit: 1, offset: 1 }));
      it("combines filters", () => filtered("?model=qwen&tag=home&since=2026-03-02", [MODELS[1]!]));

      it.each<[string, string[]]>([
        ["2026-03-04", ["b", "c", "d", "a"]],
        ["2026-03-04T10:00:00Z", ["b", "c", "d"]],
        ["2026-03-04T10:00:00.001Z", ["b"]],
        ["2026-03-04T11:00:00+01:00", ["b", "c", "d"]],
        ["2026-03-04T10:00", ["b", "c", "d"]],
        ["1970-01-01", ["b", "c", "d", "a", "f"]],
      ])("takes since=%s as an instant, at or after, never matching no usable time", async (since, ids) => {
        const target = await runtime.start({ sessions: ORDERED.map((entry) => entry.session) });
        const summaries = ORDERED.filter((entry) => ids.includes(entry.summary.id)).map((entry) => entry.summary);
        await expectJson(await target.fetch(`/admin/sessions?since=${encodeURIComponent(since)}`, { headers: KEY }), 200, listBody(summaries));
      });
    });

    describe("parameters", () => {
      const LIMIT = "limit must be an integer between 1 and 200";
      const OFFSET = `offset must be an integer between 0 and ${Number.MAX_SAFE_INTEGER}`;
      const SINCE = "since must be an ISO 8601 date or date-time, e.g. 2026-07-01 or 2026-07-01T12:00:00Z";
      it.each<[string, string, string]>([
        ["limit=0", "limit", LIMIT],
        ["limit=201", "limit", LIMIT],
        ["limit=-1", "limit", LIMIT],
        ["limit=1.5", "limit", LIMIT],
        ["limit=abc", "limit", LIMIT],
        ["limit=", "limit", LIMIT],
        ["limit=1e2", "limit", LIMIT],
        ["limit=1&limit=2", "limit", "limit must be given only once"],
        ["offset=-1", "offset", OFFSET],
        ["offset=x", "offset", OFFSET],
        ["offset=0&offset=1", "offset", "offset must be given only once"],
        ["since=2026-02-30", "since", SINCE],
        ["since=yesterday", "since", SINCE],
        ["since=1700000000000", "since", SINCE],
        ["since=2026-03-01T25:00:00Z", "since", SINCE],
        ["since=2026-03-01&since=2026-03-02", "since", "since must be given only once"],
        ["model=a&model=b", "model", "model must be given only once"],
        ["tag=a&tag=b", "tag", "tag must be given only once"],
        [`model=${"m".repeat(201)}`, "model", "model must be at most 200 characters"],
      ])("refuses %s with 400 naming the parameter", async (query, param, message) => {
        const target = await runtime.start({ sessions: [cliSession("abc")] });
        await expectInvalidParameter(await target.fetch(`/admin/sessions?${query}`, { headers: KEY }), param, message);
      });

      it.each(["limit=1", "limit=200", "offset=0", "offset=1000000", `tag=${"t".repeat(200)}`])("accepts %s", async (query) => {
        const target = await runtime.start({ sessions: [cliSession("abc")] });
        expect((await target.fetch(`/admin/sessions?${query}`, { headers: KEY })).status).toBe(200);
      });
    });

    describe("what is a session", () => {
      it("leaves damaged files out of the list and the total", async () => {
        const target = await runtime.start({ sessions: [cliSession("abc")], raw: DAMAGED });
        await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("abc")]));
      });

      it("lists a session file that reached storage by other means exactly like one stored normally", async () => {
        const fields = { title: "Été 🌞 naïve", tags: ["日本", "x"], model: "Modèle-Ω" };
        const target = await runtime.start({
          sessions: [cliSession("stored", fields)],
          raw: { "other.json": cliFile(cliSession("other", fields)) },
        });
        await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("other", fields), summaryOf("stored", fields)]));
      });

      it("lists a session whose summary is long (too long for the Worker's object metadata) like any other", async () => {
        const fields = { title: `Long ${"é".repeat(1500)}`, tags: Array.from({ length: 60 }, (_, i) => `tag-${i}`) };
        const target = await runtime.start({ sessions: [cliSession("long", fields), cliSession("short")] });
        await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("long", fields), summaryOf("short")]));
        await expectJson(await target.fetch("/admin/sessions?tag=tag-59", { headers: KEY }), 200, listBody([summaryOf("long", fields)]));
      });

      it("never lists index.json, other names or names with extra dots, even when they hold a session", async () => {
        const session = cliFile(cliSession("ghost"));
        const target = await runtime.start({
          sessions: [cliSession("abc")],
          raw: { "index.json": session, "INDEX.json": session, "ghost.txt": session, "a.b.json": session, ".ghost.json": session, "ghost.json.tmp": session },
        });
        await expectJson(await target.fetch("/admin/sessions", { headers: KEY }), 200, listBody([summaryOf("abc")]));
      });

      it("shows a session written, rewritten or removed behind its back within a second", async () => {
        const target = await runtime.start({ sessions: [cliSession("gone"), cliSession("kept")] });
        expect((await listOf(target)).total).toBe(2);
        await target.writeBehind("added.json", cliFile(cliSession("added", { updated: "2026-03-09T00:00:00Z" })));
        await target.writeBehind("kept.json", cliFile(cliSession("kept", { title: "renamed" })));
        await target.removeBehind("gone.json");
        await vi.waitFor(async () => {
          await expectJson(
            await target.fetch("/admin/sessions", { headers: KEY }),
            200,
            listBody([summaryOf("added", { updated: "2026-03-09T00:00:00Z" }), summaryOf("kept", { title: "renamed" })]),
          );
        }, VISIBLE_WITHIN_MS);
      });
    });
  });
}
