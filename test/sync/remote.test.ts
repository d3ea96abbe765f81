import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MANIFEST_LIMITS, Remote } from "../../src/sync/remote.js";
import { RefusedContent, SyncError, type Upload } from "../../src/sync/round.js";
import { appFor, cliFile, cliSession, storeWith } from "../fixtures/sessions.js";
import { ADMIN_KEY } from "../fixtures/settings.js";

const KEY = "sync-test-key-0123456789";
const DIGEST = "a".repeat(64);

interface Sent {
  method: string;
  url: string;
  headers: Headers;
  body: Uint8Array | null;
  form: FormData | null;
  redirect: RequestInit["redirect"];
}

/** A Remote over a scripted fetch: each request gets the next answer (a Response, or an Error to throw). */
function remoteWith(answers: (Response | Error)[], base = "https://deploy.test/base/") {
  const sent: Sent[] = [];
  const sleeps: number[] = [];
  const fakeFetch = async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({
      method: init?.method ?? "GET",
      url: String(input),
      headers: new Headers(init?.headers),
      body: init?.body instanceof Uint8Array ? init.body : null,
      form: init?.body instanceof FormData ? init.body : null,
      redirect: init?.redirect,
    });
    const answer = answers.shift();
    if (answer === undefined) throw new Error("no more answers scripted");
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const remote = new Remote({
    baseUrl: new URL(base),
    adminKey: KEY,
    fetch: fakeFetch as typeof fetch,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { remote, sent, sleeps };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
const envelope = (status: number, message: string, headers: Record<string, string> = {}) =>
  json(status, { error: { message, type: "x", param: null, code: "x" } }, headers);
const refused = () => new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }) });

async function failure(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof SyncError)) throw new Error(`expected a SyncError, got ${String(error)}`);
  return error;
}

describe("the deployment's admin API", () => {
  it("fetches the manifest under the base URL's path, with the key as a bearer token, following no redirect", async () => {
    const { remote, sent } = remoteWith([json(200, { sessions: { abc: DIGEST } })]);
    expect(await remote.manifest()).toEqual(new Map([["abc", DIGEST]]));
    expect(sent[0]).toMatchObject({ method: "GET", url: "https://deploy.test/base/admin/sync/manifest", redirect: "manual" });
    expect(sent[0]?.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(sent[0]?.headers.has("x-admin-key")).toBe(false);
  });

  it("leaves out manifest ids no local file could have", async () => {
    const { remote } = remoteWith([json(200, { sessions: { ok: DIGEST, index: DIGEST, "a.b": DIGEST } })]);
    expect([...(await remote.manifest()).keys()]).toEqual(["ok"]);
  });

  it("refuses an answer that is not a manifest", async () => {
    const { remote } = remoteWith([json(200, { sessions: { abc: "not-a-digest" } })]);
    expect(await failure(remote.manifest())).toMatchObject({ fatal: true, message: expect.stringContaining("not a sync manifest") });
  });

  it("PUTs the exact bytes as JSON and checks the digest the deployment answers", async () => {
    const bytes = new TextEncoder().encode('{"id":"abc"}\n');
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const { remote, sent } = remoteWith([json(201, { id: "abc", sha256, created: true }), json(200, { id: "abc", sha256: DIGEST, created: false })]);

    await remote.put("abc", bytes, sha256, 0);
    expect(sent[0]).toMatchObject({ method: "PUT", url: "https://deploy.test/base/admin/sessions/abc", body: bytes });
    expect(sent[0]?.headers.get("content-type")).toBe("application/json");

    expect(await failure(remote.put("abc", bytes, sha256, 0))).toMatchObject({ fatal: false, message: expect.stringContaining("SHA-256 differs") });
  });

  it("counts a DELETE of a session already gone as done", async () => {
    const { remote, sent } = remoteWith([json(200, { deleted: true }), envelope(404, "no such session")]);
    await remote.remove("a");
    await remote.remove("b");
    expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([
      "DELETE https://deploy.test/base/admin/sessions/a",
      "DELETE https://deploy.test/base/admin/sessions/b",
    ]);
  });

  it("stops at once on a refused key, naming the variable and never the key", async () => {
    const { remote, sent } = remoteWith([envelope(401, "invalid admin key")]);
    const error = await failure(remote.put("a", new Uint8Array(), DIGEST, 0));
    expect(error).toMatchObject({ fatal: true, message: "the deployment refused the admin key (401): check OPTA_ADMIN_KEY" });
    expect(sent).toHaveLength(1);
  });

  it("says a deployment without /admin/sync/manifest does not accept writes", async () => {
    const { remote } = remoteWith([envelope(404, "route not found")]);
    const error = await failure(remote.manifest());
    expect(error.fatal).toBe(true);
    expect(error.message).toMatch(/^https:\/\/deploy\.test\/base does not accept writes \(no \/admin\/sync\/manifest\): /);
  });

  it("fails one file that is too large, without retrying, and lets the round go on", async () => {
    const { remote, sent } = remoteWith([envelope(413, "the session is larger than 1 MiB")]);
    expect(await failure(remote.put("big", new Uint8Array(), DIGEST, 0))).toMatchObject({
      fatal: false,
      message: "too large for the deployment (413: the session is larger than 1 MiB)",
    });
    expect(sent).toHaveLength(1);
  });

  it("retries 5xx with doubling delays, then fails that file (not the round)", async () => {
    const { remote, sent, sleeps } = remoteWith([envelope(500, "a"), envelope(502, "b"), envelope(503, "c"), envelope(500, "disk full")]);
    expect(await failure(remote.put("a", new Uint8Array(), DIGEST, 0))).toMatchObject({
      fatal: false,
      message: "the deployment answered 500: disk full (tried 4 times)",
    });
    expect(sent).toHaveLength(4);
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it("stops the round when the manifest still fails after retries", async () => {
    const { remote } = remoteWith([envelope(503, "a"), envelope(503, "b"), envelope(503, "c"), envelope(503, "overloaded")]);
    expect(await failure(remote.manifest())).toMatchObject({
      fatal: true,
      message: "https://deploy.test/base/admin/sync/manifest answered 503: overloaded (tried 4 times)",
    });
  });

  it("succeeds when a retry does", async () => {
    const { remote } = remoteWith([envelope(503, "busy"), refused(), json(200, { sessions: {} })]);
    expect(await remote.manifest()).toEqual(new Map());
  });

  it("waits as long as Retry-After says, but never more than 10 s", async () => {
    const { remote, sleeps } = remoteWith([
      envelope(429, "slow down", { "Retry-After": "2" }),
      envelope(503, "later", { "Retry-After": "3600" }),
      envelope(503, "soon", { "Retry-After": new Date(Date.now() - 1000).toUTCString() }),
      json(200, { sessions: {} }),
    ]);
    await remote.manifest();
    expect(sleeps).toEqual([2000, 10_000, 0]);
  });

  it("gives up on an unreachable deployment after 3 retries, stopping the round", async () => {
    const { remote, sent } = remoteWith([refused(), refused(), refused(), refused()]);
    const error = await failure(remote.put("a", new Uint8Array(), DIGEST, 0));
    expect(error).toMatchObject({ fatal: true, message: "cannot reach https://deploy.test/base: connect ECONNREFUSED 127.0.0.1:9 (tried 4 times)" });
    expect(sent).toHaveLength(4);
  });

  it("follows no redirect: it names where to point --to instead", async () => {
    const { remote } = remoteWith([new Response(null, { status: 308, headers: { Location: "https://elsewhere.test/" } })]);
    expect(await failure(remote.manifest())).toMatchObject({
      fatal: true,
      message: "https://deploy.test/base redirects to https://elsewhere.test/ (308): pass the URL it redirects to with --to",
    });
  });

  it("prints the deployment's words without control characters, cut to one line", async () => {
    const { remote } = remoteWith([envelope(400, `bad\u001b[2J\nbody ${"x".repeat(300)}`)]);
    const { message } = await failure(remote.put("a", new Uint8Array(), DIGEST, 0));
    expect(message).toMatch(/^refused by the deployment \(400: bad \[2J body x+\.\.\.\)$/);
    expect(message.length).toBeLessThan(250);
  });

  it("sends the file's modification time with each PUT as X-Session-Mtime, ISO 8601 UTC with milliseconds", async () => {
    const { remote, sent } = remoteWith([json(201, { id: "a", sha256: DIGEST, created: true })]);
    await remote.put("a", new Uint8Array(), DIGEST, Date.UTC(2026, 6, 1, 8, 0, 0, 123));
    expect(sent[0]?.headers.get("x-session-mtime")).toBe("2026-07-01T08:00:00.123Z");
  });
});

/** An answer whose body never ends: `{"sessions":{` then the same 1 MiB of entries forever; counts what was pulled. */
function endlessManifest() {
  const chunk = new TextEncoder().encode(`"s0":"${DIGEST}",`.repeat(Math.floor((1024 * 1024) / 72)));
  const stream = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new TextEncoder().encode('{"sessions":{')),
    pull: (controller) => {
      stream.pulled += chunk.byteLength;
      controller.enqueue(chunk);
    },
    cancel: () => {
      stream.cancelled = true;
    },
  });
  return { response: new Response(body, { status: 200, headers: { "Content-Type": "application/json" } }), stream };
}

describe("the deployment's manifest, bounded", () => {
  it("stops reading a manifest past 64 MiB and stops the round, naming the limit", async () => {
    const { response, stream } = endlessManifest();
    const { remote } = remoteWith([response]);
    const error = await failure(remote.manifest());
    expect(error).toMatchObject({
      fatal: true,
      message: "https://deploy.test/base/admin/sync/manifest is larger than 64 MiB, the most sync reads: nothing synced (is --to the right deployment?)",
    });
    expect(stream.cancelled).toBe(true);
    expect(stream.pulled).toBeLessThanOrEqual(MANIFEST_LIMITS.bytes + 2 * 1024 * 1024);
  });

  it("reads none of a manifest whose Content-Length is past the limit", async () => {
    const { remote } = remoteWith([new Response("{}", { status: 200, headers: { "Content-Length": String(4_000_000_000) } })]);
    expect((await failure(remote.manifest())).message).toContain("larger than 64 MiB");
  });

  it("refuses a manifest of more than 200,000 sessions, naming the limit", async () => {
    const sessions = Object.fromEntries(Array.from({ length: MANIFEST_LIMITS.entries + 1 }, (_, i) => [`s${i}`, DIGEST]));
    const { remote } = remoteWith([json(200, { sessions })]);
    expect(await failure(remote.manifest())).toMatchObject({
      fatal: true,
      message:
        "https://deploy.test/base/admin/sync/manifest lists 200,001 sessions, more than 200,000, the most sync takes: nothing synced (is --to the right deployment?)",
    });
  });

  it("reads only the start of any other answer", async () => {
    const { response, stream } = endlessManifest();
    const { remote } = remoteWith([new Response(response.body, { status: 400 })]);
    expect((await failure(remote.put("a", new Uint8Array(), DIGEST, 0))).message).toMatch(/^refused by the deployment \(400: \{"sessions":\{"s0":/);
    expect(stream.cancelled).toBe(true);
    expect(stream.pulled).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});

describe("the deployment's refusals", () => {
  it("marks only answers about the content (413, 400, 422) as refused for good, not 403, 409, 408 or 425", async () => {
    const statuses = [413, 400, 422, 403, 409, 408, 425];
    const { remote } = remoteWith(statuses.map((status) => envelope(status, "no")));
    const answers = [];
    for (const _ of statuses) answers.push((await failure(remote.put("a", new Uint8Array(), DIGEST, 0))) instanceof RefusedContent);
    expect(answers).toEqual([true, true, true, false, false, false, false]);
  });
});

const upload = (id: string, text: string, mtimeMs = 0): Upload => {
  const bytes = new TextEncoder().encode(text);
  return { id, bytes, sha256: createHash("sha256").update(bytes).digest("hex"), mtimeMs };
};

/** A Remote over the real app (writes enabled, in memory), counting the requests it sends. */
function remoteOverApp() {
  const store = storeWith([]);
  const app = appFor(store, { allowWrites: true });
  const requests: string[] = [];
  const remote = new Remote({
    baseUrl: new URL("http://deploy.test/"),
    adminKey: ADMIN_KEY,
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      requests.push(`${request.method} ${new URL(request.url).pathname}`);
      return app.fetch(request);
    }) as typeof fetch,
  });
  return { store, app, remote, requests };
}

describe("sending sessions in batches", () => {
  it("stores a batch's exact bytes and times in one request, and answers the refused one's failure as PUT's would be", async () => {
    const { store, app, remote, requests } = remoteOverApp();
    const bom = upload("bom", `\ufeff${cliFile(cliSession("bom", { created: "unknown", updated: "" }))}`, Date.UTC(2025, 4, 6, 7, 8, 9, 123));
    const failures = await remote.putMany([upload("a", cliFile(cliSession("a"))), bom, upload("bad", "[]")]);

    expect(requests).toEqual(["POST /admin/sync/sessions"]);
    // No failure for bom: the deployment answered the SHA-256 of exactly the bytes sent, byte-order mark included.
    expect([...failures.keys()]).toEqual(["bad"]);
    expect(failures.get("bad")).toBeInstanceOf(RefusedContent);
    expect(failures.get("bad")?.message).toBe("refused by the deployment (400: the body must be a session: a JSON object, as the Opta CLI writes it)");
    expect(store.get("a.json")).toBe(cliFile(cliSession("a")));
    const session = await (await app.request("/admin/sessions/bom", { headers: { "X-Admin-Key": ADMIN_KEY } })).json();
    expect(session).toMatchObject({ created_at: "2025-05-06T07:08:09.123Z", updated_at: "2025-05-06T07:08:09.123Z" });
  });

  it("sends a session named mtimes (the batch's own part) by PUT beside the batch", async () => {
    const { store, remote, requests } = remoteOverApp();
    expect(await remote.putMany([upload("a", "{}"), upload("mtimes", '{"m":1}')])).toEqual(new Map());
    expect(requests).toEqual(["POST /admin/sync/sessions", "PUT /admin/sessions/mtimes"]);
    expect(store.get("mtimes.json")).toBe('{"m":1}');
  });

  it("falls back to PUT for a deployment without the batch route (404 or 405), and remembers it", async () => {
    for (const status of [404, 405]) {
      const stored = (id: string) => json(201, { id, sha256: upload(id, "{}").sha256, created: true });
      const { remote, sent } = remoteWith([envelope(status, "no such route"), stored("a"), stored("b"), stored("c")]);
      expect(await remote.putMany([upload("a", "{}"), upload("b", "{}")])).toEqual(new Map());
      expect(await remote.putMany([upload("c", "{}")])).toEqual(new Map());
      expect(sent.map((request) => `${request.method} ${request.url}`)).toEqual([
        "POST https://deploy.test/base/admin/sync/sessions",
        "PUT https://deploy.test/base/admin/sessions/a",
        "PUT https://deploy.test/base/admin/sessions/b",
        "PUT https://deploy.test/base/admin/sessions/c",
      ]);
    }
  });

  it("sends a batch the deployment finds too large (413) by PUT, and the next batch whole again", async () => {
    const stored = (id: string) => json(201, { id, sha256: upload(id, "{}").sha256, created: true });
    const { remote, sent } = remoteWith([
      envelope(413, "too large"),
      stored("a"),
      json(200, { results: { b: { sha256: upload("b", "{}").sha256, created: true } } }),
    ]);
    expect(await remote.putMany([upload("a", "{}")])).toEqual(new Map());
    expect(await remote.putMany([upload("b", "{}")])).toEqual(new Map());
    expect(sent.map((request) => request.method)).toEqual(["POST", "PUT", "POST"]);
  });

  it("sends each session as a file part named by its id, and the times as the mtimes part", async () => {
    const a = upload("a", '{"x":1}', Date.UTC(2026, 6, 1, 8, 0, 0, 123));
    const { remote, sent } = remoteWith([json(200, { results: { a: { sha256: a.sha256, created: true } } })]);
    await remote.putMany([a]);
    const form = sent[0]?.form;
    const part = form?.get("a");
    expect(part).toBeInstanceOf(Blob);
    expect(new Uint8Array(await (part as Blob).arrayBuffer())).toEqual(a.bytes);
    expect(form?.get("mtimes")).toBe('{"a":"2026-07-01T08:00:00.123Z"}');
    expect(sent[0]?.headers.has("content-type")).toBe(false); // fetch writes the multipart boundary itself
  });

  it("takes each session's outcome as PUT's: a digest that differs, a refusal by code, a code it does not know, one left out", async () => {
    const sessions = ["same", "other", "big", "odd", "missing"].map((id) => upload(id, `{"id":"${id}"}`));
    const error = (code: string, message: string) => ({ error: { message, type: "invalid_request_error", param: null, code } });
    const { remote } = remoteWith([
      json(200, {
        results: {
          same: { sha256: sessions[0]?.sha256, created: false },
          other: { sha256: DIGEST, created: true },
          big: error("session_too_large", "the session is larger than 1 MiB"),
          odd: error("from_a_later_version", "no"),
        },
      }),
    ]);
    const failures = await remote.putMany(sessions);
    expect(Object.fromEntries([...failures].map(([id, failure]) => [id, [failure.message, failure instanceof RefusedContent, failure.fatal]]))).toEqual({
      other: ["the deployment stored other bytes than were sent (its SHA-256 differs)", false, false],
      big: ["too large for the deployment (413: the session is larger than 1 MiB)", true, false],
      odd: ["refused by the deployment (from_a_later_version: no)", false, false],
      missing: ["the deployment's answer leaves this session out", false, false],
    });
  });

  it("retries a batch as any request, stops at a refused key, and fails the batch on an answer it cannot read", async () => {
    const a = upload("a", "{}");
    const ok = json(200, { results: { a: { sha256: a.sha256, created: true } } });
    const retried = remoteWith([envelope(503, "busy"), ok]);
    expect(await retried.remote.putMany([a])).toEqual(new Map());
    expect(retried.sent).toHaveLength(2);

    expect(await failure(remoteWith([envelope(401, "no")]).remote.putMany([a]))).toMatchObject({ fatal: true, message: expect.stringContaining("401") });
    expect(await failure(remoteWith([json(200, { sessions: {} })]).remote.putMany([a]))).toMatchObject({
      fatal: false,
      message: "the deployment answered something that is not the outcome of each session sent",
    });
  });
});
