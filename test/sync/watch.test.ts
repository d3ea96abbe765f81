import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { watchRounds } from "../../src/sync/watch.js";

// The loop's quiet time and period run on fake timers: the tests move time themselves, so nothing depends on the machine's speed.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A watch the test fires by hand. */
function fakeWatch() {
  let listener: ((name: string | null) => void) | null = null;
  let closed = false;
  return {
    watch: (onChange: (name: string | null) => void) => {
      listener = onChange;
      return { close: () => (closed = true) };
    },
    fire: (name: string | null) => listener?.(name),
    get closed() {
      return closed;
    },
  };
}

/** A watch loop whose rounds always succeed, counting them. */
function countingLoop(debounceMs: number) {
  const watch = fakeWatch();
  const stop = new AbortController();
  let rounds = 0;
  const loop = watchRounds(async () => ++rounds > 0, { watch: watch.watch, stop: stop.signal, debounceMs, periodMs: 60_000 });
  return { watch, stop, loop, rounds: () => rounds };
}

/** Lets the loop's pending promises settle and moves the fake clock on by `ms`. */
const elapse = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

describe("sync --watch", () => {
  it("runs a round at start, one per burst of changes after the quiet time, and stops when asked", async () => {
    const { watch, stop, loop, rounds } = countingLoop(30);

    await elapse();
    expect(rounds()).toBe(1);
    for (const name of ["a.json", "b.json", "a.json"]) watch.fire(name);
    await elapse(29);
    expect(rounds()).toBe(1); // still quiet time
    await elapse(1);
    expect(rounds()).toBe(2);
    await elapse(1000);
    expect(rounds()).toBe(2); // one burst, one round

    stop.abort();
    expect(await loop).toBe(true);
    expect(watch.closed).toBe(true);
  });

  it("ignores changes to what is not a session (index.json, temp files), but not 'anything may have changed'", async () => {
    const { watch, stop, loop, rounds } = countingLoop(10);
    await elapse();
    expect(rounds()).toBe(1);

    watch.fire("index.json");
    watch.fire(".a.json.1f2e.tmp");
    await elapse(1000);
    expect(rounds()).toBe(1);
    watch.fire(null);
    await elapse(10);
    expect(rounds()).toBe(2);

    stop.abort();
    await loop;
  });

  it("runs a full round every period without any change, and a change during a round gets a round after it", async () => {
    const watch = fakeWatch();
    const stop = new AbortController();
    let rounds = 0;
    const loop = watchRounds(
      async () => {
        rounds++;
        if (rounds === 1) {
          watch.fire("late.json"); // written while the first round runs
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        return true;
      },
      { watch: watch.watch, stop: stop.signal, debounceMs: 5, periodMs: 150 },
    );
    await elapse(30);
    expect(rounds).toBe(2); // the change made during the first round
    await elapse(119);
    expect(rounds).toBe(2);
    await elapse(1);
    expect(rounds).toBe(3); // the period
    stop.abort();
    await loop;
  });

  it("keeps going after a failed round, and answers the last finished round's outcome (an interrupted one does not count)", async () => {
    const watch = fakeWatch();
    const stop = new AbortController();
    const outcomes: (boolean | null)[] = [false, true, false, null];
    let rounds = 0;
    const loop = watchRounds(
      async () => {
        const outcome = rounds < outcomes.length ? (outcomes[rounds] ?? null) : true;
        rounds++;
        if (outcome === null) stop.abort();
        return outcome;
      },
      { watch: watch.watch, stop: stop.signal, debounceMs: 1, periodMs: 60_000 },
    );
    for (let round = 1; round <= 3; round++) {
      await elapse();
      expect(rounds).toBe(round);
      watch.fire(null);
      await elapse(1);
    }
    expect(await loop).toBe(false);
    expect(rounds).toBe(4);
  });
});
