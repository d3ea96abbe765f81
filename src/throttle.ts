/**
 * Counts wrong admin keys per client address: after `maxFailures` within `windowMs`, that address
 * is refused for `blockMs` without its key being looked at (so guessing stops, and a right key
 * from it waits too). Other addresses are never affected, and a right key clears the count.
 */
export interface ThrottleOptions {
  now: () => number;
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  /** Addresses remembered at most (oldest forgotten first): memory stays bounded under a flood of addresses. */
  maxTracked?: number;
}

interface Attempts {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

export const DEFAULT_THROTTLE = { maxFailures: 10, windowMs: 60_000, blockMs: 60_000, maxTracked: 10_000 };

export class FailedAuthThrottle {
  readonly #options: Required<ThrottleOptions>;
  readonly #records = new Map<string, Attempts>();

  constructor(options: ThrottleOptions) {
    // Only the options given: one passed through as undefined keeps its default.
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.#options = { ...DEFAULT_THROTTLE, now: options.now, ...given };
  }

  /** Seconds this address must still wait, or 0 if it may try. */
  retryAfter(address: string): number {
    const record = this.#records.get(address);
    const left = record ? record.blockedUntil - this.#options.now() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Notes a wrong key; answers true exactly when this failure starts a block (the moment worth a log line). */
  fail(address: string): boolean {
    const now = this.#options.now();
    let record = this.#records.get(address);
    if (!record || now - record.windowStart > this.#options.windowMs) {
      record = { failures: 0, windowStart: now, blockedUntil: 0 };
    }
    this.#records.delete(address); // re-inserted last: the map's order is least recently failed first
    this.#records.set(address, record);
    record.failures++;
    if (this.#records.size > this.#options.maxTracked) this.#records.delete(this.#records.keys().next().value as string);
    if (record.failures < this.#options.maxFailures) return false;
    record.blockedUntil = now + this.#options.blockMs;
    record.failures = 0;
    record.windowStart = now;
    return true;
  }

  succeed(address: string): void {
    this.#records.delete(address);
  }
}
