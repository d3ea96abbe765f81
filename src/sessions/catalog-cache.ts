import { z } from "zod";
import { SessionSummarySchema } from "../schemas.js";

/** The catalog as persisted between runs: summaries and the stamps they were read at, no message text. */

const FORMAT = "opta-sessions/catalog@1";

const PersistedFileSchema = z.object({
  name: z.string(),
  key: z.string(),
  readAt: z.number(),
  mtimeMs: z.number(),
  /** null: the file was not a readable session */
  summary: SessionSummarySchema.nullable(),
  time: z.number().nullable(),
});
export type PersistedFile = z.infer<typeof PersistedFileSchema>;

const PersistedCatalogSchema = z.object({ format: z.literal(FORMAT), files: z.array(PersistedFileSchema) });

export function serializeCatalog(files: PersistedFile[]): string {
  return JSON.stringify({ format: FORMAT, files });
}

/** The files of a persisted catalog, or none if the text is damaged or of another format: it is only a cache. */
export function restoreCatalog(text: string): PersistedFile[] {
  try {
    const parsed = PersistedCatalogSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.files : [];
  } catch {
    return [];
  }
}
