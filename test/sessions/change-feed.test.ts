import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../src/http/errors.js";
import { ListQuerySchema, type SessionSummary } from "../../src/http/schemas.js";
import { ChangeFeed, type ChangeFeedOptions, type FeedMessage, type Subscription } from "../../src/sessions/change-feed.js";
import { SessionService } from "../../src/sessions/service.js";
import { MemoryTrash } from "../../src/storage/memory-trash.js";
import { cliFile, cliSession, memorySearchDatabase, storeWith } from "../fixtures/sessions.js";

const START = Date.parse("2026-07-01T12:00:00.000Z");

beforeEach(() => {
  vi.useFakeTimers({ now: START });
});
afterEach(() => {
  vi.useRealTimers();
});

const fakeSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function feedWith(options: Partial<ChangeFeedOptions> = {}) {
  const refresh = vi.fn(async () => {});
  const feed = new ChangeFeed({ now: Date.now, sleep: fakeSleep, refresh, warn: () => {}, ...options });
  return { feed, refresh };
}

const summary = (id: string, title: string): SessionSummary => ({
  id,
  title,
  model: null,
  tags: [],
  created: "2026-07-01T12:00:00.000Z",
  updated: "2026-07-01T12:00:00.000Z",
  created_at: "2026-07-01T12:00:00.000Z",
  updated_at: "2026-07-01T12:00:00.000Z",
  message_count: 1,
  first_user_message: "hi",
});

/** The next n messages, events parsed. */
async function nextMessages(subscription: Subscription, n: number): Promise<(FeedMessage | { id: number; event: unknown })[]> {
  const messages = [];
  for (let i = 0; i < n; i++) {
    const message = await subscription.next();
    if (message === null) throw new Error(`ended after ${i} messages`);
    messages.push("data" in message && message.data !== null ? { id: message.id, event: JSON.parse(message.data) } : message);
  }
  return messages;
}

const idOf = (message: unknown) => (message !== null && typeof message === "object" && "id" in message ? message.id : undefined);

/** Follows a promise, to see whether it has settled after timers are advanced. */
function watched(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  void promise.then(() => (state.settled = true));
  return state;
}

describe("the change feed", () => {
  it("tells a new subscriber where it stands, then sends each change once the window closes", async () => {
    const { feed } = feedWith();
    const subscription = feed.subscribe(null);
    expect(await subscription.next()).toEqual({ id: START, data: null });
    feed.changed("a", null, summary("a", "first"));
    const next = subscription.next();
    const state = watched(next);
    await vi.advanceTimersByTimeAsync(99);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(JSON.parse(((await next) as { data: string }).data)).toEqual({ type: "session.created", session: summary("a", "first") });
  });

  it("coalesces a session's changes within a window into one event, and says what changed overall", async () => {
    const { feed } = feedWith();
    const subscription = feed.subscribe(null);
    await subscription.next();
    feed.changed("a", null, summary("a", "one"));
    feed.changed("a", summary("a", "one"), summary("a", "two"));
    feed.changed("b", summary("b", "old"), null);
    feed.changed("c", null, summary("c", "brief")); // made and gone within the window: nothing to say
    feed.changed("c", summary("c", "brief"), null);
    feed.changed("d", summary("d", "same"), null); // gone and back as it was: nothing either
    feed.changed("d", null, summary("d", "same"));
    await vi.advanceTimersByTimeAsync(100);
    expect(await nextMessages(subscription, 2)).toEqual([
      { id: START + 1, event: { type: "session.created", session: summary("a", "two") } },
      { id: START + 2, event: { type: "session.deleted", id: "b" } },
    ]);
    feed.changed("a", summary("a", "two"), summary("a", "three"));
    await vi.advanceTimersByTimeAsync(100);
    expect(await nextMessages(subscription, 1)).toEqual([{ id: START + 3, event: { type: "session.updated", session: summary("a", "three") } }]);
  });

  it("sends at most one event per session per window while a session changes without pause", async () => {
    const { feed } = feedWith();
    const subscription = feed.subscribe(null);
    await subscription.next();
    let before: SessionSummary | null = null;
    for (let i = 0; i < 100; i++) {
      const after = summary("busy", `title ${i}`);
      feed.changed("busy", before, after);
      before = after;
      await vi.advanceTimersByTimeAsync(10); // 1 s of a change every 10 ms
    }
    await vi.advanceTimersByTimeAsync(100);
    const events = [];
    for (let message = await Promise.resolve(subscription.next()); ; message = await subscription.next()) {
      events.push(message);
      if (message && "data" in message && message.data?.includes("title 99")) break;
    }
    expect(events.length).toBeLessThanOrEqual(11);
    expect(events.length).toBeGreaterThanOrEqual(9);
  });

  it("refreshes the listing once per window, however many changes were noted", async () => {
    const { feed, refresh } = feedWith();
    feed.subscribe(null);
    await vi.advanceTimersByTimeAsync(100); // a new subscriber's catch-up
    expect(refresh).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 5; i++) feed.noted();
    await vi.advanceTimersByTimeAsync(99);
    expect(refresh).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(refresh).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it("refreshes nothing while nobody subscribes, and sends what changed meanwhile to the next subscriber", async () => {
    const { feed, refresh } = feedWith();
    feed.noted();
    feed.changed("a", null, summary("a", "made while nobody watched")); // a list request's re-read, say
    await vi.advanceTimersByTimeAsync(1000);
    expect(refresh).not.toHaveBeenCalled();
    const subscription = feed.subscribe(null);
    await vi.advanceTimersByTimeAsync(100);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(await nextMessages(subscription, 2)).toEqual([
      { id: START, data: null },
      { id: START + 1, event: { type: "session.created", session: summary("a", "made while nobody watched") } },
    ]);
  });

  it("warns once while the listing cannot be refreshed, and again only after it could be", async () => {
    const warnings: string[] = [];
    let failing = true;
    const { feed } = feedWith({
      warn: (line) => warnings.push(line),
      refresh: async () => {
        if (failing) throw new Error("EACCES");
      },
    });
    feed.subscribe(null);
    for (let i = 0; i < 3; i++) {
      feed.noted();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(warnings).toEqual(["the live feed could not refresh the listing: Error: EACCES"]);
    failing = false;
    feed.noted();
    await vi.advanceTimersByTimeAsync(100);
    failing = true;
    feed.noted();
    await vi.advanceTimersByTimeAsync(100);
    expect(warnings).toHaveLength(2);
  });

  it("resumes after a Last-Event-ID from its history, losing nothing and repeating nothing", async () => {
    const { feed } = feedWith();
    feed.subscribe(null); // someone is watching, so changes are sent as they come
    for (const title of ["one", "two", "three", "four"]) {
      feed.changed("a", null, summary("a", title));
      feed.changed("a", summary("a", title), null);
      feed.changed(title, null, summary(title, title));
      await vi.advanceTimersByTimeAsync(100);
    }
    const resumed = feed.subscribe(START + 2);
    expect((await nextMessages(resumed, 2)).map(idOf)).toEqual([START + 3, START + 4]);
    const current = feed.subscribe(START + 4);
    feed.changed("five", null, summary("five", "five"));
    await vi.advanceTimersByTimeAsync(100);
    expect(await nextMessages(current, 1)).toEqual([{ id: START + 5, event: { type: "session.created", session: summary("five", "five") } }]);
  });

  it("starts with reset for an id older than its history, from another run, or unreadable", async () => {
    const { feed } = feedWith({ historySize: 2 });
    feed.subscribe(null);
    for (const id of ["a", "b", "c"]) feed.changed(id, null, summary(id, id));
    await vi.advanceTimersByTimeAsync(100);
    // History holds START+2 and START+3: START+1 is still resumable (what follows it is kept), START is not.
    expect((await nextMessages(feed.subscribe(START + 1), 2)).map(idOf)).toEqual([START + 2, START + 3]);
    for (const lastEventId of [START, START + 99, 5, -1]) {
      expect(await nextMessages(feed.subscribe(lastEventId), 1)).toEqual([{ id: START + 3, event: { type: "reset" } }]);
    }
  });

  it("sends every subscriber a heartbeat every 15 s, and stops its timer when none is left", async () => {
    const { feed } = feedWith();
    const subscription = feed.subscribe(null);
    await subscription.next();
    const beat = subscription.next();
    const state = watched(beat);
    await vi.advanceTimersByTimeAsync(14_999);
    expect(state.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await beat).toEqual({ heartbeat: true });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(await subscription.next()).toEqual({ heartbeat: true });
    subscription.end();
    await vi.advanceTimersByTimeAsync(15_000 + 100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("refuses a subscriber past the cap with 503 too_many_subscribers, and takes one again when one leaves", () => {
    const { feed } = feedWith({ maxSubscribers: 2 });
    const first = feed.subscribe(null);
    feed.subscribe(null);
    const refused = (() => {
      try {
        feed.subscribe(null);
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ status: 503, code: "too_many_subscribers" });
    first.end();
    expect(feed.subscriberCount).toBe(1);
    expect(() => feed.subscribe(null)).not.toThrow();
  });

  it("drops a subscriber that stops reading once its queue is full, without holding back the others", async () => {
    const warnings: string[] = [];
    const { feed } = feedWith({ queueSize: 3, warn: (line) => warnings.push(line) });
    const stalled = feed.subscribe(null);
    const reader = feed.subscribe(null);
    await reader.next();
    const ended = vi.fn();
    stalled.onEnd(ended);
    // A change every 400 ms, each sent 100 ms later: its queue (its starting id, then events) is full from 900 ms,
    // and the first event after it has gone a second unread (the fourth, at 1,300 ms) drops it.
    for (let i = 0; i < 5; i++) {
      feed.changed(`s${i}`, null, summary(`s${i}`, "x"));
      await vi.advanceTimersByTimeAsync(400);
      expect(idOf((await nextMessages(reader, 1))[0])).toBe(START + i + 1);
      expect(stalled.dropped).toBe(i >= 3);
    }
    expect(warnings).toEqual(["dropped a live-feed subscriber that stopped reading (over 3 messages waiting for it)"]);
    expect(ended).toHaveBeenCalledOnce();
    expect(await stalled.next()).toBeNull();
    expect(feed.subscriberCount).toBe(1);
  });

  it("keeps a subscriber that reads through a burst past its queue, and drops any past twice that", async () => {
    const { feed } = feedWith({ queueSize: 3 });
    const reader = feed.subscribe(null);
    await reader.next();
    const burst = (from: number, count: number) => {
      for (let i = from; i < from + count; i++) feed.changed(`s${i}`, null, summary(`s${i}`, "x"));
    };
    burst(0, 6); // one window: 1 handed over at once, 5 waiting, while it was reading a moment ago
    await vi.advanceTimersByTimeAsync(100);
    expect((await nextMessages(reader, 6)).map(idOf)).toEqual([1, 2, 3, 4, 5, 6].map((n) => START + n));
    expect(reader.dropped).toBe(false);
    burst(6, 8); // 7 waiting: more than twice its queue
    await vi.advanceTimersByTimeAsync(100);
    expect(reader.dropped).toBe(true);
  });

  it("ends every subscription when closed", async () => {
    const { feed } = feedWith();
    const subscription = feed.subscribe(null);
    await subscription.next();
    const next = subscription.next();
    feed.close();
    expect(await next).toBeNull();
    expect(subscription.dropped).toBe(false);
    await vi.advanceTimersByTimeAsync(100); // a window already open runs out, and starts no other
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("the change feed fed by the catalog", () => {
  /** A service over a watched memory store, its first scan done. */
  async function watchedService(ids: string[]) {
    const store = storeWith(ids.map((id) => cliSession(id)));
    const sessions = new SessionService(store, {
      searchDatabase: memorySearchDatabase,
      watch: true,
      sleep: fakeSleep,
      trash: new MemoryTrash(store),
      changeFeed: {},
    });
    await sessions.warmUp();
    const feed = sessions.feed;
    if (!feed) throw new Error("no feed");
    const subscription = feed.subscribe(null);
    await subscription.next();
    return { store, sessions, subscription };
  }

  it("sends nothing for the first scan, then each file the watch reports, once it parses", async () => {
    const { store, subscription } = await watchedService(["old"]);
    store.put("new.json", '{"id": "new", "messages": [{"role": "us'); // half-written: not listed, nothing sent
    await vi.advanceTimersByTimeAsync(100);
    store.put("new.json", cliFile(cliSession("new", { title: "complete" })));
    await vi.advanceTimersByTimeAsync(100);
    const [created] = await nextMessages(subscription, 1);
    expect(created).toMatchObject({ event: { type: "session.created", session: { id: "new", title: "complete" } } });
    store.put("old.json", cliFile(cliSession("old", { title: "renamed" })));
    store.remove("new.json");
    await vi.advanceTimersByTimeAsync(100);
    // One window: each session's event, in whichever order the catalog re-read them.
    expect(await nextMessages(subscription, 2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          event: expect.objectContaining({ type: "session.updated", session: expect.objectContaining({ id: "old", title: "renamed" }) }),
        }),
        expect.objectContaining({ event: { type: "session.deleted", id: "new" } }),
      ]),
    );
  });

  it("sends the API's own deletes and restores, with the summary the listing shows", async () => {
    const { sessions, subscription } = await watchedService(["abc", "other"]);
    const listed = (await sessions.list(ListQuerySchema.parse({}))).sessions.find((session) => session.id === "abc");
    await sessions.delete("abc");
    await vi.advanceTimersByTimeAsync(100);
    expect(await nextMessages(subscription, 1)).toMatchObject([{ event: { type: "session.deleted", id: "abc" } }]);
    await sessions.trash.restore("abc");
    await vi.advanceTimersByTimeAsync(100);
    expect(await nextMessages(subscription, 1)).toMatchObject([{ event: { type: "session.created", session: listed } }]);
  });
});
