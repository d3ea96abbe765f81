import type { z } from "zod";

/**
 * JSON text read from somewhere we do not control (a file, metadata, an answer), checked against a schema:
 * its data, or null when the text is not JSON or not of that shape.
 */
export function parseJson<Schema extends z.ZodType>(text: string, schema: Schema): z.output<Schema> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
