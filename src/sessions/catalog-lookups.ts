import type { SessionSummary } from "../http/schemas.js";
import type { LoadedSession } from "./loader.js";

/** One listable session, with what ordering and filtering need precomputed. */
export interface CatalogEntry {
  summary: SessionSummary;
  /** `updated` if it is an instant, else `created` if it is; null sorts last and never matches `since`. */
  time: number | null;
  /** The file's kind and stamp when it was read: what the search index compares with its own. */
  stamp: string;
  /** The working directory, as the file has it. */
  cwd: string;
  /** Index of this entry's lower-cased model in `models`: filters test each model once, not each entry. */
  modelId: number;
  /** Index of this entry's lower-cased working directory in `cwds`, likewise. */
  cwdId: number;
}

/** What the catalog derives from its entries for filters: the interned models and directories. */
export class CatalogLookups {
  readonly #models = new Interned();
  readonly #cwds = new Interned();

  /** Every lower-cased model seen (an entry's `modelId` points here); only grows. */
  get models(): readonly string[] {
    return this.#models.values;
  }

  /** Every lower-cased working directory seen (an entry's `cwdId` points here); only grows. */
  get cwds(): readonly string[] {
    return this.#cwds.values;
  }

  entryOf(session: Pick<LoadedSession, "summary" | "time" | "cwd">, stamp: string): CatalogEntry {
    const modelId = this.#models.idOf((session.summary.model ?? "").toLowerCase());
    const cwdId = this.#cwds.idOf(session.cwd.toLowerCase());
    return { summary: session.summary, time: session.time, stamp, cwd: session.cwd, modelId, cwdId };
  }
}

/** Strings kept once each, by number: thousands of sessions share a few models and directories. */
class Interned {
  readonly values: string[] = [];
  readonly #ids = new Map<string, number>();

  idOf(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.values.push(value) - 1;
      this.#ids.set(value, id);
    }
    return id;
  }
}
