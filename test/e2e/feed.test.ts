import { once } from "node:events";
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../fixtures/errors.js";
import { type EventStreamReader, readEventStream } from "../fixtures/event-stream.js";
import { ADMIN_KEY, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

/** The contract: a change reaches a subscriber within 1 s. */
const WITHIN_MS = 1000;
const KEY = { "X-Admin-Key": ADMIN_KEY };

let root: string;
let dir: string;
let server: ServerProcess | undefined;
let url: string;
const open: EventStreamReader[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-e2e-feed-"));
  dir = path.join(root, "sessions");
  await mkdir(dir);
  await writeFile(path.join(dir, "seeded000001.json"), cliFile(cliSession("seeded000001")));
  server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
  [, url = ""] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  expect((await fetch(`${url}/admin/sessions`, { headers: KEY })).status).toBe(200); // the first scan, done
});
afterAll(async () => {
  await Promise.all(open.map((reader) => reader.cancel().catch(() => {})));
  await killProcess(server);
  await rm(root, { recursive: true, force: true });
});

async function subscribe(query = "", headers: Record<string, string> = KEY): Promise<EventStreamReader> {
  const res = await fetch(`${url}/admin/sessions/events${query}`, { headers });
  expect(res.status).toBe(200);
  const reader = readEventStream(res);
  open.push(reader);
  await reader.until((r) => r.messages().some((message) => message.id !== undefined));
  return reader;
}

type Event = { type: string; id?: string; session?: { id: string; title: string | null; message_count: number } };
const eventsOf = (reader: EventStreamReader) => reader.events() as Event[];
const sessionOf = (event: Event) => event.id ?? event.session?.id;

/** Does `change`, then waits until every reader has `count` more events; answers the new ones (the first reader's) and how long they took. */
async function expectEvents(
  readers: EventStreamReader[],
  count: number,
  change: () => Promise<void>,
  deadlineMs = 3000,
): Promise<{ events: Event[]; ms: number }> {
  const before = readers.map((reader) => eventsOf(reader).length);
  const startedAt = performance.now();
  // Reading all along, as a live client does (one that reads only afterwards would have stopped reading meanwhile).
  const arrived = Promise.all(readers.map((reader, i) => reader.until((r) => eventsOf(r).length >= (before[i] ?? 0) + count, deadlineMs)));
  await change();
  await arrived;
  const ms = performance.now() - startedAt;
  const added = readers.map((reader, i) => eventsOf(reader).slice(before[i]));
  for (const events of added) expect(events).toEqual(added[0]);
  return { events: added[0] ?? [], ms };
}

/** The CLI's own way: truncate, then write (here in two pieces, `pauseMs` apart, so a reader can land in between). */
async function writeLikeTheCli(file: string, text: string, pauseMs = 0): Promise<void> {
  const half = Math.floor(text.length / 2);
  await writeFile(file, text.slice(0, half));
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  await writeFile(file, text);
}

describe("GET /admin/sessions/events on the real server", () => {
  it("sends every change the CLI makes once, in order per session, within 1 s, and nothing for a half-written file", async () => {
    const byHeader = await subscribe();
    const byQuery = await subscribe(`?admin_key=${ADMIN_KEY}`, {});
    const readers = [byHeader, byQuery];
    const file = (id: string) => path.join(dir, `${id}.json`);
    const latencies: number[] = [];

    // Half of it sits on disk for 300 ms before the rest: only the whole session is ever sent.
    const created = await expectEvents(readers, 1, () => writeLikeTheCli(file("livefeed0001"), cliFile(cliSession("livefeed0001", { title: "v1" })), 300));
    expect(created.events).toMatchObject([{ type: "session.created", session: { id: "livefeed0001", title: "v1", message_count: 2 } }]);
    latencies.push(created.ms - 300);

    const messages = [...(cliSession("x").messages as unknown[]), { role: "user", content: "more" }, { role: "assistant", content: "ok" }];
    const grown = await expectEvents(readers, 1, () => writeLikeTheCli(file("livefeed0001"), cliFile(cliSession("livefeed0001", { title: "v2", messages }))));
    expect(grown.events).toMatchObject([{ type: "session.updated", session: { id: "livefeed0001", title: "v2", message_count: 4 } }]);
    latencies.push(grown.ms);

    const renamed = await expectEvents(readers, 2, () => rename(file("livefeed0001"), file("livefeed0002")));
    expect(renamed.events).toEqual(
      expect.arrayContaining([
        { type: "session.deleted", id: "livefeed0001" },
        expect.objectContaining({ type: "session.created", session: expect.objectContaining({ id: "livefeed0002" }) }),
      ]),
    );
    latencies.push(renamed.ms);

    const removed = await expectEvents(readers, 1, () => unlink(file("livefeed0002")));
    expect(removed.events).toEqual([{ type: "session.deleted", id: "livefeed0002" }]);
    latencies.push(removed.ms);

    for (const ms of latencies) expect(ms).toBeLessThan(WITHIN_MS);
    // Once each, in order per session; nothing else (no half-written version, no repeats).
    const perSession = (id: string) =>
      eventsOf(byHeader)
        .filter((event) => sessionOf(event) === id)
        .map((event) => event.type);
    expect(perSession("livefeed0001")).toEqual(["session.created", "session.updated", "session.deleted"]);
    expect(perSession("livefeed0002")).toEqual(["session.created", "session.deleted"]);
    expect(eventsOf(byHeader)).toHaveLength(5);
    const ids = byHeader.messages().flatMap((message) => (message.data === undefined ? [] : [Number(message.id)]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    // The query's key reached no log line (the request log prints the path alone).
    expect(server?.output()).toContain("GET /admin/sessions/events 200");
    expect(server?.output()).not.toContain(ADMIN_KEY);
  });

  it("resumes after Last-Event-ID with exactly what was missed, and answers an id from before its history with reset", async () => {
    const watching = await subscribe();
    const away = await subscribe();
    const lastSeen = away.messages().findLast((message) => message.id !== undefined)?.id ?? "";
    await away.cancel();
    await expectEvents([watching], 2, async () => {
      await writeFile(path.join(dir, "resumed00001.json"), cliFile(cliSession("resumed00001")));
      await unlink(path.join(dir, "seeded000001.json"));
    });
    const back = await subscribe("", { ...KEY, "Last-Event-ID": lastSeen });
    await back.until((r) => r.events().length >= 2);
    expect(back.events()).toEqual(eventsOf(watching).slice(-2));
    const tooOld = await subscribe("?last_event_id=1");
    await tooOld.until((r) => r.events().length >= 1);
    expect(tooOld.events()).toEqual([{ type: "reset" }]);
  });

  it("drops a client that stops reading, and keeps sending to the others on time", async () => {
    const reader = await subscribe();
    const { port } = new URL(url);
    const stalled = connect(Number(port), "127.0.0.1");
    await once(stalled, "connect");
    stalled.write(`GET /admin/sessions/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Admin-Key: ${ADMIN_KEY}\r\n\r\n`);
    stalled.pause(); // and never reads: the server's socket buffers fill, then its queue
    const closed = once(stalled, "close");
    stalled.on("error", () => {}); // the server cuts it
    // ~20 KB an event: past what the sockets buffer (some MB on loopback), then past the 1000 messages a subscriber's queue holds.
    const count = 1500;
    const title = "t".repeat(20_000);
    const burst = await expectEvents(
      [reader],
      count,
      async () => {
        for (let i = 0; i < count; i++) {
          await writeFile(path.join(dir, `burst${String(i).padStart(7, "0")}.json`), cliFile(cliSession(`b${i}`, { title })));
          // Spread over a few seconds, as a busy CLI would: the stalled client goes unread for more than a second while its queue is full.
          if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 150));
        }
      },
      15_000,
    );
    expect(burst.events).toHaveLength(count);
    expect(server?.output()).toContain("dropped a live-feed subscriber that stopped reading (over 1000 messages waiting for it)");
    stalled.resume();
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error("the stalled client was never cut off")), 5000))]);
  });

  it("refuses a request without a key, and past 100 subscribers answers 503 too_many_subscribers", async () => {
    await expectError(await fetch(`${url}/admin/sessions/events`), 401, { type: "authentication_error", code: "invalid_admin_key" });
    const more: Response[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 101 && !refused; i++) {
      const res = await fetch(`${url}/admin/sessions/events`, { headers: KEY });
      if (res.status === 503) refused = res;
      else more.push(res);
    }
    try {
      expect(refused).toBeDefined();
      if (refused) await expectError(refused, 503, { type: "server_error", code: "too_many_subscribers" });
      // The others (100 in all, with this file's earlier ones) still stream.
      expect(more.every((res) => res.status === 200)).toBe(true);
    } finally {
      await Promise.all(more.map((res) => res.body?.cancel()));
    }
  });
});
