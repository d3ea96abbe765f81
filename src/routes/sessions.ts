import { Hono } from "hono";
import type { AppEnv } from "../app.js";
import { ListQuerySchema, MessagesQuerySchema, SearchQuerySchema, SessionIdParamSchema, type SessionList, type SessionSummary } from "../schemas.js";
import { validate } from "../validate.js";
import { jsonText, listJson, summariesJson } from "./json.js";

/** /admin/sessions: list, search, read and delete. `/search` is declared before `/:id` so it is never taken for an id. */
export const sessionRoutes = new Hono<AppEnv>()
  .get("/", validate("query", ListQuerySchema), async (c) => {
    return jsonText<SessionList>(c, listJson(await c.var.sessions.list(c.req.valid("query"))));
  })
  .get("/search", validate("query", SearchQuerySchema), async (c) => {
    return jsonText<SessionSummary[]>(c, summariesJson(await c.var.sessions.search(c.req.valid("query"))));
  })
  .get("/:id", validate("param", SessionIdParamSchema), async (c) => {
    return c.json(await c.var.sessions.get(c.req.valid("param").id), 200);
  })
  .get("/:id/messages", validate("param", SessionIdParamSchema), validate("query", MessagesQuerySchema), async (c) => {
    return c.json(await c.var.sessions.messages(c.req.valid("param").id, c.req.valid("query")), 200);
  })
  .delete("/:id", validate("param", SessionIdParamSchema), async (c) => {
    await c.var.sessions.delete(c.req.valid("param").id);
    return c.json({ deleted: true as const }, 200);
  });
