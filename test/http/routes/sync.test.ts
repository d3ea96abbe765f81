import { describe, expect, it } from "vitest";
import { SYNC_BATCH_LIMITS } from "../../../src/http/routes/sync.js";
import { expectError, expectInvalidParameter } from "../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession, recordingLogger, storeWith } from "../../fixtures/sessions.js";

/** What the contract suite leaves to one runtime: the request's bounds in bytes, and how parts must be sent. */
function setup() {
  const store = storeWith([]);
  const app = appFor(store, { allowWrites: true });
  const post = (form: FormData | string, headers: Record<string, string> = {}) =>
    app.request("/admin/sync/sessions", { method: "POST", headers: { ...AUTH, ...headers }, body: form });
  return { store, post };
}

const part = (text: string | Uint8Array) => new Blob([text]);

describe("POST /admin/sync/sessions", () => {
  it("refuses a request past 16 MiB with 413 batch_too_large, storing nothing", async () => {
    const { store, post } = setup();
    const form = new FormData();
    form.append("small", part(cliFile(cliSession("small"))), "small.json");
    form.append("big", part(new Uint8Array(SYNC_BATCH_LIMITS.bytes)), "big.json");
    await expectError(await post(form), 413, {
      message: `one request takes at most ${SYNC_BATCH_LIMITS.bytes} bytes: send the rest in another (or one by one with PUT)`,
      type: "invalid_request_error",
      code: "batch_too_large",
    });
    expect(store.get("small.json")).toBeUndefined();
  });

  it("refuses a session sent as a plain field (its bytes would arrive decoded as text)", async () => {
    const { post } = setup();
    const form = new FormData();
    form.append("abc", cliFile(cliSession("abc")));
    await expectInvalidParameter(await post(form), "abc", "abc: each session must be a file part (with a filename), so its bytes arrive exactly");
  });

  it("refuses an id sent twice, and mtimes that are not JSON", async () => {
    const { post } = setup();
    const twice = new FormData();
    twice.append("abc", part("{}"), "a.json");
    twice.append("abc", part("{}"), "b.json");
    await expectInvalidParameter(await post(twice), "abc", "abc is sent more than once");
    const mtimes = new FormData();
    mtimes.append("abc", part("{}"), "a.json");
    mtimes.append("mtimes", "{");
    await expectInvalidParameter(await post(mtimes), "mtimes");
  });

  it("refuses a multipart body that does not parse", async () => {
    const { post } = setup();
    await expectInvalidParameter(await post("not multipart", { "Content-Type": "multipart/form-data; boundary=x" }), "body");
  });

  it("answers an id like __proto__ as a key of its own", async () => {
    const { store, post } = setup();
    const form = new FormData();
    form.append("__proto__", part("{}"), "__proto__.json");
    const body = await (await post(form)).text();
    expect(body).toMatch(/^\{"results":\{"__proto__":\{"sha256":"[0-9a-f]{64}","created":true\}\}\}$/);
    expect(store.get("__proto__.json")).toBe("{}");
  });

  it("answers a session the store failed to write with internal_error, logs why, and stores the others", async () => {
    const store = storeWith([]);
    const write = store.write.bind(store);
    store.write = async (name, bytes, metadata) => {
      if (name === "broken.json") throw new Error("EIO: disk trouble at /srv/secret/path");
      return write(name, bytes, metadata);
    };
    const logger = recordingLogger();
    const app = appFor(store, { allowWrites: true, logger });
    const form = new FormData();
    form.append("broken", part("{}"), "broken.json");
    form.append("fine", part("{}"), "fine.json");

    const res = await app.request("/admin/sync/sessions", { method: "POST", headers: AUTH, body: form });

    expect(await res.json()).toEqual({
      results: {
        broken: { error: { message: "internal server error", type: "server_error", param: null, code: "internal_error" } },
        fine: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), created: true },
      },
    });
    expect(store.get("fine.json")).toBe("{}");
    expect(logger.lines).toContainEqual({ level: "warn", line: "storing broken failed: EIO: disk trouble at /srv/secret/path" });
  });
});
