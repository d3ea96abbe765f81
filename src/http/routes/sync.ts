import { Hono } from "hono";
import type { AppEnv } from "../app.js";
import { writesEnabled } from "./sessions.js";

/** /admin/sync: what `opta-sessions sync` compares against before it writes (only where writes are enabled). */
export const syncRoutes = new Hono<AppEnv>().get("/manifest", writesEnabled, async (c) => {
  return c.json(await c.var.sessions.manifest(), 200);
});
