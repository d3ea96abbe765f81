import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";

/** Node edge: brotli needs node:zlib (CompressionStream and hono/compress only do gzip and deflate). */

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

type FetchHandler<Rest extends unknown[]> = (request: Request, ...rest: Rest) => Response | Promise<Response>;

interface CompressionOptions {
  /** Answers smaller than this many bytes are sent as they are: compressing them gains nothing. */
  thresholdBytes?: number;
  /** Which requests are ours to compress (forwarded LMX answers pass through untouched). */
  applies: (request: Request) => boolean;
}

/** Compresses JSON answers with brotli or gzip when the client accepts it; a 10 MB session is mostly text. */
export function compressJson<Rest extends unknown[]>(handler: FetchHandler<Rest>, options: CompressionOptions): FetchHandler<Rest> {
  const threshold = options.thresholdBytes ?? 1024;
  return async (request, ...rest) => {
    const response = await handler(request, ...rest);
    if (!options.applies(request) || response.headers.has("Content-Encoding")) return response;
    const headers = new Headers(response.headers);
    headers.append("Vary", "Accept-Encoding"); // the same URL answers differently by Accept-Encoding
    // A 304 stands for the 200 it revalidates, so it names the same Vary.
    if (response.status === 304) return new Response(null, { status: 304, statusText: response.statusText, headers });
    if (!response.body || !/^application\/(?:[\w.+-]+\+)?json\b/i.test(response.headers.get("Content-Type") ?? "")) return response;

    const body = new Uint8Array(await response.arrayBuffer());
    const encoding = preferredEncoding(request.headers.get("Accept-Encoding"));
    const init = { status: response.status, statusText: response.statusText, headers };
    if (!encoding || body.byteLength < threshold) return new Response(body, init);

    const compressed =
      encoding === "br"
        ? await brotli(body, {
            // Quality 11 (the default) takes seconds on a 10 MB session; 4 is fast and still beats gzip.
            params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength },
          })
        : await gzipped(body);
    headers.set("Content-Encoding", encoding);
    headers.delete("Content-Length");
    return new Response(new Uint8Array(compressed), init);
  };
}

/** brotli, else gzip, among what `Accept-Encoding` allows (q=0 refuses; `*` allows gzip); null: send as is. */
export function preferredEncoding(acceptEncoding: string | null): "br" | "gzip" | null {
  const weights = new Map<string, number>();
  for (const part of (acceptEncoding ?? "").split(",")) {
    const [name = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((param) => /^\s*q=([0-9.]+)\s*$/.exec(param)?.[1]).find((value) => value !== undefined);
    if (name) weights.set(name.trim(), q === undefined ? 1 : Number(q));
  }
  const accepts = (name: string) => (weights.get(name) ?? (name === "gzip" ? weights.get("*") : undefined) ?? 0) > 0;
  if (accepts("br")) return "br";
  if (accepts("gzip")) return "gzip";
  return null;
}
