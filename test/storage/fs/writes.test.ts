import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from "vitest";
import { FsStore } from "../../../src/storage/fs/fs-store.js";
import type { SessionStore } from "../../../src/storage/store.js";
import { expectError, ROUTE_NOT_FOUND } from "../../fixtures/errors.js";
import { AUTH, appFor, cliFile, cliSession } from "../../fixtures/sessions.js";

/** PUT /admin/sessions/:id and GET /admin/sync/manifest on the Node side: off by default, atomic when on. */

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-writes-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const put = (body: string, headers: Record<string, string> = { "Content-Type": "application/json" }) => ({
  method: "PUT",
  headers: { ...AUTH, ...headers },
  body,
});

describe("writes on the Node server", () => {
  it("do not exist unless enabled: PUT and the manifest are unknown routes (after the key check), and nothing is written", async () => {
    const app = appFor(new FsStore(dir));
    const text = cliFile(cliSession("abc"));
    const res = await app.request("/admin/sessions/abc", put(text));
    await expectError(res, 404, ROUTE_NOT_FOUND);
    expect((await app.request("/admin/sync/manifest", { headers: AUTH })).status).toBe(404);
    expect((await app.request("/admin/sessions/abc", { method: "PUT", body: text })).status).toBe(401);
    expect(await readdir(dir)).toEqual([]);
  });

  it("cannot be enabled over a store that cannot take writes: every SessionStore writes (a type check, run by tsc)", () => {
    expectTypeOf<Omit<SessionStore, "write">>().not.toExtend<SessionStore>();
  });

  it("when enabled, write the exact bytes with temp + rename (no temp file left, mode kept), 201 then 200", async () => {
    const app = appFor(new FsStore(dir), { allowWrites: true });
    const first = cliFile(cliSession("abc", { title: "first" }));
    const created = await app.request("/admin/sessions/abc", put(first));
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ id: "abc", sha256: sha256(first), created: true });
    expect(await readFile(path.join(dir, "abc.json"), "utf8")).toBe(first);

    await chmod(path.join(dir, "abc.json"), 0o600);
    const second = cliFile(cliSession("abc", { title: "second" }));
    const replaced = await app.request("/admin/sessions/abc", put(second, { "Content-Type": "application/json; charset=utf-8" }));
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual({ id: "abc", sha256: sha256(second), created: false });
    expect(await readFile(path.join(dir, "abc.json"), "utf8")).toBe(second);
    expect((await stat(path.join(dir, "abc.json"))).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["abc.json"]);

    const listed = await (await app.request("/admin/sessions", { headers: AUTH })).json();
    expect(listed).toMatchObject({ total: 1, sessions: [{ id: "abc", title: "second" }] });
  });

  it("store the body byte for byte, a byte-order mark and bytes that are not UTF-8 included, and digest those bytes", async () => {
    const app = appFor(new FsStore(dir), { allowWrites: true });
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"title":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const res = await app.request("/admin/sessions/odd", { method: "PUT", headers: { ...AUTH, "Content-Type": "application/json" }, body: bytes });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: "odd", sha256: createHash("sha256").update(bytes).digest("hex"), created: true });
    expect(Buffer.compare(await readFile(path.join(dir, "odd.json")), bytes)).toBe(0);
  });

  it("refuse a bad body, content type or id with a clear 4xx and change nothing", async () => {
    const app = appFor(new FsStore(dir), { allowWrites: true, maxSessionBytes: 1000 });
    const cases: [string, RequestInit, number, string, string | undefined][] = [
      ["abc", put("{truncated"), 400, "invalid_session", "body"],
      ["abc", put("[1,2]"), 400, "invalid_session", "body"],
      ["abc", put("null"), 400, "invalid_session", "body"],
      ["abc", put(""), 400, "invalid_session", "body"],
      ["abc", put("{}", { "Content-Type": "text/plain" }), 400, "invalid_parameter", "content-type"],
      ["abc", put("{}", {}), 400, "invalid_parameter", "content-type"],
      ["index", put("{}"), 400, "invalid_parameter", "id"],
      ["InDeX", put("{}"), 400, "invalid_parameter", "id"],
      ["a.b", put("{}"), 400, "invalid_parameter", "id"],
      ["..%2Fescape", put("{}"), 400, "invalid_parameter", "id"],
      ["abc", put(JSON.stringify({ title: "x".repeat(2000) })), 413, "session_too_large", undefined],
    ];
    for (const [id, init, status, code, param] of cases) {
      const res = await app.request(`/admin/sessions/${id}`, init);
      expect([id, res.status]).toEqual([id, status]);
      await expectError(res, status, { type: "invalid_request_error", code, param });
    }
    expect(await readdir(dir)).toEqual([]);
    expect(await readdir(path.dirname(dir)).then((names) => names.some((name) => name === "escape.json"))).toBe(false);
  });

  it("answer 409 when something that is not a file has the session's name", async () => {
    await mkdir(path.join(dir, "abc.json"));
    const res = await appFor(new FsStore(dir), { allowWrites: true }).request("/admin/sessions/abc", put("{}"));
    await expectError(res, 409, { type: "invalid_request_error", code: "not_a_file" });
    expect((await stat(path.join(dir, "abc.json"))).isDirectory()).toBe(true);
  });

  it("list every session file's SHA-256 in the manifest, damaged ones too, and follow changes by the CLI", async () => {
    const good = cliFile(cliSession("abc"));
    await writeFile(path.join(dir, "abc.json"), good);
    await writeFile(path.join(dir, "bad.json"), "{trunc");
    await writeFile(path.join(dir, "index.json"), "{}");
    await writeFile(path.join(dir, "notes.txt"), "x");
    const latin1 = Buffer.from('{"title":"caf\xe9"}', "latin1"); // not UTF-8: its digest must be of the bytes, as sync's is
    await writeFile(path.join(dir, "latin.json"), latin1);
    const app = appFor(new FsStore(dir), { allowWrites: true });
    const manifest = async () => (await app.request("/admin/sync/manifest", { headers: AUTH })).json();
    expect(await manifest()).toEqual({ sessions: { abc: sha256(good), bad: sha256("{trunc"), latin: createHash("sha256").update(latin1).digest("hex") } });
    const changed = cliFile(cliSession("abc", { title: "changed by the CLI" }));
    await writeFile(path.join(dir, "abc.json"), changed);
    await rm(path.join(dir, "bad.json"));
    await rm(path.join(dir, "latin.json"));
    expect(await manifest()).toEqual({ sessions: { abc: sha256(changed) } });
  });
});
