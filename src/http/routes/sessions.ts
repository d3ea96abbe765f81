import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../app.js";
import { RouteNotFound, SessionTooLarge } from "../errors.js";
import {
  JsonContentTypeSchema,
  ListQuerySchema,
  type MessagePage,
  MessagesQuerySchema,
  SearchQuerySchema,
  type SessionFull,
  SessionIdParamSchema,
  type SessionList,
  SessionMtimeHeaderSchema,
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
    return jsonText<SessionFull>(c, await c.var.sessions.answer(c.req.valid("param").id, { contentAsText: c.var.contentAsText }));
  })
  .get("/:id/messages", validate("param", SessionIdParamSchema), validate("query", MessagesQuerySchema), async (c) => {
    const page = c.req.valid("query");
    return jsonText<MessagePage>(c, await c.var.sessions.answer(c.req.valid("param").id, { page, contentAsText: c.var.contentAsText }));
  })
  .put(
    "/:id",
    writesEnabled,
    validate("param", SessionIdParamSchema),
    validate("header", JsonContentTypeSchema),
    validate("header", SessionMtimeHeaderSchema, "X-Session-Mtime"),
    sessionSizeLimit,
    async (c) => {
      const { id } = c.req.valid("param");
      const stored = await c.var.sessions.put(id, new Uint8Array(await c.req.arrayBuffer()), c.req.valid("header")["x-session-mtime"]);
      return c.json(stored, stored.created ? 201 : 200);
    },
  )
  .delete("/:id", validate("param", SessionIdParamSchema), async (c) => {
    const trashId = await c.var.sessions.delete(c.req.valid("param").id);
    return c.json({ deleted: true as const, trash_id: trashId }, 200);
  });
