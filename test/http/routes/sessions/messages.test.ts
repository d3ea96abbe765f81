import { describe, expect, it } from "vitest";
import { expectError, expectInvalidParameter, SESSION_CORRUPT, SESSION_ID_RULES, SESSION_NOT_FOUND } from "../../../fixtures/errors.js";
import { AUTH, appFor, cliSession, storeWith } from "../../../fixtures/sessions.js";

const messages = Array.from({ length: 250 }, (_, i) => (i % 50 === 7 ? i : { role: i % 2 ? "assistant" : "user", content: `message ${i}`, extra: { i } }));
const app = () => appFor(storeWith([cliSession("big", { messages })], { "broken.json": "{" }));

const request = (path: string) => app().request(path, { headers: AUTH });

async function page(path: string) {
  const res = await request(path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("GET /admin/sessions/:id/messages", () => {
  it("answers the first 100 messages by default, exactly as stored, with the total", async () => {
    const { status, body } = await page("/admin/sessions/big/messages");
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["messages", "offset", "total"]);
    expect(body).toEqual({ messages: messages.slice(0, 100), total: 250, offset: 0 });
  });

  it("pages through every message exactly once", async () => {
    const seen: unknown[] = [];
    for (let offset = 0; offset < 250; offset += 77) {
      const { body } = await page(`/admin/sessions/big/messages?offset=${offset}&limit=77`);
      expect(body.offset).toBe(offset);
      seen.push(...(body.messages as unknown[]));
    }
    expect(seen).toEqual(messages);
  });

  it("answers an empty page past the end", async () => {
    expect((await page("/admin/sessions/big/messages?offset=1000")).body).toEqual({ messages: [], total: 250, offset: 1000 });
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=abc", "limit"],
    ["offset=-1", "offset"],
    ["offset=1&offset=2", "offset"],
  ])("refuses %s with 400 naming %s", async (query, param) => {
    await expectInvalidParameter(await request(`/admin/sessions/big/messages?${query}`), param);
  });

  it("accepts limit 500", async () => {
    expect((await page("/admin/sessions/big/messages?limit=500")).body.messages).toHaveLength(250);
  });

  it("answers 404, 422 and 400 as GET of the session does", async () => {
    await expectError(await request("/admin/sessions/missing/messages"), 404, SESSION_NOT_FOUND);
    await expectError(await request("/admin/sessions/index/messages"), 404, SESSION_NOT_FOUND);
    await expectError(await request("/admin/sessions/broken/messages"), 422, SESSION_CORRUPT);
    await expectInvalidParameter(await request("/admin/sessions/..%2Fbig/messages"), "id", SESSION_ID_RULES);
  });

  it("needs the admin key", async () => {
    const res = await app().request("/admin/sessions/big/messages");
    expect(res.status).toBe(401);
  });
});
