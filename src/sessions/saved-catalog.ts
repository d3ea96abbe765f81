import { z } from "zod";
import { SessionSummarySchema } from "../http/schemas.js";
import { parseJson } from "../shared/json.js";
import type { OwnFile } from "../storage/store.js";

/** Summaries are saved this long after a change (a scan's worth of changes, one save): a lost save only costs re-reads. */
const SAVE_DELAY_MS = 10_000;

/** Keeps the catalog's summaries in the service's cache between runs: read back at start, saved a while after changes and on close. */
export class SavedCatalog {
  readonly #cache: OwnFile;
  readonly #warn: (message: string) => void;
  readonly #snapshot: () => PersistedFile[];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(cache: OwnFile, warn: (message: string) => void, snapshot: () => PersistedFile[]) {
    this.#cache = cache;
    this.#warn = warn;
    this.#snapshot = snapshot;
  }

  async restore(): Promise<PersistedFile[]> {
    const text = await this.#cache.read().catch(() => null);
    return text ? restoreCatalog(text) : [];
  }

  changed(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.#save();
    }, SAVE_DELAY_MS);
  }

  /** Saves now if a save is due. */
  async close(): Promise<void> {
    if (!this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = null;
    await this.#save();
  }

  async #save(): Promise<void> {
    try {
      await this.#cache.write(await serializeCatalog(this.#snapshot()));
    } catch (error) {
      this.#warn(`could not save the summary cache: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** The catalog as persisted between runs: summaries and the stamps they were read at, no message text. */

// @2: summaries count messages without system ones, clean first_user_message, and keep the cwd: @1 caches are read again.
const FORMAT = "opta-sessions/catalog@2";

const PersistedFileSchema = z.object({
  name: z.string(),
  key: z.string(),
  readAt: z.number(),
  mtimeMs: z.number(),
  /** null: the file was not a readable session */
  summary: SessionSummarySchema.nullable(),
  time: z.number().nullable(),
  /** lower-cased, for the list's cwd filter */
  cwd: z.string(),
});
type PersistedFile = z.infer<typeof PersistedFileSchema>;

const PersistedCatalogSchema = z.object({ format: z.literal(FORMAT), files: z.array(PersistedFileSchema) });

/** Serialized a thousand files at a time, yielding between, so saving 100,000 never blocks answers for long. */
async function serializeCatalog(files: readonly PersistedFile[]): Promise<string> {
  const parts: string[] = [];
  for (let start = 0; start < files.length; start += 1000) {
    if (start > 0) await new Promise((resolve) => setTimeout(resolve, 0));
    parts.push(
      files
        .slice(start, start + 1000)
        .map((file) => JSON.stringify(file))
        .join(","),
    );
  }
  return `{"format":${JSON.stringify(FORMAT)},"files":[${parts.join(",")}]}`;
}

/** The files of a persisted catalog, or none if the text is damaged or of another format: it is only a cache. */
function restoreCatalog(text: string): PersistedFile[] {
  return parseJson(text, PersistedCatalogSchema)?.files ?? [];
}
