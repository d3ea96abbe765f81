import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorEnvelopeSchema } from "../../src/http/schemas.js";
import { FsStore } from "../../src/storage/fs/fs-store.js";
import { FsTrash } from "../../src/storage/fs/fs-trash.js";
import { ADMIN_KEY, AUTH, appFor, cliFile, cliSession } from "../fixtures/sessions.js";

/**
 * Hostile ids, paths and query parameters against the app over a real directory, with files planted
 * beside and above the sessions directory: whatever comes in, no 5xx, the envelope on every error,
 * and nothing outside the sessions directory is ever served, moved or removed.
 */

const MARK = "PLANTED-OUTSIDE-7f3a";
let root: string;
let dir: string;
let planted: Record<string, string>;
let app: ReturnType<typeof appFor>;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-property-"));
  dir = path.join(root, "sessions");
  await mkdir(path.join(root, "data", "trash"), { recursive: true });
  await mkdir(dir);
  planted = {
    "outside.json": cliFile(cliSession("outside", { title: MARK })),
    "index.json": cliFile({ entries: { outside: { title: MARK } }, updatedAt: MARK }),
    "secret.txt": MARK,
  };
  for (const [name, text] of Object.entries(planted)) await writeFile(path.join(root, name), text);
  await symlink(path.join(root, "outside.json"), path.join(dir, "linked.json"));
  for (const id of ["abc", "-8h6JWRxg1BC", "__proto__", "constructor"]) await writeFile(path.join(dir, `${id}.json`), cliFile(cliSession(id)));
  await writeFile(path.join(dir, "index.json"), cliFile({ entries: { abc: {} }, updatedAt: "x" }));
  app = appFor(new FsStore(dir), {
    trash: new FsTrash(dir, path.join(root, "data", "trash")),
    throttle: { maxFailures: Number.POSITIVE_INFINITY, maxGlobalFailures: Number.POSITIVE_INFINITY },
    allowWrites: true, // PUT and the manifest are attacked too
    maxSessionBytes: 4096,
    logger: { info() {}, warn() {}, error: (line, error) => console.error(line, error) },
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Pieces attackers reach for: every spelling of `..`, separators, NUL, the reserved id, prototype names. */
const TRICKS = ["..", ".", "%2e%2e", "%2E%2E", "..%2f", "%2f", "%5c", "\\", "/", "%00", "%252e%252e", "index", "INDEX", "outside", "secret.txt", "linked"];
const segment = fc.oneof(
  fc.constantFrom(...TRICKS, "__proto__", "constructor", "abc", "-8h6JWRxg1BC"),
  fc.array(fc.constantFrom(...TRICKS, "a", "json", ".json", "~", " ", "?", "#", "é", "😀"), { minLength: 1, maxLength: 6 }).map((parts) => parts.join("")),
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,140}$/),
  fc.string({ unit: "grapheme", maxLength: 40 }),
);
const encoded = fc.tuple(segment, fc.boolean()).map(([text, encode]) => (encode ? encodeURIComponent(text) : text));

const ROUTES: [string, (a: string, b: string) => string][] = [
  ["GET", (a) => `/admin/sessions/${a}`],
  ["GET", (a, b) => `/admin/sessions/${a}/${b}`],
  ["GET", (a) => `/admin/sessions/${a}/messages`],
  ["DELETE", (a) => `/admin/sessions/${a}`],
  ["PUT", (a) => `/admin/sessions/${a}`],
  ["POST", (a) => `/admin/trash/${a}/restore`],
  ["DELETE", (a) => `/admin/trash/${a}`],
  ["GET", (a) => `/admin/${a}`],
];

const PARAMS = ["limit", "offset", "model", "tag", "since", "q", "other"];
const value = fc.oneof(
  fc.constantFrom(
    "",
    "0",
    "1",
    "-1",
    "1e3",
    "200",
    "201",
    "9007199254740993",
    "NaN",
    " 5",
    "0x10",
    "2026-07-01",
    "2026-13-45T99:99Z",
    "2026-07-01T00:00:00+25:00",
  ),
  fc.string({ unit: "grapheme", maxLength: 250 }),
  fc.string({ unit: "binary", maxLength: 30 }),
);
const query = fc.array(fc.tuple(fc.constantFrom(...PARAMS), value), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString());

/** One request, checked: never a 5xx, the envelope on every error, never a planted file's content. */
async function check(method: string, target: string, headers: Record<string, string> = AUTH, body?: Uint8Array | string): Promise<number> {
  let url: URL;
  try {
    url = new URL(target, "http://localhost");
  } catch {
    return 0; // not a URL at all: no server would receive it
  }
  // A PUT without a body of its own sends the smallest session: the id decides the outcome.
  const sent = method === "PUT" ? { headers: { "Content-Type": "application/json", ...headers }, body: body ?? "{}" } : { headers };
  const res = await app.request(url.href, { method, ...sent });
  const text = await res.text();
  expect(res.status, `${method} ${url.pathname}${url.search}`).toBeLessThan(500);
  expect(text).not.toContain(MARK);
  if (res.status >= 400) {
    const body = ErrorEnvelopeSchema.strict().parse(JSON.parse(text));
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  } else if (res.status !== 304) {
    JSON.parse(text);
  }
  return res.status;
}

async function expectPlantedUntouched(): Promise<void> {
  for (const [name, text] of Object.entries(planted)) expect(await readFile(path.join(root, name), "utf8")).toBe(text);
  expect((await readdir(root)).sort()).toEqual(["data", "index.json", "outside.json", "secret.txt", "sessions"]);
}

describe("hostile input (fast-check)", () => {
  it("ids and paths on every route: never a 5xx, always the envelope, nothing outside the sessions directory touched", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), encoded, encoded, async ([method, route], a, b) => {
        await check(method, route(a, b));
      }),
      { numRuns: 400 },
    );
    await expectPlantedUntouched();
  });

  it("every query parameter of list, search and messages", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/admin/sessions", "/admin/sessions/search", "/admin/sessions/abc/messages", "/admin/trash"),
        query,
        async (route, search) => {
          await check("GET", `${route}?${search}`);
        },
      ),
      { numRuns: 400 },
    );
    await expectPlantedUntouched();
  });

  it("any PUT body and content type: stored byte for byte when it is a JSON object within the limit, else refused with nothing written", async () => {
    const body = fc.oneof(
      fc.json().map((text) => new TextEncoder().encode(text)),
      fc.string({ unit: "grapheme", maxLength: 300 }).map((text) => new TextEncoder().encode(text)),
      fc.uint8Array({ maxLength: 300 }),
      fc.constant(new TextEncoder().encode(JSON.stringify({ title: "x".repeat(5000) }))), // over the 4 KiB limit
    );
    const type = fc.constantFrom("application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/jsonx", "");
    await fc.assert(
      fc.asyncProperty(body, type, async (bytes, contentType) => {
        const target = path.join(dir, "putme.json");
        const before = await readFile(target).catch(() => null);
        const status = await check("PUT", "/admin/sessions/putme", { ...AUTH, "Content-Type": contentType }, bytes);
        const after = await readFile(target).catch(() => null);
        if (status === 200 || status === 201) expect(after && Buffer.compare(after, bytes)).toBe(0);
        else expect(after).toEqual(before);
      }),
      { numRuns: 300 },
    );
    await expectPlantedUntouched();
  });

  it("any key header: 401 unless it is exactly the key, never a 5xx", async () => {
    const header = fc.string({ unit: fc.constantFrom(..."abcXYZ019 -_=+/.Bearer\t".split(""), ADMIN_KEY), maxLength: 60 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("X-Admin-Key", "Authorization"), header, async (name, offered) => {
        const status = await check("GET", "/admin/trash", { [name]: offered });
        const right = name === "X-Admin-Key" ? offered.trim() === ADMIN_KEY : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(offered.trim())?.[1] === ADMIN_KEY;
        expect(status).toBe(right ? 200 : 401);
      }),
      { numRuns: 300 },
    );
  });
});
