import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { z } from "zod";
import { invalidParameter } from "./errors.js";

/**
 * A route-level zod validator whose failures all become one `400 invalid_parameter` envelope.
 * `param` names the parameter in that envelope instead of zod's path (a header arrives lower-cased).
 */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(target: Target, schema: Schema, param?: string) {
  return zValidator(target, schema, (result) => {
    if (!result.success) throw invalidParameter(result.error, param);
  });
}
