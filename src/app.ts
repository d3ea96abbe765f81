import { Hono } from "hono";
import { cors } from "hono/cors";
import { adminKeyAuth } from "./auth.js";
import { errorResponse, handleError, RouteNotFound } from "./errors.js";
import { requestLog, silentLogger, type Logger } from "./log.js";
import { sessionRoutes } from "./routes/sessions.js";
import { SessionService, type SessionServiceOptions } from "./sessions/service.js";
import type { SessionStore } from "./storage/store.js";

interface CommonOptions {
  /** Required on every /admin route. */
  adminKey: string;
  /** Browser origins allowed to call (exact `scheme://host[:port]`); none by default. */
  corsOrigins?: readonly string[];
  /** Reported by /healthz. */
  version: string;
  logger?: Logger;
  /** Milliseconds since the epoch; injectable so tests control time. */
  now?: () => number;
}

export type AppOptions = CommonOptions &
  (
    | ({
        /** Where the sessions are: the filesystem on the Mac Studio, memory in tests. */
        store: SessionStore;
      } & Pick<SessionServiceOptions, "sleep" | "catalog" | "watch" | "loader" | "cache">)
    | {
        /** A service built by the caller, who then owns its warm-up and close (the Node entry does). */
        sessions: SessionService;
      }
  );

export type AppEnv = { Variables: { sessions: SessionService } };

/** Builds the whole service as a Web-standard fetch handler: no Node APIs in here or below. */
export function createApp(options: AppOptions) {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const sessions =
    "sessions" in options
      ? options.sessions
      : new SessionService(options.store, {
          now,
          sleep: options.sleep,
          warn: (line) => logger.warn(line),
          loader: options.loader,
          cache: options.cache,
          watch: options.watch,
          catalog: options.catalog,
        });
  const allowedOrigins = new Set(options.corsOrigins ?? []);

  const app = new Hono<AppEnv>();
  app.onError(handleError((line, error) => logger.error(line, error)));
  app.notFound((c) => errorResponse(c, new RouteNotFound()));

  return app
    .use(requestLog(logger, now))
    .use(
      cors({
        origin: (origin) => (allowedOrigins.has(origin) ? origin : null),
        allowMethods: ["GET", "DELETE", "OPTIONS"],
        allowHeaders: ["X-Admin-Key", "Authorization", "Content-Type"],
        maxAge: 600,
      }),
    )
    .use(async (c, next) => {
      c.set("sessions", sessions);
      await next();
    })
    .get("/healthz", (c) => c.json({ status: "ok" as const, version: options.version }, 200))
    .use("/admin/*", adminKeyAuth({ key: options.adminKey }))
    .route("/admin/sessions", sessionRoutes);
}

/** The app's type, for Hono's typed client: `hc<AppType>(baseUrl)`. */
export type AppType = ReturnType<typeof createApp>;
