import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "zod";
import type { AppEnv } from "./app.js";
import { invalidParameter } from "./errors.js";

type ValidationResult = { success: true } | { success: false; error: z.core.$ZodError };

/**
 * Turns every failed zod validation of a route into one `400 invalid_parameter` envelope. `names` spells
 * a parameter in the envelope differently from its key in the schema (a header's key arrives lower-cased).
 */
export function invalidParameterHook(names: Readonly<Record<string, string>> = {}) {
  return (result: ValidationResult): undefined => {
    if (result.success) return;
    const key = result.error.issues[0]?.path[0];
    throw invalidParameter(result.error, typeof key === "string" && Object.hasOwn(names, key) ? names[key] : undefined);
  };
}

/** A group of routes, each declared once with `createRoute` and `.openapi()`: validated (failures as our envelope), typed and documented from that one declaration. */
export function routeGroup() {
  return new OpenAPIHono<AppEnv>({ defaultHook: invalidParameterHook() });
}
