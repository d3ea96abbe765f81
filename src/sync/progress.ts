/** The progress bar sync draws on a terminal: `sync [########------------] 120/500`, redrawn in place. */

export interface ProgressOutput {
  /** Only a terminal gets a bar: in a pipe or a log file it would be noise. */
  isTTY?: boolean;
  write(text: string): unknown;
}

const WIDTH = 20;
/** A round this short is over before a bar would be read: it draws none, so quiet watch rounds do not flicker. */
const FIRST_DRAW_MS = 250;
const REDRAW_MS = 100;

export class ProgressBar {
  readonly #out: ProgressOutput;
  readonly #now: () => number;
  readonly #started: number;
  #drawnAt: number | null = null;

  constructor(out: ProgressOutput, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
    this.#started = now();
  }

  update(done: number, total: number): void {
    if (!this.#out.isTTY) return;
    const now = this.#now();
    if (this.#drawnAt === null ? now - this.#started < FIRST_DRAW_MS : now - this.#drawnAt < REDRAW_MS && done < total) return;
    const filled = total === 0 ? WIDTH : Math.floor((done / total) * WIDTH);
    // \r back to the start of the line, ESC[K clears what a longer previous bar left.
    this.#out.write(`\rsync [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${done}/${total}\u001b[K`);
    this.#drawnAt = now;
  }

  /** Removes the bar, so what is printed next starts on a clean line. */
  clear(): void {
    if (this.#drawnAt === null) return;
    this.#out.write("\r\u001b[K");
    this.#drawnAt = null;
  }
}
