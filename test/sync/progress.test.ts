import { describe, expect, it } from "vitest";
import { ProgressBar } from "../../src/sync/progress.js";

function terminal(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

describe("the progress bar", () => {
  it("draws in place on a terminal once a round lasts, at most ten times a second, and clears itself", () => {
    const out = terminal(true);
    let now = 0;
    const bar = new ProgressBar(out, () => now);

    bar.update(0, 500); // a round this young draws nothing yet
    now = 300;
    bar.update(120, 500);
    now = 350;
    bar.update(121, 500); // too soon after the last drawing
    now = 450;
    bar.update(250, 500);
    bar.update(500, 500); // the end is always drawn
    bar.clear();

    expect(out.writes).toEqual([
      "\rsync [####----------------] 120/500\u001b[K",
      "\rsync [##########----------] 250/500\u001b[K",
      "\rsync [####################] 500/500\u001b[K",
      "\r\u001b[K",
    ]);
  });

  it("writes nothing when stderr is not a terminal, and nothing to clear when it never drew", () => {
    const pipe = terminal(false);
    let now = 0;
    const bar = new ProgressBar(pipe, () => now);
    now = 1000;
    bar.update(1, 2);
    bar.clear();
    expect(pipe.writes).toEqual([]);

    const tty = terminal(true);
    const quick = new ProgressBar(tty, () => 0);
    quick.update(2, 2);
    quick.clear();
    expect(tty.writes).toEqual([]);
  });
});
