import packageJson from "../../package.json" with { type: "json" };
import { createApp } from "../http/app.js";
import { ApiError, bareErrorResponse } from "../http/errors.js";
import { requestIdFor } from "../http/middleware/request-log.js";
import { inProcessLoader } from "../sessions/loader.js";
import { SessionService } from "../sessions/service.js";
import { realSleep } from "../shared/clock.js";
import { ConfigError, check, checkedAdminKey, originList, type Parser, positive, SwitchSchema } from "../shared/config-values.js";
import { consoleLogger } from "../shared/log.js";
import { type R2BucketLike, R2Store, R2Trash } from "../storage/r2-store.js";
import { CostMeter } from "./cost.js";
import { D1Database, type D1DatabaseLike } from "./d1.js";

/**
 * The Cloudflare Workers entry: the same app as the Node server, over an R2 bucket. Nothing here
 * or below imports from node: (test/architecture.test.ts checks).
 */

/** The Worker's bindings, as wrangler.toml and secrets declare them. */
export interface WorkerEnv {
  /** The R2 bucket: one object per session under `sessions/`, deleted ones under `trash/`. */
  SESSIONS: R2BucketLike;
  /** The D1 database every isolate shares: the listing, search and sync manifest (migrations/; the Worker also makes its tables on first use). */
  SEARCH: D1DatabaseLike;
  /** Secret (`wrangler secret put OPTA_ADMIN_KEY`; locally `.dev.vars`): required on every /admin route. */
  OPTA_ADMIN_KEY?: string;
  /** Comma-separated browser origins allowed to call. */
  OPTA_CORS_ORIGINS?: string;
  /** Accept sessions from `opta-sessions sync` (default on: a bucket is ours to write). */
  OPTA_ALLOW_WRITES?: string;
  /** Largest session served or accepted, in MiB (default 16; see MEMORY below). */
  OPTA_MAX_SESSION_MB?: string;
  /** Deleted sessions are purged after this many days by the scheduled handler (default 30). */
  OPTA_TRASH_DAYS?: string;
  /** `1`: send each message's content as text, for the existing dashboard (default off; see README). */
  OPTA_CONTENT_AS_TEXT?: string;
  /** `1`: every answer says what it cost in R2 operations and D1 rows (X-Opta-Cost), for measuring (default off). */
  OPTA_COST_HEADER?: string;
}

interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * MEMORY: an isolate may use 128 MB. Serving a session holds its bytes, its text, its parsed
 * form and the answer at once (about 4x its size: 20 MB of JSON parses into 20 MB of objects),
 * so at most this many sessions are read at a time, for GETs and for search indexing alike, and
 * the default size limit is 16 MiB.
 */
const SESSIONS_IN_MEMORY = 2;

interface Built {
  env: WorkerEnv;
  app: ReturnType<typeof createApp>;
  sessions: SessionService;
  meter: CostMeter;
  costHeader: boolean;
}

/** One app per isolate (and per env, which tests vary), so remembered answers outlive a request. */
let built: Built | { env: WorkerEnv; error: ConfigError } | null = null;

function appFor(env: WorkerEnv): Built | { env: WorkerEnv; error: ConfigError } {
  if (built?.env === env) return built;
  // A var, else its default; an empty var counts as unset.
  const setting = <T>(name: keyof Omit<WorkerEnv, "SESSIONS" | "SEARCH">, parser: Parser<T>, fallback: string) => check(parser, env[name] || fallback, name);
  try {
    const adminKey = checkedAdminKey(env.OPTA_ADMIN_KEY, "OPTA_ADMIN_KEY");
    if (adminKey === null) throw new ConfigError("OPTA_ADMIN_KEY is not set: wrangler secret put OPTA_ADMIN_KEY (locally: a line in .dev.vars)");
    if (!env.SESSIONS) throw new ConfigError("the R2 binding SESSIONS is missing: see wrangler.example.toml");
    if (!env.SEARCH) throw new ConfigError("the D1 binding SEARCH (the search index) is missing: see wrangler.example.toml");
    const meter = new CostMeter();
    const search = new D1Database(env.SEARCH, (meta) => meter.d1(meta));
    const bucket = meter.bucket(env.SESSIONS);
    const maxSessionMb = setting("OPTA_MAX_SESSION_MB", positive("a number of MiB", 100), "16");
    const trashDays = setting("OPTA_TRASH_DAYS", positive("a number of days", 36_500), "30");
    const store = new R2Store(bucket);
    const sessions = new SessionService(store, {
      warn: (line) => consoleLogger.warn(line),
      // (the cron's reconcile says so when the index and the bucket agree)
      info: (line) => consoleLogger.info(line),
      loader: { ...inProcessLoader(store, realSleep), concurrency: SESSIONS_IN_MEMORY },
      readConcurrency: SESSIONS_IN_MEMORY,
      trash: new R2Trash(bucket),
      trashMaxAgeMs: trashDays * DAY_MS,
      maxSessionBytes: Math.floor(maxSessionMb * 1024 * 1024),
      searchDatabase: async () => search,
      // The listing, search and manifest from D1, which every isolate shares: nothing per session in an isolate's memory.
      sharedIndex: true,
    });
    const app = createApp({
      sessions,
      adminKey,
      corsOrigins: setting("OPTA_CORS_ORIGINS", originList, ""),
      allowWrites: setting("OPTA_ALLOW_WRITES", SwitchSchema, "1"),
      contentAsText: setting("OPTA_CONTENT_AS_TEXT", SwitchSchema, "0"),
      version: packageJson.version,
      logger: consoleLogger,
      // Cloudflare's edge sets this to the connecting address; a client cannot forge it past the edge.
      clientAddress: (c) => c.req.header("cf-connecting-ip") ?? "unknown",
    });
    built = { env, app, sessions, meter, costHeader: setting("OPTA_COST_HEADER", SwitchSchema, "0") };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    consoleLogger.error(`configuration: ${error.message}`, error);
    built = { env, error };
  }
  return built;
}

/** A deployment that is not configured answers every request with this, naming the setting (never a value). */
function notConfigured(error: ConfigError, request: Request): Response {
  const body = new ApiError("not_configured", `this deployment is not configured: ${error.message}`);
  return bareErrorResponse(body, requestIdFor(request.headers.get("X-Request-Id") ?? undefined));
}

export default {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Response | Promise<Response> {
    const worker = appFor(env);
    if ("error" in worker) return notConfigured(worker.error, request);
    const before = worker.meter.snapshot();
    const answer = Promise.resolve(worker.app.fetch(request, env, ctx as never)).then((response) => {
      if (!worker.costHeader) return response;
      const counted = new Response(response.body, response);
      counted.headers.set("X-Opta-Cost", worker.meter.since(before));
      return counted;
    });
    // A client that goes away must not cut a catalog update short halfway: other requests wait on it.
    ctx.waitUntil(answer.catch(() => undefined));
    return answer;
  },

  /**
   * Cron trigger (see wrangler.example.toml): purges trash past OPTA_TRASH_DAYS, and reconciles the
   * index with the bucket (objects put there by other means are indexed, rows of objects gone removed).
   */
  async scheduled(_controller: unknown, env: WorkerEnv, ctx: ExecutionContextLike): Promise<void> {
    const worker = appFor(env);
    if ("error" in worker) return;
    ctx.waitUntil(Promise.all([worker.sessions.trash.purgeExpired(), worker.sessions.reconcile()]));
  },
};
