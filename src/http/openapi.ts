import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import * as wire from "./schemas.js";
import { ErrorEnvelopeSchema, SessionMessageSchema, SessionSummarySchema } from "./schemas.js";

const ERROR_DESCRIPTIONS = {
  400: "A parameter is invalid (`param` names it)",
  401: "Missing or wrong admin key",
  404: "No such session (or trash item)",
  409: "A session with this id exists again (`session_exists`), or something that is not a session file has its name (`not_a_file`)",
  413: "The session is larger than the server's limit (`session_too_large`), or a batch than one request takes (`batch_too_large`)",
  414: "The query string is too long (`query_too_long`)",
  422: "The file exists but is not a session (`session_corrupt`)",
  429: "Too many wrong keys from this address (`too_many_failed_attempts`, with `Retry-After`)",
  500: "Unexpected failure (details only in the server's log)",
  501: "Not on this deployment (`events_unavailable`: the live feed runs on the Node server, not the Worker)",
  503: "The request took too long (`request_timeout`), or the live feed has as many subscribers as it takes (`too_many_subscribers`)",
} as const;

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** A route's JSON answer: its schema types the handler's return and the typed client's answer, and is published in the document. */
export function json<Schema extends z.ZodType>(description: string, schema: Schema) {
  return { description, content: { "application/json": { schema } } };
}

/** An answer without content in the route's types: the typed client's answers stay the success ones (errors are thrown, not returned). */
type Untyped = { description: string; content: undefined };

/** The error answers particular to a route (the document adds those every route can give, and the envelope to each). */
export function errors<const Status extends ErrorStatus>(...statuses: Status[]): Record<Status, Untyped> {
  const answers: Partial<Record<ErrorStatus, Untyped>> = {};
  for (const status of statuses) answers[status] = { description: ERROR_DESCRIPTIONS[status], content: undefined };
  return answers as Record<Status, Untyped>; // one key for each of `statuses`, filled just above
}

/** A route that answers a matching `If-None-Match` with 304 (its 200 carries an ETag). */
export const NOT_MODIFIED: Untyped = { description: "Not modified: the `If-None-Match` ETag is still current", content: undefined };

/** Every admin route can answer these, whatever it does. */
const ADMIN_ERRORS = [401, 414, 429, 503] as const;

type Route = Extract<OpenAPIHono["openAPIRegistry"]["definitions"][number], { type: "route" }>["route"];

/**
 * The OpenAPI 3.1 document of an app whose routes are all declared with `.openapi()`: generated from
 * those declarations (and the zod schemas they validate and answer with), so it lists exactly its routes.
 */
export function openApiDocument(app: Pick<OpenAPIHono, "openAPIRegistry">, version: string) {
  const routes = app.openAPIRegistry.definitions.flatMap((definition) => (definition.type === "route" ? [definition.route] : []));
  const answers = answerSchemas(routes.flatMap((route) => Object.values(route.responses).map(jsonSchemaOf)).filter((schema) => schema !== undefined));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { path, method } = route;
    paths[path] ??= {};
    paths[path][method] = describe(route, answers.schemaOf);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "opta-sessions",
      version,
      description: "Browse, read, search and delete the Opta CLI's chat sessions. Errors are OpenAI-style envelopes.",
    },
    paths,
    components: {
      schemas: answers.components,
      securitySchemes: {
        adminKey: { type: "apiKey", in: "header", name: "X-Admin-Key" },
        bearer: { type: "http", scheme: "bearer" },
      },
      headers: {
        "X-Request-Id": { description: "This request's id, also in the server's log", schema: { type: "string" } },
        ETag: { description: "Changes whenever the answer does", schema: { type: "string" } },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;

/** The zod schema of a JSON answer, if it has one. */
function jsonSchemaOf(answer: Route["responses"][string] | undefined): z.ZodType | undefined {
  const media = answer && "content" in answer ? answer.content?.["application/json"] : undefined;
  return media && "schema" in media && media.schema instanceof z.ZodType ? media.schema : undefined;
}

/** Wire types by their names in schemas.ts (`SessionListSchema` is `SessionList`): the names of the document's components. */
const WIRE_TYPE_NAMES = new Map(
  Object.entries(wire)
    .filter(([name]) => name.endsWith("Schema"))
    .map(([name, schema]): [unknown, string] => [schema, name.slice(0, -"Schema".length)]),
);

/**
 * The answers' schemas: each wire type once, as a component referenced by name wherever it appears;
 * an answer with no name in schemas.ts (a list of summaries, say) is written out where it is used.
 */
function answerSchemas(answers: readonly z.ZodType[]) {
  const registry = z.registry<{ id: string }>();
  const unnamed = new Set<string>();
  for (const schema of [SessionSummarySchema, SessionMessageSchema, ErrorEnvelopeSchema, ...answers]) {
    if (registry.has(schema)) continue;
    const name = WIRE_TYPE_NAMES.get(schema);
    const id = name ?? `unnamed-${unnamed.size}`;
    if (name === undefined) unnamed.add(id);
    registry.add(schema, { id });
  }
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  const written = new Map([...unnamed].map((id) => [id, schemas[id]]));
  for (const id of unnamed) delete schemas[id];
  return {
    components: schemas,
    schemaOf: (schema: z.ZodType) => {
      const id = registry.get(schema)?.id ?? "";
      return written.get(id) ?? { $ref: `#/components/schemas/${id}` };
    },
  };
}

/** One operation: the route's own declaration, with what every route shares (the envelope on each error, the request id, the key on /admin). */
function describe(route: Route, schemaOf: (schema: z.ZodType) => unknown) {
  const admin = route.path.startsWith("/admin/");
  const conditional = "304" in route.responses;
  const { params, query, headers: headerParams, body } = route.request ?? {};
  const headers = { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } };
  const envelope = (description: string) => ({ description, headers, content: { "application/json": { schema: schemaOf(ErrorEnvelopeSchema) } } });
  // Integer keys: the answers come out in the order of their statuses.
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    const description = ("description" in answer ? answer.description : undefined) ?? "";
    const schema = jsonSchemaOf(answer);
    responses[status] =
      Number(status) >= 400
        ? envelope(description)
        : {
            description,
            headers: conditional && Number(status) < 300 ? { ...headers, ETag: { $ref: "#/components/headers/ETag" } } : headers,
            // JSON answers by their wire types; any other (the event stream) as declared.
            ...(schema
              ? { content: { "application/json": { schema: schemaOf(schema) } } }
              : "content" in answer && answer.content && { content: answer.content }),
          };
  }
  const shared: ErrorStatus[] = [...(params || query || headerParams ? [400 as const] : []), ...(admin ? ADMIN_ERRORS : []), 500];
  for (const status of shared) responses[status] = envelope(ERROR_DESCRIPTIONS[status]);
  return {
    summary: route.summary,
    description: route.description,
    operationId: `${route.method}${route.path.replace(/\/\{?(\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, "")}`,
    security: admin ? [{ adminKey: [] }, { bearer: [] }] : [],
    parameters: [
      ...parametersOf(params, "path"),
      ...parametersOf(query, "query"),
      // Content-Type is the request body's media type (OpenAPI ignores a header parameter of that name).
      ...[headerParams ?? []].flat().flatMap((schema) => parametersOf(schema, "header").filter(({ name }) => name !== "content-type")),
      ...(conditional ? [{ name: "If-None-Match", in: "header", required: false, schema: { type: "string" } }] : []),
    ],
    ...(body && {
      requestBody: {
        required: body.required,
        description: body.description,
        content: Object.fromEntries(
          Object.entries(body.content).map(([type, media]) => [
            type,
            media && "schema" in media && media.schema instanceof z.ZodType ? { schema: z.toJSONSchema(media.schema, { io: "input" }) } : media,
          ]),
        ),
      },
    }),
    responses,
  };
}

/** Each field of a parameter object, as the client sends it (strings), with its bounds and default. */
function parametersOf(schema: z.ZodType | undefined, location: "path" | "query" | "header") {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: "input" });
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || required.has(name),
    schema: property,
  }));
}
