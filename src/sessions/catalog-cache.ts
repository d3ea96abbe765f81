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

/** Serialized a thousand files at a time, yielding between, so saving 100,000 never blocks answers for long. */
export async function serializeCatalog(files: readonly PersistedFile[]): Promise<string> {
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
export function restoreCatalog(text: string): PersistedFile[] {
  try {
    const parsed = PersistedCatalogSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.files : [];
  } catch {
    return [];
  }
}
