import type { MiddlewareHandler } from "hono";
import { AuthenticationFailed } from "./errors.js";

export interface AdminKeyOptions {
  /** The admin key every request must carry. */
  key: string;
}

/**
 * Lets a request through when `X-Admin-Key: <key>` or `Authorization: Bearer <key>` carries the
 * admin key (either is enough); otherwise 401 with `WWW-Authenticate: Bearer`. Keys are compared
 * in constant time: the work depends only on the configured key's length, never on the offer.
 */
export function adminKeyAuth(options: AdminKeyOptions): MiddlewareHandler {
  if (options.key === "") throw new Error("adminKeyAuth needs a non-empty key");
  const expected = encoder.encode(options.key);
  return async (c, next) => {
    const offered = [c.req.header("X-Admin-Key"), bearerToken(c.req.header("Authorization"))];
    let accepted = false;
    for (const candidate of offered) {
      if (candidate) accepted = equalInConstantTime(encoder.encode(candidate), expected) || accepted;
    }
    if (!accepted) throw new AuthenticationFailed();
    await next();
  };
}

const encoder = new TextEncoder();

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return match?.[1];
}

/** Walks every byte of `expected` whatever `offered` is, so timing tells nothing about where they differ. */
function equalInConstantTime(offered: Uint8Array, expected: Uint8Array): boolean {
  let difference = offered.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= (offered[i % Math.max(offered.length, 1)] ?? 0) ^ expected[i]!;
  return difference === 0;
}
