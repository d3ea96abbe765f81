import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { ADMIN_KEY, appFor } from "../fixtures/sessions.js";

type Document = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        security: unknown[];
        parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
        responses: Record<string, unknown>;
      }
    >
  >;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
};

async function documentOf(app = appFor(new MemoryStore())): Promise<Document> {
  const res = await app.request("/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
}

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without a key", async () => {
    const document = await documentOf();
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  // The document is generated from the routes declared with `.openapi()`: a route registered any other way (a plain
  // `.get`), or an operation without its route, fails here. Middleware (`use`, the upstream's catch-all) is method ALL.
  it.each([
    ["", {}],
    ["with writes on and an upstream", { allowWrites: true, upstream: new URL("http://127.0.0.1:9") }],
  ])("describes exactly the routes the app serves %s: an operation for each, a route for each operation", async (_label, options) => {
    const app = appFor(new MemoryStore(), options);
    const served = app.routes.filter((route) => route.method !== "ALL").map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
    const { paths } = await documentOf(app);
    const documented = Object.entries(paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual([...new Set(served)].sort());
  });

  it("answers each documented path id and integer query parameter, when invalid, with the 400 envelope naming it", async () => {
    const app = appFor(new MemoryStore(), { allowWrites: true });
    const { paths } = await documentOf(app);
    const checked: string[] = [];
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, { parameters }] of Object.entries(operations)) {
        // Every other required query parameter (search's q) is given a valid value, so the invalid one is the only fault.
        const required = parameters.filter((p) => p.in === "query" && p.required).map((p) => `${p.name}=abc&`);
        const invalid = parameters.filter((p) => (p.in === "path" && p.name === "id") || (p.in === "query" && p.schema.type === "integer"));
        for (const parameter of invalid) {
          const url = parameter.in === "path" ? path.replace("{id}", "a.b") : `${path.replace("{id}", "abc")}?${required.join("")}${parameter.name}=x`;
          const res = await app.request(url, { method: method.toUpperCase(), headers: { "X-Admin-Key": ADMIN_KEY, "Content-Type": "application/json" } });
          expect(res.status, `${method} ${url}`).toBe(400);
          expect(await res.json(), `${method} ${url}`).toEqual({
            error: { message: expect.stringMatching(/\S/), type: "invalid_request_error", param: parameter.name, code: "invalid_parameter" },
          });
          checked.push(`${method} ${path} ${parameter.name}`);
        }
      }
    }
    expect(checked).toEqual(expect.arrayContaining(["put /admin/sessions/{id} id", "get /admin/sessions/{id}/messages limit", "get /admin/trash offset"]));
  });

  it("offers both ways to send the key, on every admin route and no other", async () => {
    const { paths, components } = await documentOf();
    expect(components.securitySchemes).toEqual({
      adminKey: { type: "apiKey", in: "header", name: "X-Admin-Key" },
      bearer: { type: "http", scheme: "bearer" },
    });
    for (const [path, operations] of Object.entries(paths)) {
      for (const operation of Object.values(operations)) {
        expect(operation.security).toEqual(path.startsWith("/admin/") ? [{ adminKey: [] }, { bearer: [] }] : []);
        if (path.startsWith("/admin/")) expect(operation.responses["401"]).toBeDefined();
      }
    }
  });

  it("states every parameter bound the validators enforce", async () => {
    const { paths } = await documentOf();
    const param = (path: string, name: string, method = "get") => paths[path]?.[method]?.parameters.find((p) => p.name === name)?.schema;
    expect(param("/admin/sessions", "limit")).toMatchObject({ type: "integer", minimum: 1, maximum: 200 });
    expect(param("/admin/sessions", "offset")).toMatchObject({ type: "integer", minimum: 0 });
    expect(param("/admin/sessions", "model")).toMatchObject({ type: "string", maxLength: 200 });
    expect(param("/admin/sessions/search", "q")).toMatchObject({ type: "string", minLength: 1, maxLength: 200 });
    expect(param("/admin/sessions/search", "limit")).toMatchObject({ type: "integer", minimum: 1, maximum: 100 });
    expect(param("/admin/sessions/{id}", "id", "delete")).toMatchObject({ type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" });
    expect(paths["/admin/sessions/search"]?.get?.parameters.find((p) => p.name === "q")).toMatchObject({ in: "query", required: true });
  });

  it("documents the sync batch as multipart: a file part per session, the mtimes part, each outcome, and its 400 and 413", async () => {
    const { paths } = await documentOf(appFor(new MemoryStore(), { allowWrites: true }));
    const batch = paths["/admin/sync/sessions"]?.post as unknown as {
      requestBody: { content: Record<string, { schema: unknown }> };
      responses: Record<string, unknown>;
    };
    expect(batch.requestBody.content["multipart/form-data"]?.schema).toMatchObject({
      properties: { mtimes: { type: "string" } },
      additionalProperties: { type: "string", format: "binary" },
    });
    expect(Object.keys(batch.responses)).toEqual(expect.arrayContaining(["200", "400", "404", "413"]));
  });

  it("names the list's until and cwd filters and PUT's X-Session-Mtime header", async () => {
    const { paths } = await documentOf();
    const parameter = (path: string, name: string, method = "get") => paths[path]?.[method]?.parameters.find((p) => p.name === name);
    expect(parameter("/admin/sessions", "until")).toMatchObject({ in: "query", required: false, schema: { type: "string", maxLength: 64 } });
    expect(parameter("/admin/sessions", "cwd")).toMatchObject({ in: "query", required: false, schema: { type: "string", maxLength: 1000 } });
    expect(parameter("/admin/sessions/{id}", "x-session-mtime", "put")).toMatchObject({ in: "header", required: false, schema: { type: "string" } });
  });

  it("documents the live feed as an event stream, its resume and query key, and the Worker's 501", async () => {
    const feed = (await documentOf()).paths["/admin/sessions/events"]?.get as unknown as { description: string } & Document["paths"][string][string];
    expect(feed.responses["200"]).toMatchObject({ content: { "text/event-stream": { schema: { type: "string" } } } });
    expect(Object.keys(feed.responses)).toEqual(expect.arrayContaining(["501", "503"]));
    expect(feed.parameters.map(({ name, in: where }) => `${where} ${name}`)).toEqual(["query last_event_id", "query admin_key", "header last-event-id"]);
    expect(feed.description).toContain("On the Cloudflare Worker this answers 501 `events_unavailable`");
  });

  it("gives every error the one envelope, with the wire types as components", async () => {
    const { paths, components } = await documentOf();
    expect(Object.keys(components.schemas)).toEqual(expect.arrayContaining(["SessionSummary", "SessionFull", "SessionList", "ErrorEnvelope"]));
    for (const operations of Object.values(paths)) {
      for (const operation of Object.values(operations)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) >= 400)
            expect(response).toMatchObject({ content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorEnvelope" } } } });
        }
      }
    }
  });
});
