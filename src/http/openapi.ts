import { z } from "zod";
import {
  DeletedSchema,
  ErrorEnvelopeSchema,
  HealthSchema,
  ListQuerySchema,
  MessagePageSchema,
  MessagesQuerySchema,
  PurgedSchema,
  RestoredSchema,
  SearchQuerySchema,
  SessionFullSchema,
  SessionIdParamSchema,
  SessionListSchema,
  SessionMessageSchema,
  SessionMtimeHeaderSchema,
  SessionSummarySchema,
  StoredSchema,
  SyncManifestSchema,
  TrashIdParamSchema,
  TrashListSchema,
  TrashQuerySchema,
} from "./schemas.js";

/** One route as the document describes it; every schema here is the one its validator or handler uses. */
interface Operation {
  method: "get" | "post" | "put" | "delete";
  /** Hono's spelling (`/:id`); the document's (`/{id}`) is derived. */
  path: string;
  summary: string;
  query?: z.ZodObject;
  params?: z.ZodObject;
  headers?: z.ZodObject;
  /** The success answer (200 unless `statuses` says more), published under `name` in the document's components. */
  ok: { description: string; name: string; schema: z.ZodType; statuses?: readonly number[] };
  /** A JSON request body. */
  body?: { description: string; schema: z.ZodType };
  /** Admin routes need the key; the rest are public. */
  admin: boolean;
  /** Answers a matching `If-None-Match` with 304. */
  conditional?: boolean;
  errors: (keyof typeof ERROR_DESCRIPTIONS)[];
}

const OPERATIONS: readonly Operation[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "Is the service up?",
    ok: { description: "Up", name: "Health", schema: HealthSchema },
    admin: false,
    errors: [500],
  },
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    ok: { description: "The OpenAPI 3.1 document", name: "OpenApiDocument", schema: z.object({ openapi: z.string() }).loose() },
    admin: false,
    errors: [500],
  },
  {
    method: "get",
    path: "/admin/sessions",
    summary: "List sessions, newest first",
    query: ListQuerySchema,
    ok: { description: "One page of sessions", name: "SessionList", schema: SessionListSchema },
    admin: true,
    conditional: true,
    errors: [400, 401, 500],
  },
  {
    method: "get",
    path: "/admin/sessions/search",
    summary: "Search sessions; every term must match",
    query: SearchQuerySchema,
    ok: { description: "Matching sessions, best first", name: "SearchResults", schema: z.array(SessionSummarySchema) },
    admin: true,
    conditional: true,
    errors: [400, 401, 500],
  },
  {
    method: "get",
    path: "/admin/sessions/:id",
    summary: "One session with its messages",
    params: SessionIdParamSchema,
    ok: { description: "The session", name: "SessionFull", schema: SessionFullSchema },
    admin: true,
    conditional: true,
    errors: [400, 401, 404, 413, 422, 500],
  },
  {
    method: "get",
    path: "/admin/sessions/:id/messages",
    summary: "One page of a session's messages, for sessions too big to fetch whole",
    params: SessionIdParamSchema,
    query: MessagesQuerySchema,
    ok: { description: "A page of messages, exactly as stored", name: "MessagePage", schema: MessagePageSchema },
    admin: true,
    conditional: true,
    errors: [400, 401, 404, 413, 422, 500],
  },
  {
    method: "put",
    path: "/admin/sessions/:id",
    summary: "Store a whole session, exactly as sent (only where writes are enabled; elsewhere 404): used by opta-sessions sync",
    params: SessionIdParamSchema,
    headers: SessionMtimeHeaderSchema,
    body: { description: "The session file's text: a JSON object as the Opta CLI writes it", schema: z.object({}).loose() },
    ok: { description: "Stored: 201 when new, 200 when it replaced one", name: "Stored", schema: StoredSchema, statuses: [200, 201] },
    admin: true,
    errors: [400, 401, 404, 409, 413, 500],
  },
  {
    method: "get",
    path: "/admin/sync/manifest",
    summary: "Every stored session's id and SHA-256 (only where writes are enabled; elsewhere 404): what sync compares",
    ok: { description: "Ids and digests", name: "SyncManifest", schema: SyncManifestSchema },
    admin: true,
    errors: [401, 404, 500],
  },
  {
    method: "delete",
    path: "/admin/sessions/:id",
    summary: "Delete a session (into the trash) and its index entry",
    params: SessionIdParamSchema,
    ok: { description: "Deleted, into the trash item trash_id", name: "Deleted", schema: DeletedSchema },
    admin: true,
    errors: [400, 401, 404, 500],
  },
  {
    method: "get",
    path: "/admin/trash",
    summary: "Deleted sessions of this sessions directory, newest deletion first, one page",
    query: TrashQuerySchema,
    ok: { description: "The trash", name: "TrashList", schema: TrashListSchema },
    admin: true,
    errors: [400, 401, 500],
  },
  {
    method: "post",
    path: "/admin/trash/:id/restore",
    summary: "Put a deleted session back, with its index entry (id: a trash item's, or a session's for its most recently deleted item)",
    params: TrashIdParamSchema,
    ok: { description: "Restored under its session id", name: "Restored", schema: RestoredSchema },
    admin: true,
    errors: [400, 401, 404, 409, 500],
  },
  {
    method: "delete",
    path: "/admin/trash/:id",
    summary: "Remove a deleted session for good (id: a trash item's, or a session's for its most recently deleted item)",
    params: TrashIdParamSchema,
    ok: { description: "Purged", name: "Purged", schema: PurgedSchema },
    admin: true,
    errors: [400, 401, 404, 500],
  },
];

const ERROR_DESCRIPTIONS = {
  400: "A parameter is invalid (`param` names it)",
  401: "Missing or wrong admin key",
  404: "No such session (or trash item)",
  409: "A session with this id exists again (`session_exists`), or something that is not a session file has its name (`not_a_file`)",
  413: "The session is larger than the server's limit (`session_too_large`)",
  414: "The query string is too long (`query_too_long`)",
  422: "The file exists but is not a session (`session_corrupt`)",
  429: "Too many wrong keys from this address (`too_many_failed_attempts`, with `Retry-After`)",
  500: "Unexpected failure (details only in the server's log)",
  503: "The request took too long (`request_timeout`)",
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
const ADMIN_ERRORS = [414, 429, 503] as const;

/** The OpenAPI 3.1 document, generated from the zod schemas the routes validate and answer with. */
export function openApiDocument(version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const path = operation.path.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    paths[path][operation.method] = describe(operation);
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
      schemas: componentSchemas(),
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

/** Wire types become shared components, each referenced by name wherever it appears. */
function componentSchemas() {
  const registry = z.registry<{ id: string }>();
  registry.add(SessionSummarySchema, { id: "SessionSummary" });
  registry.add(SessionMessageSchema, { id: "SessionMessage" });
  registry.add(ErrorEnvelopeSchema, { id: "ErrorEnvelope" });
  for (const { ok } of OPERATIONS) registry.add(ok.schema, { id: ok.name });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas;
}

function describe(operation: Operation) {
  const headers = { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } };
  const responses: Record<string, unknown> = {};
  for (const status of operation.ok.statuses ?? [200]) {
    responses[status] = {
      description: operation.ok.description,
      headers: operation.conditional ? { ...headers, ETag: { $ref: "#/components/headers/ETag" } } : headers,
      content: { "application/json": { schema: { $ref: `#/components/schemas/${operation.ok.name}` } } },
    };
  }
  if (operation.conditional) responses[304] = { description: "Not modified: the `If-None-Match` ETag is still current", headers };
  for (const status of operation.admin ? [...operation.errors, ...ADMIN_ERRORS].sort() : operation.errors) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status],
      headers,
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } },
    };
  }
  return {
    summary: operation.summary,
    operationId: `${operation.method}${operation.path.replace(/\/:?(\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, "")}`,
    security: operation.admin ? [{ adminKey: [] }, { bearer: [] }] : [],
    parameters: [
      ...parametersOf(operation.params, "path"),
      ...parametersOf(operation.query, "query"),
      ...parametersOf(operation.headers, "header"),
      ...(operation.conditional ? [{ name: "If-None-Match", in: "header", required: false, schema: { type: "string" } }] : []),
    ],
    ...(operation.body && {
      requestBody: {
        required: true,
        description: operation.body.description,
        content: { "application/json": { schema: z.toJSONSchema(operation.body.schema) } },
      },
    }),
    responses,
  };
}

/** Each field of a parameter object, as the client sends it (strings), with its bounds and default. */
function parametersOf(schema: z.ZodObject | undefined, location: "path" | "query" | "header") {
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
