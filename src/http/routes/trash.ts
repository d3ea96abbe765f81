import { Hono } from "hono";
import type { AppEnv } from "../app.js";
import { TrashIdParamSchema, TrashQuerySchema } from "../schemas.js";
import { validate } from "../validate.js";

/** /admin/trash: deleted sessions, until restored, purged, or purged by age. */
export const trashRoutes = new Hono<AppEnv>()
  .get("/", validate("query", TrashQuerySchema), async (c) => {
    return c.json({ items: await c.var.sessions.trash.list(c.req.valid("query")) }, 200);
  })
  .post("/:id/restore", validate("param", TrashIdParamSchema), async (c) => {
    const id = await c.var.sessions.trash.restore(c.req.valid("param").id);
    return c.json({ restored: true as const, id }, 200);
  })
  .delete("/:id", validate("param", TrashIdParamSchema), async (c) => {
    await c.var.sessions.trash.purge(c.req.valid("param").id);
    return c.json({ purged: true as const }, 200);
  });
