// What the Worker tests use of workerd's built-in module (the pool provides it at run time).
declare module "cloudflare:workers" {
  import type { WorkerEnv } from "../../src/cloudflare/worker.js";
  export const env: WorkerEnv & Record<string, unknown>;
}

/** workerd's navigator (Node 20's types have none): its userAgent tells a test where it runs. */
declare const navigator: { readonly userAgent: string };
