import { createRoute } from "@hono/zod-openapi";
import { errors, json } from "../openapi.js";
import { SyncManifestSchema } from "../schemas.js";
import { routeGroup } from "../validate.js";
import { writesEnabled } from "./sessions.js";

const manifest = createRoute({
  method: "get",
  path: "/manifest",
  summary: "Every stored session's id and SHA-256 (only where writes are enabled; elsewhere 404): what sync compares",
  middleware: writesEnabled,
  responses: { 200: json("Ids and digests", SyncManifestSchema), ...errors(404) },
});

/** /admin/sync: what `opta-sessions sync` compares against before it writes (only where writes are enabled). */
export const syncRoutes = routeGroup().openapi(manifest, async (c) => {
  return c.json(await c.var.sessions.manifest(), 200);
});
