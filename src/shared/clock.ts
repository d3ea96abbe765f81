/** A pause of `ms` milliseconds; injected wherever code waits, so tests can pass one that does not. */
export type Sleep = (ms: number) => Promise<void>;

/** The real clock's pause. */
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for `work`, but no longer than `ms` (real time); the timer goes when the work ends first. */
export async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
