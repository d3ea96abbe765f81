import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { json, type OpenApiDocument } from "../openapi.js";
import { HealthSchema } from "../schemas.js";
import { routeGroup } from "../validate.js";

const health = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Is the service up?",
  responses: { 200: json("Up", HealthSchema) },
});

const openApi = createRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This document",
  responses: { 200: json("The OpenAPI 3.1 document", z.object({ openapi: z.string() }).loose()) },
});

/** The routes anyone may call, without the key: is the service up, and what it offers (`describe`: the app's document, made at the first request, once every route is registered). */
export function publicRoutes(version: string, describe: () => OpenApiDocument) {
  let document: OpenApiDocument | undefined;
  return routeGroup()
    .openapi(health, (c) => c.json({ status: "ok" as const, version }, 200))
    .openapi(openApi, (c) => {
      document ??= describe();
      return c.json(document, 200);
    });
}
