import { promisify } from "node:util";
import { brotliDecompress, gunzip } from "node:zlib";
import { describe, expect, it } from "vitest";
import { compressJson, preferredEncoding } from "../../src/node/compression.js";
import { AUTH, appFor, cliSession, storeWith } from "../fixtures/sessions.js";

const unbrotli = promisify(brotliDecompress);
const ungzip = promisify(gunzip);

/** A session of about 200 KB of text, like a long agentic run. */
function bigStore() {
  const messages = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `message ${i} `.repeat(40) }));
  return storeWith([cliSession("big", { messages })]);
}

function handlerFor(applies = (_request: Request) => true) {
  const app = appFor(bigStore());
  return compressJson((request: Request) => app.fetch(request), { applies });
}

const request = (path: string, acceptEncoding?: string) =>
  new Request(`http://opta.test${path}`, { headers: { ...AUTH, ...(acceptEncoding ? { "Accept-Encoding": acceptEncoding } : {}) } });

describe("compression", () => {
  it.each([
    ["br", "gzip, deflate, br", unbrotli],
    ["gzip", "gzip, deflate", ungzip],
  ] as const)("sends %s that decodes to the same JSON", async (encoding, accept, decode) => {
    const handler = handlerFor();
    const plain = await (await handler(request("/admin/sessions/big"))).text();
    const res = await handler(request("/admin/sessions/big", accept));
    expect(res.headers.get("Content-Encoding")).toBe(encoding);
    expect(res.headers.get("Vary")).toContain("Accept-Encoding");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.byteLength).toBeLessThan(plain.length / 5);
    expect(JSON.parse((await decode(bytes)).toString("utf8"))).toEqual(JSON.parse(plain));
  });

  it("keeps the ETag, so a compressed answer revalidates like a plain one", async () => {
    const handler = handlerFor();
    const etag = (await handler(request("/admin/sessions/big"))).headers.get("ETag") ?? "";
    const res = await handler(new Request("http://opta.test/admin/sessions/big", { headers: { ...AUTH, "Accept-Encoding": "br", "If-None-Match": etag } }));
    expect(res.status).toBe(304);
    expect(res.headers.get("Content-Encoding")).toBeNull();
    expect(res.headers.get("Vary")).toContain("Accept-Encoding");
    expect(res.headers.get("ETag")).toBe(etag);
  });

  it.each([
    ["no Accept-Encoding", "/admin/sessions/big", undefined],
    ["an identity-only client", "/admin/sessions/big", "identity"],
    ["encodings refused with q=0", "/admin/sessions/big", "br;q=0, gzip;q=0"],
    ["a small answer", "/healthz", "br, gzip"],
  ])("leaves the body alone for %s", async (_label, path, accept) => {
    const res = await handlerFor()(request(path, accept));
    expect(res.headers.get("Content-Encoding")).toBeNull();
    expect(await res.json()).toBeTruthy();
  });

  it("leaves alone what it does not apply to (LMX's answers when forwarding)", async () => {
    const res = await handlerFor(() => false)(request("/admin/sessions/big", "br"));
    expect(res.headers.get("Content-Encoding")).toBeNull();
    expect(res.headers.get("Vary") ?? "").not.toContain("Accept-Encoding");
  });

  it.each([
    ["gzip, deflate, br, zstd", "br"],
    ["gzip;q=1.0, br;q=0", "gzip"],
    ["*", "gzip"],
    ["*;q=0", null],
    ["deflate", null],
    ["", null],
  ] as const)("picks %j -> %s", (header, expected) => {
    expect(preferredEncoding(header)).toBe(expected);
  });
});
