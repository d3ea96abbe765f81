/**
 * Counts wrong admin keys per client address: after `maxFailures` within `windowMs`, that address
 * is refused for `blockMs` without its key being looked at (so guessing stops, and a right key
 * from it waits too). Other addresses are never affected, and a right key clears the count.
 * Across all addresses, at most `maxGlobalFailures` wrong keys are answered 401 per `windowMs`: past
 * that, wrong keys get 429 from anywhere and one warning is logged, but a right key is still checked
 * and let through, so the owner is never locked out. That makes a rotation of source addresses seen
 * and answered as throttled; it does not hide which key is right (the key's length does that).
 */
export interface ThrottleOptions {
  now: () => number;
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  /** Wrong keys answered per window from all addresses together. */
  maxGlobalFailures?: number;
  /** Addresses remembered at most (oldest forgotten first): memory stays bounded under a flood of addresses. */
  maxTracked?: number;
}

interface Attempts {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

const DEFAULT_THROTTLE = { maxFailures: 10, windowMs: 60_000, blockMs: 60_000, maxGlobalFailures: 100, maxTracked: 10_000 };

export class FailedAuthThrottle {
  readonly #options: Required<ThrottleOptions>;
  readonly #records = new Map<string, Attempts>();
  readonly #global: Attempts = { failures: 0, windowStart: Number.NEGATIVE_INFINITY, blockedUntil: 0 };

  constructor(options: ThrottleOptions) {
    // Only the options given: one passed through as undefined keeps its default.
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.#options = { ...DEFAULT_THROTTLE, now: options.now, ...given };
  }

  /** Seconds this address must still wait, or 0 if it may try. */
  retryAfter(address: string): number {
    return secondsUntil(this.#records.get(address)?.blockedUntil ?? 0, this.#options.now());
  }

  /** Seconds until wrong keys are answered again once the global budget is spent, or 0 while some is left. */
  globalRetryAfter(): number {
    const now = this.#options.now();
    if (now - this.#global.windowStart >= this.#options.windowMs) return 0;
    return this.#global.failures >= this.#options.maxGlobalFailures ? secondsUntil(this.#global.windowStart + this.#options.windowMs, now) : 0;
  }

  /**
   * Notes `count` wrong keys (one request may offer two); answers what is worth a log line: "address" when
   * this starts the address's block, "global" when this spends the global budget, else null.
   */
  fail(address: string, count = 1): "address" | "global" | null {
    const now = this.#options.now();
    const { windowMs, maxFailures, maxGlobalFailures, maxTracked } = this.#options;
    if (now - this.#global.windowStart >= windowMs) Object.assign(this.#global, { failures: 0, windowStart: now });
    const globalBefore = this.#global.failures;
    this.#global.failures += count;
    let record = this.#records.get(address);
    if (!record || now - record.windowStart > windowMs) {
      record = { failures: 0, windowStart: now, blockedUntil: 0 };
    }
    this.#records.delete(address); // re-inserted last: the map's order is least recently failed first
    this.#records.set(address, record);
    record.failures += count;
    if (this.#records.size > maxTracked) this.#records.delete(this.#records.keys().next().value as string);
    if (record.failures >= maxFailures) {
      record.blockedUntil = now + this.#options.blockMs;
      record.failures = 0;
      record.windowStart = now;
      return "address";
    }
    return globalBefore < maxGlobalFailures && this.#global.failures >= maxGlobalFailures ? "global" : null;
  }

  succeed(address: string): void {
    this.#records.delete(address);
  }
}

function secondsUntil(at: number, now: number): number {
  return at > now ? Math.ceil((at - now) / 1000) : 0;
}
