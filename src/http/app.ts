import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { except } from "hono/combine";
import { cors } from "hono/cors";
import { type RequestIdVariables, requestId } from "hono/request-id";
import { timeout } from "hono/timeout";
import type { SessionService } from "../sessions/service.js";
import { type Logger, silentLogger } from "../shared/log.js";
import { errorResponse, handleError, RequestTimedOut, RouteNotFound } from "./errors.js";
import { adminKeyAuth } from "./middleware/admin-key.js";
import { conditionalGet, privateNoCache } from "./middleware/http-cache.js";
import { DEFAULT_LIMITS, type Limits, queryLengthCap } from "./middleware/request-limits.js";
import { requestLog } from "./middleware/request-log.js";
import { FailedAuthThrottle, type ThrottleOptions } from "./middleware/wrong-key-throttle.js";
import { openApiDocument } from "./openapi.js";
import { EVENTS_PATH, type EventRoutesOptions, eventRoutes } from "./routes/events.js";
import { publicRoutes } from "./routes/public.js";
import { searchRoutes } from "./routes/search.js";
import { sessionRoutes } from "./routes/sessions.js";
import { syncRoutes } from "./routes/sync.js";
import { trashRoutes } from "./routes/trash.js";
import { forwardTo, type OwnsPath, ownedPathsOf } from "./upstream.js";

export interface AppOptions {
  /** What the routes call, built by the caller, who then owns its warm-up and close (the Node entry and the Worker do). */
  sessions: SessionService;
  /** Required on every /admin route. */
  adminKey: string;
  /** Browser origins allowed to call (exact `scheme://host[:port]`); none by default. */
  corsOrigins?: readonly string[];
  /** Reported by /healthz. */
  version: string;
  logger?: Logger;
  /** Milliseconds since the epoch; injectable so tests control time. */
  now?: () => number;
  /** LMX's base URL: every request we do not own is forwarded there. None: we answer everything (404 for the rest). */
  upstream?: URL;
  /** Query length and request time limits (defaults in limits.ts). */
  limits?: Partial<Limits>;
  /** The client's address, for failed-key throttling (the Node edge reads the socket's). Default: one shared "unknown". */
  clientAddress?: (c: Context) => string;
  /**
   * Accept whole sessions from clients: PUT /admin/sessions/:id, POST /admin/sync/sessions and GET /admin/sync/manifest, for
   * `opta-sessions sync`. Off by default: the sessions directory belongs to the CLI.
   */
  allowWrites?: boolean;
  /**
   * Compatibility switch for the existing dashboard (off by default): GET of a session and of its
   * messages send each message's `content` as text (see sessions/content-as-text.ts) instead of as stored.
   */
  contentAsText?: boolean;
  /** Failed-key throttling thresholds (defaults in throttle.ts). */
  throttle?: Omit<ThrottleOptions, "now">;
  /** The live feed's hook to cut a subscriber that stopped reading (routes/events.ts). */
  cutConnection?: EventRoutesOptions["cutConnection"];
}

export type AppEnv = { Variables: { sessions: SessionService; allowWrites: boolean; contentAsText: boolean } & RequestIdVariables };

/** Builds the whole service as a Web-standard fetch handler: no Node APIs in here or below. */
export function createApp(options: AppOptions) {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const sessions = options.sessions;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const throttle = new FailedAuthThrottle({ now, ...options.throttle });
  const allowedOrigins = new Set(options.corsOrigins ?? []);
  const allowWrites = options.allowWrites === true;

  const upstream = options.upstream;
  // Which paths are ours comes from the routes registered below (set once they all are, before any request).
  let ownsPath: OwnsPath = () => true;
  // With an upstream, requests for LMX's paths pass through untouched: no CORS or key check of ours.
  const forwarded = (c: Context) => upstream !== undefined && !ownsPath(c.req.path);

  // Every route is declared with `.openapi()`: the app's registry of them is its OpenAPI document.
  const app = new OpenAPIHono<AppEnv>();
  app.onError(handleError((line, error, fields) => logger.error(line, error, fields)));
  app.notFound((c) => errorResponse(c, new RouteNotFound()));

  const routes = app
    .use(requestId())
    .use(requestLog(logger, now))
    .use(
      except(
        forwarded,
        cors({
          origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
          // PUT exists only with writes on: a preflight never offers a method the server would refuse.
          allowMethods: allowWrites ? ["GET", "POST", "PUT", "DELETE", "OPTIONS"] : ["GET", "POST", "DELETE", "OPTIONS"],
          // Last-Event-ID: a client other than EventSource (the typed client's watch()) resumes the live feed with it.
          allowHeaders: ["X-Admin-Key", "Authorization", "Content-Type", "If-None-Match", "Last-Event-ID"],
          exposeHeaders: ["ETag", "X-Request-Id"],
          maxAge: 600,
        }),
      ),
    )
    .use(async (c, next) => {
      c.set("sessions", sessions);
      c.set("allowWrites", allowWrites);
      c.set("contentAsText", options.contentAsText === true);
      await next();
    })
    .route(
      "/",
      publicRoutes(options.version, () => openApiDocument(app, options.version)),
    )
    .use(
      "/admin/*",
      except(
        forwarded,
        queryLengthCap(limits.maxQueryLength),
        privateNoCache(),
        adminKeyAuth({
          key: options.adminKey,
          throttle,
          clientAddress: options.clientAddress,
          warn: (line) => logger.warn(line),
          acceptsQueryKey: (c) => c.req.path === EVENTS_PATH,
        }),
        // The work itself cannot be cancelled: it finishes in the background, the client is not kept waiting on it.
        timeout(limits.requestTimeoutMs, () => new RequestTimedOut()),
      ),
    )
    // Before /{id} (so `events` is never taken for a session id) and before the ETag, which would wait for a stream's end.
    .route(EVENTS_PATH, eventRoutes({ cutConnection: options.cutConnection }))
    .use("/admin/sessions/*", conditionalGet())
    .use("/admin/search", conditionalGet())
    .route("/admin/sessions", sessionRoutes)
    .route("/admin/search", searchRoutes)
    .route("/admin/trash", trashRoutes)
    .route("/admin/sync", syncRoutes);

  ownsPath = ownedPathsOf(routes.routes);
  if (upstream) app.all("*", forwardTo(upstream, logger, options.clientAddress ?? (() => "unknown"), ownsPath));
  return routes;
}

/** The app's type, for Hono's typed client: `hc<AppType>(baseUrl)`. */
export type AppType = ReturnType<typeof createApp>;
