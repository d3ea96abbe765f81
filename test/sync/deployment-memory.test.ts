import { describe, expect, it } from "vitest";
import type { OwnFile } from "../../src/storage/store.js";
import { DeploymentState } from "../../src/sync/deployment-memory.js";

const DIGEST = "a".repeat(64);
const OTHER = "b".repeat(64);

/** A state file in memory, counting writes. */
function stateFile(text: string | null = null) {
  const file = { text, writes: 0 };
  const store: OwnFile = {
    read: async () => file.text,
    write: async (next) => {
      file.text = next;
      file.writes++;
    },
  };
  return { file, store };
}

describe("what sync remembers of a deployment", () => {
  it("keeps what the deployment held and what it refused across runs", async () => {
    const { file, store } = stateFile();
    const first = await DeploymentState.open(store);
    first.setHeld("a", DIGEST);
    first.setRefusal("big", { sha256: OTHER, reason: "too large for the deployment (413: big)" });
    await first.save();

    const next = await DeploymentState.open(store);
    expect(next.held("a")).toBe(DIGEST);
    expect(next.refusal("big")).toEqual({ sha256: OTHER, reason: "too large for the deployment (413: big)" });
    await next.save();
    expect(file.writes).toBe(1); // nothing new, nothing written
  });

  it("forgets the ids that are neither here nor there", async () => {
    const { store } = stateFile();
    const state = await DeploymentState.open(store);
    state.setHeld("a", DIGEST);
    state.setHeld("gone", DIGEST);
    state.setRefusal("gone", { sha256: DIGEST, reason: "x" });
    state.keepOnly(new Set(["a"]));
    expect([state.held("a"), state.held("gone"), state.refusal("gone")]).toEqual([DIGEST, undefined, undefined]);
  });

  it("starts from nothing when the file is missing or damaged", async () => {
    for (const text of [null, "{not json", JSON.stringify({ version: 1, held: { a: "not-a-digest" }, refused: {} }), JSON.stringify({ version: 2 })]) {
      const state = await DeploymentState.open(stateFile(text).store);
      expect(state.held("a")).toBeUndefined();
    }
  });
});
