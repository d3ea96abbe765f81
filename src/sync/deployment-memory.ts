import { z } from "zod";
import { parseJson } from "../shared/json.js";
import type { OwnFile } from "../storage/store.js";
import type { DeploymentMemory, Refusal } from "./round.js";

/** What sync knows of one deployment between runs (a file in the cache folder; in memory only when there is none). */

const Digest = z.string().regex(/^[0-9a-f]{64}$/);
const StateSchema = z.object({
  version: z.literal(1),
  held: z.record(z.string(), Digest),
  refused: z.record(z.string(), z.object({ sha256: Digest, reason: z.string() })),
});

export class DeploymentState implements DeploymentMemory {
  readonly #store: OwnFile | null;
  readonly #held: Map<string, string>;
  readonly #refused: Map<string, Refusal>;
  #changed = false;

  private constructor(store: OwnFile | null, state: z.infer<typeof StateSchema> | null) {
    this.#store = store;
    this.#held = new Map(Object.entries(state?.held ?? {}));
    this.#refused = new Map(Object.entries(state?.refused ?? {}));
  }

  /** Reads what was remembered; a missing or damaged file starts from nothing (a deleted session may then be sent again once). */
  static async open(store: OwnFile | null): Promise<DeploymentState> {
    let text: string | null = null;
    try {
      text = store ? await store.read() : null;
    } catch {
      // unreadable: start from nothing
    }
    return new DeploymentState(store, text === null ? null : parseJson(text, StateSchema));
  }

  held(id: string): string | undefined {
    return this.#held.get(id);
  }

  setHeld(id: string, sha256: string | null): void {
    if ((this.#held.get(id) ?? null) === sha256) return;
    if (sha256 === null) this.#held.delete(id);
    else this.#held.set(id, sha256);
    this.#changed = true;
  }

  refusal(id: string): Refusal | undefined {
    return this.#refused.get(id);
  }

  setRefusal(id: string, refusal: Refusal | null): void {
    if (refusal === null && !this.#refused.has(id)) return;
    if (refusal === null) this.#refused.delete(id);
    else this.#refused.set(id, refusal);
    this.#changed = true;
  }

  keepOnly(ids: ReadonlySet<string>): void {
    for (const map of [this.#held, this.#refused]) {
      for (const id of map.keys()) {
        if (ids.has(id)) continue;
        map.delete(id);
        this.#changed = true;
      }
    }
  }

  /** Writes what changed since the last save, if anything. */
  async save(): Promise<void> {
    if (!this.#changed || this.#store === null) return;
    this.#changed = false;
    await this.#store.write(JSON.stringify({ version: 1, held: Object.fromEntries(this.#held), refused: Object.fromEntries(this.#refused) }));
  }
}
