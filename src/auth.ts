import type { MiddlewareHandler } from "hono";
import { AuthenticationFailed } from "./errors.js";

export interface AdminKeyOptions {
  /** The admin key every request must carry. */
  key: string;
}

/**
 * Lets a request through when `X-Admin-Key: <key>` or `Authorization: Bearer <key>` carries the
 * admin key (either is enough); otherwise 401 with `WWW-Authenticate: Bearer`. Keys are compared
 * as SHA-256 digests in constant time, so neither content nor length leaks through timing.
 */
export function adminKeyAuth(options: AdminKeyOptions): MiddlewareHandler {
  if (options.key === "") throw new Error("adminKeyAuth needs a non-empty key");
  const expected = sha256(options.key);
  return async (c, next) => {
    const offered = [c.req.header("X-Admin-Key"), bearerToken(c.req.header("Authorization"))];
    let accepted = false;
    for (const candidate of offered) {
      if (candidate) accepted = equalDigests(await sha256(candidate), await expected) || accepted;
    }
    if (!accepted) throw new AuthenticationFailed();
    await next();
  };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return match?.[1];
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
