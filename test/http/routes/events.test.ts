import { afterEach, describe, expect, it } from "vitest";
import type { SessionServiceOptions } from "../../../src/sessions/service.js";
import { MemoryTrash } from "../../../src/storage/memory-trash.js";
import { expectError } from "../../fixtures/errors.js";
import { type EventStreamReader, readEventStream } from "../../fixtures/event-stream.js";
import { ADMIN_KEY, type AppForOptions, AUTH, appFor, cliFile, cliSession, DASHBOARD_ORIGIN, recordingLogger, storeWith } from "../../fixtures/sessions.js";

const open: EventStreamReader[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((reader) => reader.cancel().catch(() => {})));
});

/** An app over a watched memory store with a quick feed (5 ms windows), and a way to subscribe. */
function setup(options: AppForOptions & { changeFeed?: SessionServiceOptions["changeFeed"] } = {}) {
  const store = storeWith([cliSession("abc"), cliSession("other")]);
  const logger = recordingLogger();
  const app = appFor(store, { watch: true, trash: new MemoryTrash(store), logger, ...options, changeFeed: { coalesceMs: 5, ...options.changeFeed } });
  const subscribe = async (path = "/admin/sessions/events", headers: Record<string, string> = AUTH) => {
    // A client lists first; the first scan is where the feed starts from (the Node server makes it at start).
    await app.request("/admin/sessions", { headers: AUTH });
    const res = await app.request(path, { headers });
    expect(res.status).toBe(200);
    const reader = readEventStream(res);
    open.push(reader);
    return { res, reader };
  };
  return { store, app, logger, subscribe };
}

/** The stream's first message has only an id: where the subscriber stands. */
async function startingId(reader: EventStreamReader): Promise<number> {
  await reader.until((r) => r.messages().some((message) => message.id !== undefined));
  return Number(reader.messages().find((message) => message.id !== undefined)?.id);
}

const dataCount = (n: number) => (reader: EventStreamReader) => reader.events().length >= n;

describe("GET /admin/sessions/events", () => {
  it("streams unnamed messages: retry first, then an id alone, then each change with the next id", async () => {
    const { app, subscribe } = setup();
    const { res, reader } = await subscribe();
    expect(res.headers.get("Content-Type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("Cache-Control")).toBe("private, no-cache");
    const start = await startingId(reader);
    expect(reader.text()).toBe(`: opta-sessions live feed\nretry: 5000\n\nid: ${start}\n\n`);
    await app.request("/admin/sessions/abc", { method: "DELETE", headers: AUTH });
    await reader.until(dataCount(1));
    expect(reader.text()).toContain(`\n\nid: ${start + 1}\ndata: {"type":"session.deleted","id":"abc"}\n\n`);
    expect(reader.messages().every((message) => message.event === undefined)).toBe(true);
  });

  it("sends what the CLI writes with the summary exactly as the listing shows it", async () => {
    const { app, store, subscribe } = setup();
    const { reader } = await subscribe();
    await startingId(reader);
    store.put("fresh.json", cliFile(cliSession("fresh", { title: "Fresh" })));
    await reader.until(dataCount(1));
    const listing = await (await app.request("/admin/sessions", { headers: AUTH })).text();
    const row = JSON.stringify(JSON.parse(listing).sessions.find((session: { id: string }) => session.id === "fresh"));
    expect(reader.messages().at(-1)?.data).toBe(`{"type":"session.created","session":${row}}`);
  });

  it("resumes after Last-Event-ID (header or query) with exactly the events missed, and resets past its history", async () => {
    const { app, store, subscribe } = setup({ changeFeed: { historySize: 3 } });
    const { reader } = await subscribe();
    const start = await startingId(reader);
    for (const id of ["s1", "s2"]) {
      store.put(`${id}.json`, cliFile(cliSession(id)));
      await reader.until(dataCount(Number(id.slice(1))));
    }
    const byHeader = (await subscribe("/admin/sessions/events", { ...AUTH, "Last-Event-ID": String(start + 1) })).reader;
    await byHeader.until(dataCount(1));
    const byQuery = (await subscribe(`/admin/sessions/events?last_event_id=${start}`)).reader;
    await byQuery.until(dataCount(2));
    expect(byHeader.messages().map((message) => message.id)).toEqual([undefined, String(start + 2)]);
    expect(byQuery.events()).toEqual(reader.events());
    await app.request("/admin/sessions/abc", { method: "DELETE", headers: AUTH });
    await app.request("/admin/sessions/other", { method: "DELETE", headers: AUTH });
    await reader.until(dataCount(4));
    const tooOld = (await subscribe("/admin/sessions/events", { ...AUTH, "Last-Event-ID": String(start) })).reader;
    await tooOld.until(dataCount(1));
    expect(tooOld.messages().at(-1)).toEqual({ id: String(start + 4), data: '{"type":"reset"}', comments: [] });
  });

  it("sends a comment while nothing changes", async () => {
    const { subscribe } = setup({ changeFeed: { heartbeatMs: 20 } });
    const { reader } = await subscribe();
    await reader.until((r) => r.messages().some((message) => message.comments.includes("heartbeat")));
  });

  it("is never taken for a session id, whatever the directory holds", async () => {
    const { store, subscribe } = setup();
    store.put("events.json", cliFile(cliSession("events")));
    const { res } = await subscribe();
    expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
  });

  it("answers a browser on an allowed origin with CORS, like every route", async () => {
    const { subscribe } = setup();
    const { res } = await subscribe("/admin/sessions/events", { ...AUTH, Origin: DASHBOARD_ORIGIN });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
  });

  it("lets a browser on an allowed origin resume with Last-Event-ID, which a preflight allows", async () => {
    const { app } = setup();
    const preflight = await app.request("/admin/sessions/events", {
      method: "OPTIONS",
      headers: { Origin: DASHBOARD_ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-admin-key,last-event-id" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(DASHBOARD_ORIGIN);
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase().split(",")).toContain("last-event-id");
  });

  it("refuses a subscriber past the cap with 503 too_many_subscribers, and takes one again once one leaves", async () => {
    const { app, subscribe } = setup({ changeFeed: { maxSubscribers: 1 } });
    const { reader } = await subscribe();
    await startingId(reader);
    const refused = await app.request("/admin/sessions/events", { headers: AUTH });
    expect(refused.headers.get("Retry-After")).toBe("5");
    await expectError(refused, 503, { type: "server_error", code: "too_many_subscribers" });
    await reader.cancel();
    await subscribe();
  });

  it("drops a subscriber that stops reading, and keeps sending to the others", async () => {
    const { app, store, subscribe } = setup({ changeFeed: { queueSize: 2 } });
    const stalled = await app.request("/admin/sessions/events", { headers: AUTH }); // never read
    const { reader } = await subscribe();
    await startingId(reader);
    for (let i = 1; i <= 6; i++) {
      store.put(`s${i}.json`, cliFile(cliSession(`s${i}`)));
      await reader.until(dataCount(i));
    }
    const read = await stalled.text().then(
      () => "ended",
      (error: unknown) => String(error),
    );
    expect(read).toMatch(/stopped reading/);
  });

  it("answers 501 events_unavailable where the service keeps no feed (the Worker)", async () => {
    const store = storeWith([cliSession("abc")]);
    const app = appFor(store);
    await expectError(await app.request("/admin/sessions/events", { headers: AUTH }), 501, {
      type: "server_error",
      code: "events_unavailable",
      message: "the live feed runs on the Node server only: on this deployment, poll GET /admin/sessions instead",
    });
  });
});

describe("GET /admin/sessions/events: the key", () => {
  it("takes the key as ?admin_key= on this route, and never writes it to a log line", async () => {
    const { logger, subscribe } = setup();
    const { reader } = await subscribe(`/admin/sessions/events?admin_key=${ADMIN_KEY}`, {});
    await startingId(reader);
    await reader.cancel();
    expect(logger.lines.map((entry) => entry.line)).toContainEqual(expect.stringMatching(/^GET \/admin\/sessions\/events 200 /));
    expect(JSON.stringify(logger.lines)).not.toContain(ADMIN_KEY);
  });

  it("takes the key by header as on every route, and refuses a request without one", async () => {
    const { app, subscribe } = setup();
    await subscribe("/admin/sessions/events", { Authorization: `Bearer ${ADMIN_KEY}` });
    await expectError(await app.request("/admin/sessions/events"), 401, { type: "authentication_error", code: "invalid_admin_key" });
    await expectError(await app.request("/admin/sessions/events?admin_key=wrong-key-of-some-length"), 401, {
      type: "authentication_error",
      code: "invalid_admin_key",
    });
  });

  it("refuses ?admin_key= on every other route", async () => {
    const { app } = setup();
    for (const path of ["/admin/sessions", "/admin/sessions/abc", "/admin/trash"]) {
      await expectError(await app.request(`${path}?admin_key=${ADMIN_KEY}`), 401, { type: "authentication_error", code: "invalid_admin_key" });
    }
  });

  it("keeps the key out of the log on LMX's own feed too, forwarded under --upstream (the dashboard's EventSource)", async () => {
    const logger = recordingLogger();
    const app = appFor(storeWith([]), { logger, upstream: new URL("http://127.0.0.1:9"), changeFeed: {} }); // nothing listens there
    const res = await app.request(`/admin/events?admin_key=${ADMIN_KEY}`);
    await expectError(res, 502, { type: "server_error", code: "upstream_unavailable" });
    expect(logger.lines.map((entry) => entry.line)).toContainEqual(expect.stringContaining("/admin/events"));
    expect(JSON.stringify(logger.lines)).not.toContain(ADMIN_KEY);
  });

  it("never counts keyless requests toward the wrong-key throttle", async () => {
    const { app, subscribe } = setup({ throttle: { maxFailures: 2 } });
    for (let i = 0; i < 10; i++) expect((await app.request("/admin/sessions/events")).status).toBe(401);
    await subscribe(`/admin/sessions/events?admin_key=${ADMIN_KEY}`, {});
  });
});
