import { createRoute } from "@hono/zod-openapi";
import { json, NOT_MODIFIED } from "../openapi.js";
import { RankedSearchQuerySchema, SearchResultsSchema } from "../schemas.js";
import { routeGroup } from "../validate.js";

const search = createRoute({
  method: "get",
  path: "/",
  summary: "Search sessions, best first, with why each matched: its score and its hits (the message to jump to, a snippet, highlights)",
  request: { query: RankedSearchQuerySchema },
  responses: { 200: json("One page of ranked matches", SearchResultsSchema), 304: NOT_MODIFIED },
});

/** /admin/search: the same search as /admin/sessions/search, paged, with scores and hits. Ours: never forwarded upstream. */
export const searchRoutes = routeGroup().openapi(search, async (c) => {
  return c.json(await c.var.sessions.rankedSearch(c.req.valid("query")), 200);
});
