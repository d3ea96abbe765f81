/** A pause of `ms` milliseconds; injected wherever code waits, so tests can pass one that does not. */
export type Sleep = (ms: number) => Promise<void>;

/** The real clock's pause. */
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
