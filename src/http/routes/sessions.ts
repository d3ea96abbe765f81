import { createRoute } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { AppEnv } from "../app.js";
import { RouteNotFound, SessionTooLarge } from "../errors.js";
import { errors, json, NOT_MODIFIED } from "../openapi.js";
import {
  DeletedSchema,
  JsonContentTypeSchema,
  ListQuerySchema,
  type MessagePage,
  MessagePageSchema,
  MessagesQuerySchema,
  SearchQuerySchema,
  type SessionFull,
  SessionFullSchema,
  SessionIdParamSchema,
  type SessionList,
  SessionListSchema,
  SessionMtimeHeaderSchema,
  type SessionSummary,
  SessionSummarySchema,
  StoredSchema,
} from "../schemas.js";
import { invalidParameterHook, routeGroup } from "../validate.js";
import { jsonText, listJson, summariesJson } from "./json.js";

/** Write routes exist only where the deployment enables writes: elsewhere they are unknown routes. */
export const writesEnabled: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!c.var.allowWrites) throw new RouteNotFound();
  await next();
};

/** The body, refused over the session size limit while it streams in, before it is held in memory. */
async function sessionBody(c: Context<AppEnv>): Promise<Uint8Array> {
  const maxSize = c.var.sessions.maxSessionBytes;
  const limit = bodyLimit({
    maxSize,
    onError: () => {
      throw new SessionTooLarge(maxSize);
    },
  });
  await limit(c, async () => {});
  return new Uint8Array(await c.req.arrayBuffer());
}

const list = createRoute({
  method: "get",
  path: "/",
  summary: "List sessions, newest first",
  request: { query: ListQuerySchema },
  responses: { 200: json("One page of sessions", SessionListSchema), 304: NOT_MODIFIED },
});

const search = createRoute({
  method: "get",
  path: "/search",
  summary: "Search sessions; every term must match",
  request: { query: SearchQuerySchema },
  responses: { 200: json("Matching sessions, best first", z.array(SessionSummarySchema)), 304: NOT_MODIFIED },
});

const read = createRoute({
  method: "get",
  path: "/{id}",
  summary: "One session with its messages",
  request: { params: SessionIdParamSchema },
  responses: { 200: json("The session", SessionFullSchema), 304: NOT_MODIFIED, ...errors(404, 413, 422) },
});

const messages = createRoute({
  method: "get",
  path: "/{id}/messages",
  summary: "One page of a session's messages, for sessions too big to fetch whole",
  request: { params: SessionIdParamSchema, query: MessagesQuerySchema },
  responses: { 200: json("A page of messages, exactly as stored", MessagePageSchema), 304: NOT_MODIFIED, ...errors(404, 413, 422) },
});

const put = createRoute({
  method: "put",
  path: "/{id}",
  summary: "Store a whole session, exactly as sent (only where writes are enabled; elsewhere 404): used by opta-sessions sync",
  middleware: writesEnabled,
  request: {
    params: SessionIdParamSchema,
    headers: JsonContentTypeSchema.extend(SessionMtimeHeaderSchema.shape),
    // A plain JSON Schema, not zod: the body is stored byte for byte, so only the service reads it (no validator parses it first).
    body: {
      required: true,
      description: "The session file's text: a JSON object as the Opta CLI writes it",
      content: { "application/json": { schema: { type: "object" } } },
    },
  },
  responses: {
    200: json("Stored: 201 when new, 200 when it replaced one", StoredSchema),
    201: json("Stored: 201 when new, 200 when it replaced one", StoredSchema),
    ...errors(404, 409, 413),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Delete a session (into the trash) and its index entry",
  request: { params: SessionIdParamSchema },
  responses: { 200: json("Deleted, into the trash item trash_id", DeletedSchema), ...errors(404) },
});

/** /admin/sessions: list, search, read and delete (and write, where enabled). `/search` is declared before `/{id}` so it is never taken for an id. */
export const sessionRoutes = routeGroup()
  .openapi(list, async (c) => {
    return jsonText<SessionList>(c, listJson(await c.var.sessions.list(c.req.valid("query"))));
  })
  .openapi(search, async (c) => {
    return jsonText<SessionSummary[]>(c, summariesJson(await c.var.sessions.search(c.req.valid("query"))));
  })
  .openapi(read, async (c) => {
    return jsonText<SessionFull>(c, await c.var.sessions.answer(c.req.valid("param").id, { contentAsText: c.var.contentAsText }));
  })
  .openapi(messages, async (c) => {
    const page = c.req.valid("query");
    return jsonText<MessagePage>(c, await c.var.sessions.answer(c.req.valid("param").id, { page, contentAsText: c.var.contentAsText }));
  })
  .openapi(
    put,
    async (c) => {
      const { id } = c.req.valid("param");
      const stored = await c.var.sessions.put(id, await sessionBody(c), c.req.valid("header")["x-session-mtime"]);
      return c.json(stored, stored.created ? 201 : 200);
    },
    invalidParameterHook({ "x-session-mtime": "X-Session-Mtime" }),
  )
  .openapi(remove, async (c) => {
    const trashId = await c.var.sessions.delete(c.req.valid("param").id);
    return c.json({ deleted: true as const, trash_id: trashId }, 200);
  });
