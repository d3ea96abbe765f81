import { TooManySubscribers } from "../http/errors.js";
import type { SessionSummary } from "../http/schemas.js";
import type { Sleep } from "../shared/clock.js";
import type { CatalogListener } from "./catalog.js";

export interface ChangeFeedOptions {
  /** Milliseconds since the epoch: the first id follows it, so an id from an earlier run is never taken for one of ours. */
  now: () => number;
  /** The coalescing window's pause. */
  sleep: Sleep;
  /** Brings the listing up to date: the catalog re-reads what changed and reports each change (changed()). */
  refresh: () => Promise<void>;
  warn: (message: string) => void;
  /** At most one event per session per this many ms (default 100). */
  coalesceMs?: number;
  /** Events kept for Last-Event-ID resume (default 1000); an older id gets `reset`. */
  historySize?: number;
  /** A comment goes to every subscriber this often (default 15 s), so proxies and clients see the stream alive. */
  heartbeatMs?: number;
  /** Subscribers at once (default 100); one more is refused (TooManySubscribers, 503). */
  maxSubscribers?: number;
  /**
   * Messages waiting for a subscriber (default 1000, the history's default) past which one that has read
   * nothing for a second is dropped, as one that stopped reading; past twice as many, any subscriber is
   * (it cannot keep up, and could not resume from the history either).
   */
  queueSize?: number;
}

/** What the feed says: a change to the listing, or `reset` (resume impossible: list again). */
export type FeedEvent = { type: "session.created" | "session.updated"; session: SessionSummary } | { type: "session.deleted"; id: string } | { type: "reset" };

/**
 * One message for a subscriber: an event's id and JSON text (serialized once for all), an id alone
 * (`data` null: it tells a new subscriber where it stands, so even its first reconnect resumes), or
 * a heartbeat.
 */
export type FeedMessage = { id: number; data: string | null } | { heartbeat: true };

/** A subscriber with a full queue that has read nothing for this long has stopped reading (one that reads, however slowly, has not). */
const STALLED_MS = 1000;

const DEFAULTS = { coalesceMs: 100, historySize: 1000, heartbeatMs: 15_000, maxSubscribers: 100, queueSize: 1000 };

/**
 * The listing's changes as numbered events, for GET /admin/sessions/events. Everything reaches it
 * through the catalog (its watch, its rescans, and the API's writes, which note their files there),
 * so an event says what the listing says: per session at most one per window, and only once the
 * file parses (a half-written file is not in the listing).
 */
export class ChangeFeed implements CatalogListener {
  readonly #options: Required<ChangeFeedOptions>;
  /** Per session, its summary before the window's first change and after its last (null: not listed). */
  readonly #pending = new Map<string, { before: SessionSummary | null; after: SessionSummary | null }>();
  readonly #history: { id: number; data: string }[] = [];
  readonly #subscribers = new Set<Subscription>();
  #lastId: number;
  #dirty = false;
  #running = false;
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  #refreshFailing = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = { ...DEFAULTS, ...options };
    this.#lastId = Math.max(0, Math.floor(options.now()));
  }

  /**
   * Something may have changed (a watch event, an API write): look within the window. Only while someone
   * subscribes: unwatched, the catalog re-reads at the next request as before, and what changed meanwhile
   * is sent once a subscriber comes (the catalog compares each entry with what it held).
   */
  noted(): void {
    this.#dirty = true;
    if (!this.#running && !this.#closed && this.#subscribers.size > 0) void this.#run();
  }

  /** A session's listing entry changed (null: not listed), as the catalog saw it. */
  changed(id: string, before: SessionSummary | null, after: SessionSummary | null): void {
    const pending = this.#pending.get(id);
    if (pending) pending.after = after;
    else this.#pending.set(id, { before, after });
    this.noted();
  }

  /**
   * A new subscriber. `lastEventId`: the last event it saw (null: none), to resume after; outside
   * the history it gets `reset` first. Throws TooManySubscribers at the cap.
   */
  subscribe(lastEventId: number | null): Subscription {
    if (this.#subscribers.size >= this.#options.maxSubscribers) throw new TooManySubscribers();
    const subscription = new Subscription({ maxQueued: this.#options.queueSize, now: this.#options.now }, (ended) => {
      this.#subscribers.delete(ended);
      if (ended.dropped) this.#options.warn(`dropped a live-feed subscriber that stopped reading (over ${this.#options.queueSize} messages waiting for it)`);
    });
    const oldestKept = this.#history[0]?.id ?? this.#lastId + 1;
    if (lastEventId === null) subscription.push({ id: this.#lastId, data: null });
    else if (lastEventId >= oldestKept - 1 && lastEventId <= this.#lastId) {
      for (const event of this.#history) if (event.id > lastEventId) subscription.push(event);
    } else subscription.push({ id: this.#lastId, data: JSON.stringify({ type: "reset" } satisfies FeedEvent) });
    if (this.#closed) subscription.end();
    else {
      this.#subscribers.add(subscription);
      this.#heartbeat ??= setInterval(() => this.#beat(), this.#options.heartbeatMs);
      this.noted(); // catch up on what changed while nobody was subscribed
    }
    return subscription;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Ends every subscription (their streams close) and stops. */
  close(): void {
    this.#closed = true;
    for (const subscription of [...this.#subscribers]) subscription.end();
    this.#stopBeating();
  }

  /** Windows follow each other while changes keep coming: each refreshes the listing, then sends what changed. */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#dirty && !this.#closed) {
        await this.#options.sleep(this.#options.coalesceMs);
        this.#dirty = false; // what was noted during the pause is this window's; what comes during the refresh, the next's
        await this.#refresh();
        this.#flush();
      }
    } finally {
      this.#running = false;
    }
  }

  /** A failing refresh is said once, not at every window and heartbeat until it works again. */
  async #refresh(): Promise<void> {
    try {
      await this.#options.refresh();
      this.#refreshFailing = false;
    } catch (error) {
      if (!this.#refreshFailing) this.#options.warn(`the live feed could not refresh the listing: ${String(error)}`);
      this.#refreshFailing = true;
    }
  }

  #flush(): void {
    const changes = [...this.#pending];
    this.#pending.clear();
    for (const [id, { before, after }] of changes) {
      if (after === null) {
        if (before !== null) this.#emit({ type: "session.deleted", id });
      } else if (before === null) this.#emit({ type: "session.created", session: after });
      else if (JSON.stringify(before) !== JSON.stringify(after)) this.#emit({ type: "session.updated", session: after });
    }
  }

  #emit(event: FeedEvent): void {
    const message = { id: ++this.#lastId, data: JSON.stringify(event) };
    this.#history.push(message);
    if (this.#history.length > this.#options.historySize) this.#history.shift();
    for (const subscription of this.#subscribers) subscription.push(message);
  }

  #beat(): void {
    if (this.#subscribers.size === 0) {
      this.#stopBeating();
      return;
    }
    for (const subscription of this.#subscribers) subscription.push({ heartbeat: true });
    // A heartbeat also looks for changes a watch may have missed (the catalog re-checks the store when due).
    this.noted();
  }

  #stopBeating(): void {
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }
}

/**
 * One subscriber's messages, in order. Bounded: a subscriber whose queue is full and that has read
 * nothing for a second (it stopped reading), or whose queue holds twice that, is dropped, so it never
 * holds memory or slows the others; it can come back with its last id.
 */
export class Subscription {
  readonly #queue: FeedMessage[] = [];
  readonly #maxQueued: number;
  readonly #now: () => number;
  readonly #onEnd: (subscription: Subscription) => void;
  readonly #endListeners: (() => void)[] = [];
  #waiting: ((message: FeedMessage | null) => void) | null = null;
  #lastReadAt: number;
  #ended = false;
  #dropped = false;

  constructor(limits: { maxQueued: number; now: () => number }, onEnd: (subscription: Subscription) => void) {
    this.#maxQueued = limits.maxQueued;
    this.#now = limits.now;
    this.#lastReadAt = limits.now();
    this.#onEnd = onEnd;
  }

  /** Ended because it stopped reading (not because it left or the feed closed). */
  get dropped(): boolean {
    return this.#dropped;
  }

  /** The next message, waiting for one; null once ended. */
  next(): Promise<FeedMessage | null> {
    this.#lastReadAt = this.#now();
    const message = this.#queue.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  push(message: FeedMessage): void {
    if (this.#ended) return;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = null;
      resolve(message);
    } else if (this.#queue.length >= this.#maxQueued && (this.#now() - this.#lastReadAt >= STALLED_MS || this.#queue.length >= 2 * this.#maxQueued)) {
      this.#dropped = true;
      this.end();
    } else this.#queue.push(message);
  }

  /** Called once when it ends (dropped, left, or the feed closed): a stream that waits on no read can close at once. */
  onEnd(listener: () => void): void {
    if (this.#ended) listener();
    else this.#endListeners.push(listener);
  }

  /** Ends it: what was queued is let go; `next()` answers null. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue.length = 0;
    this.#onEnd(this);
    this.#waiting?.(null);
    this.#waiting = null;
    for (const listener of this.#endListeners) listener();
  }
}
