import { describe, expect, it } from "vitest";
import { expectError } from "../fixtures/errors.js";
import { readEventStream } from "../fixtures/event-stream.js";
import { cliSession } from "../fixtures/sessions.js";
import { ADMIN_KEY } from "../fixtures/settings.js";
import { type ContractRuntime, KEY } from "./runtime.js";

const AUTHENTICATION_FAILED = { type: "authentication_error", code: "invalid_admin_key" } as const;
const EVENTS_UNAVAILABLE = {
  message: "the live feed runs on the Node server only: on this deployment, poll GET /admin/sessions instead",
  type: "server_error",
  code: "events_unavailable",
} as const;

/** GET /admin/sessions/events: a stream where the runtime keeps a feed (Node), else 501 (the Worker); the same key rules on both. */
export function eventsCases(runtime: ContractRuntime): void {
  describe("GET /admin/sessions/events", () => {
    it("refuses a request without a key, or with a wrong one in ?admin_key=", async () => {
      const target = await runtime.start({});
      await expectError(await target.fetch("/admin/sessions/events"), 401, AUTHENTICATION_FAILED);
      await expectError(await target.fetch("/admin/sessions/events?admin_key=wrong-key-0123456789-abcdef"), 401, AUTHENTICATION_FAILED);
    });

    it("takes ?admin_key= on this route and on no other", async () => {
      const target = await runtime.start({ sessions: [cliSession("abc")] });
      await expectError(await target.fetch(`/admin/sessions?admin_key=${ADMIN_KEY}`), 401, AUTHENTICATION_FAILED);
      const res = await target.fetch(`/admin/sessions/events?admin_key=${ADMIN_KEY}`);
      if (!runtime.liveFeed) return void (await expectError(res, 501, EVENTS_UNAVAILABLE));
      expect(res.status).toBe(200);
      await res.body?.cancel();
    });

    it("is not shadowed by /:id, even with a session named events (as /search is not)", async () => {
      const target = await runtime.start({ sessions: [cliSession("events")] });
      const res = await target.fetch("/admin/sessions/events", { headers: KEY });
      if (!runtime.liveFeed) return void (await expectError(res, 501, EVENTS_UNAVAILABLE));
      expect(res.headers.get("Content-Type")).toBe("text/event-stream; charset=utf-8");
      await res.body?.cancel();
    });

    if (runtime.liveFeed) {
      it("streams a delete through the API as an unnamed message with the next id", async () => {
        const target = await runtime.start({ sessions: [cliSession("abc"), cliSession("other")] });
        await target.fetch("/admin/sessions", { headers: KEY }); // a client lists first
        const reader = readEventStream(await target.fetch("/admin/sessions/events", { headers: KEY }));
        try {
          await reader.until((r) => r.messages().some((message) => message.id !== undefined));
          const start = Number(reader.messages().find((message) => message.id !== undefined)?.id);
          expect((await target.fetch("/admin/sessions/abc", { method: "DELETE", headers: KEY })).status).toBe(200);
          await reader.until((r) => r.events().length > 0);
          expect(reader.messages().at(-1)).toEqual({ id: String(start + 1), data: '{"type":"session.deleted","id":"abc"}', comments: [] });
        } finally {
          await reader.cancel();
        }
      });
    } else {
      it("answers 501 events_unavailable with the key: the feed runs on the Node server", async () => {
        const target = await runtime.start({});
        await expectError(await target.fetch("/admin/sessions/events", { headers: KEY }), 501, EVENTS_UNAVAILABLE);
      });
    }
  });
}
