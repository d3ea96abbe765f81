import { createRoute } from "@hono/zod-openapi";
import { errors, json } from "../openapi.js";
import { PurgedSchema, RestoredSchema, TrashIdParamSchema, TrashListSchema, TrashQuerySchema } from "../schemas.js";
import { routeGroup } from "../validate.js";

const list = createRoute({
  method: "get",
  path: "/",
  summary: "Deleted sessions of this sessions directory, newest deletion first, one page",
  request: { query: TrashQuerySchema },
  responses: { 200: json("The trash", TrashListSchema) },
});

const restore = createRoute({
  method: "post",
  path: "/{id}/restore",
  summary: "Put a deleted session back, with its index entry (id: a trash item's, or a session's for its most recently deleted item)",
  request: { params: TrashIdParamSchema },
  responses: { 200: json("Restored under its session id", RestoredSchema), ...errors(404, 409) },
});

const purge = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Remove a deleted session for good (id: a trash item's, or a session's for its most recently deleted item)",
  request: { params: TrashIdParamSchema },
  responses: { 200: json("Purged", PurgedSchema), ...errors(404) },
});

/** /admin/trash: deleted sessions, until restored, purged, or purged by age. */
export const trashRoutes = routeGroup()
  .openapi(list, async (c) => {
    return c.json({ items: await c.var.sessions.trash.list(c.req.valid("query")) }, 200);
  })
  .openapi(restore, async (c) => {
    const id = await c.var.sessions.trash.restore(c.req.valid("param").id);
    return c.json({ restored: true as const, id }, 200);
  })
  .openapi(purge, async (c) => {
    await c.var.sessions.trash.purge(c.req.valid("param").id);
    return c.json({ purged: true as const }, 200);
  });
