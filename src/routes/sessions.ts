import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../app.js";
import { RouteNotFound, SessionTooLarge } from "../errors.js";
import {
  JsonContentTypeSchema,
  ListQuerySchema,
  MessagesQuerySchema,
  SearchQuerySchema,
  SessionIdParamSchema,
  type SessionList,
  type SessionSummary,
} from "../schemas.js";
import { validate } from "../validate.js";
import { jsonText, listJson, summariesJson } from "./json.js";

/** Write routes exist only where the deployment enables writes: elsewhere they are unknown routes. */
export const writesEnabled: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.var.allowWrites) throw new RouteNotFound();
  await next();
};

/** Refuses a body over the session size limit while it streams in, before it is held in memory. */
const sessionSizeLimit: MiddlewareHandler<AppEnv> = (c, next) => {
  const maxSize = c.var.sessions.maxSessionBytes;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new SessionTooLarge(maxSize);
    },
  })(c, next);
};

/** /admin/sessions: list, search, read and delete (and write, where enabled). `/search` is declared before `/:id` so it is never taken for an id. */
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
  .put("/:id", writesEnabled, validate("param", SessionIdParamSchema), validate("header", JsonContentTypeSchema), sessionSizeLimit, async (c) => {
    const stored = await c.var.sessions.put(c.req.valid("param").id, new Uint8Array(await c.req.arrayBuffer()));
    return c.json(stored, stored.created ? 201 : 200);
  })
  .delete("/:id", validate("param", SessionIdParamSchema), async (c) => {
    const trashId = await c.var.sessions.delete(c.req.valid("param").id);
    return c.json({ deleted: true as const, trash_id: trashId }, 200);
  });
