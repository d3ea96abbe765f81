import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { FeedMessage, Subscription } from "../../sessions/change-feed.js";
import type { AppEnv } from "../app.js";
import { EventsUnavailable } from "../errors.js";
import { errors } from "../openapi.js";
import { routeGroup } from "../validate.js";

/** The live feed's path: the one route that also takes the key as `?admin_key=` (an EventSource cannot send headers). */
export const EVENTS_PATH = "/admin/sessions/events";

/** How long a browser's EventSource waits before reconnecting (it then sends Last-Event-ID by itself). */
export const RETRY_MS = 5000;

const EVENT_ID = /^[0-9]{1,16}$/;

const events = createRoute({
  method: "get",
  path: "/",
  summary: "Live changes to the listing, as server-sent events (Node server only: the Worker answers 501 events_unavailable)",
  description: [
    'Unnamed SSE messages, each an increasing `id:` and `data:` one JSON object: `{"type":"session.created"|"session.updated","session":SessionSummary}`',
    'or `{"type":"session.deleted","id":"<id>"}`; at most one per session per ~100 ms, only once its file parses. `Last-Event-ID` (or',
    '`?last_event_id=`) resumes after that event from a bounded history; older (or unreadable), the first event is `{"type":"reset"}`: list again.',
    "A comment at least every 15 s; `retry:` set. On the Cloudflare Worker this answers 501 `events_unavailable`: poll the listing there.",
  ].join(" "),
  request: {
    query: z.object({
      last_event_id: z.string().optional().meta({ description: "resume after this event (where the Last-Event-ID header cannot be sent)" }),
      admin_key: z.string().optional().meta({ description: "the admin key, on this route only (a browser EventSource cannot send headers); never logged" }),
    }),
    headers: z.object({ "last-event-id": z.string().optional().meta({ description: "resume after this event (an EventSource sends it when it reconnects)" }) }),
  },
  responses: {
    200: { description: "The event stream, until the client leaves", content: { "text/event-stream": { schema: { type: "string" } } } },
    ...errors(501, 503),
  },
});

export interface EventRoutesOptions {
  /**
   * Cuts the connection of a subscriber that stopped reading (the Node edge destroys its socket). A Web
   * stream cannot reach its socket: without this the stream is errored, which ends it at the next write.
   */
  cutConnection?: (c: Context) => void;
}

/** /admin/sessions/events: the listing's changes, streamed (see sessions/change-feed.ts). */
export function eventRoutes(options: EventRoutesOptions = {}) {
  return routeGroup().openapi(events, (c) => {
    const feed = c.var.sessions.feed;
    if (!feed) throw new EventsUnavailable();
    const offered = c.req.valid("header")["last-event-id"] ?? c.req.valid("query").last_event_id;
    // An id we cannot read is treated as one older than the history: the client gets `reset` and lists again.
    const lastEventId = offered === undefined ? null : EVENT_ID.test(offered) ? Number(offered) : -1;
    const subscription = feed.subscribe(lastEventId);
    return c.body(eventStream(c, subscription, options), 200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "X-Accel-Buffering": "no", // a proxy that buffers would hold every event back
    });
  });
}

const encoder = new TextEncoder();

/** Pulled by the server as the client reads: a message leaves the subscription's queue only when there is room for it. */
function eventStream(c: Context<AppEnv>, subscription: Subscription, options: EventRoutesOptions): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      subscription.onEnd(() => {
        if (!subscription.dropped) return;
        if (options.cutConnection) options.cutConnection(c);
        else controller.error(new Error("the subscriber stopped reading and was dropped"));
      });
      controller.enqueue(encoder.encode(`: opta-sessions live feed\nretry: ${RETRY_MS}\n\n`));
    },
    async pull(controller) {
      const message = await subscription.next();
      if (message === null) {
        if (!subscription.dropped) controller.close();
        return;
      }
      controller.enqueue(encoder.encode(sseText(message)));
    },
    cancel() {
      subscription.end();
    },
  });
}

function sseText(message: FeedMessage): string {
  if ("heartbeat" in message) return ": heartbeat\n\n";
  // An id without data moves the client's Last-Event-ID without an event (EventSource fires nothing for it).
  return message.data === null ? `id: ${message.id}\n\n` : `id: ${message.id}\ndata: ${message.data}\n\n`;
}
