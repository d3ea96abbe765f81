import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { access, constants, mkdir, readdir, realpath, stat, writeFile } from "node:fs/promises";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { HttpBindings } from "@hono/node-server";
import { ApiError, bareErrorResponse, internalError } from "../http/errors.js";
import { requestIdFor } from "../http/middleware/request-log.js";
import { ownedPathsOf } from "../http/upstream.js";
import { SessionService } from "../sessions/service.js";
import type { Logger } from "../shared/log.js";
import { FsOwnFile } from "../storage/fs/fs-own-file.js";
import { nameKey } from "../storage/fs/fs-paths.js";
import { FsStore } from "../storage/fs/fs-store.js";
import { FsTrash } from "../storage/fs/fs-trash.js";
import { compressJson } from "./compression.js";
import type { Config } from "./config.js";
import { connectionCap, limitConnections, openFileLimit } from "./connections.js";
import { openSqlite } from "./sqlite.js";
import { WorkerLoader } from "./threads/loader-pool.js";
import type { WebSocketForwarder } from "./websocket-proxy.js";

/** The Node edge: the filesystem store, the HTTP server, compression and WebSocket forwarding. */

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Where the generated key is shown once: the terminal, never a log line. */
const toTerminal = (text: string) => process.stderr.write(`${text}\n`);

/** Starts the server; resolves once it is listening. Throws a StartupError that says what to fix. */
export async function startServer(config: Config, logger: Logger, announce = toTerminal): Promise<RunningServer> {
  await checkSessionsDir(config.dir, logger);
  const adminKey = config.adminKey ?? generatedKey(announce);
  const upstream = config.upstream ?? undefined;
  const store = new FsStore(config.dir, { warn: (line) => logger.warn(line) });
  // Named after the sessions directory (links followed: one directory, however it is spelled), for the trash and the
  // cache file alike: one trash each, never listed, restored into or purged by another.
  const realDirectory = await realpath(store.directory).catch(() => store.directory);
  const directoryKey = nameKey(realDirectory);
  const trashRoot = path.join(config.dataDir, "trash");
  const trashDir = path.join(trashRoot, directoryKey);
  // Made now, so a data directory we cannot write stops the start instead of failing the first delete.
  await mkdir(trashDir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    throw new StartupError(`cannot create the trash in the data directory ${config.dataDir}: ${error.code ?? error.message} (set --data-dir)`);
  });
  await warnOfSharedTrash(trashRoot, logger);
  const searchDatabasePath = path.join(config.cacheDir, `search-${directoryKey}.sqlite`);
  const sessions = new SessionService(store, {
    warn: (line) => logger.warn(line),
    info: (line) => logger.info(line),
    trash: new FsTrash(store.directory, trashDir),
    trashMaxAgeMs: config.trashDays * 86_400_000,
    maxSessionBytes: Math.floor(config.maxSessionMb * 1024 * 1024),
    loader: new WorkerLoader(store),
    // One cache file per sessions directory, so --dir elsewhere never reuses another's summaries.
    savedCatalog: new FsOwnFile(config.cacheDir, `catalog-${directoryKey}.json`),
    // GET /admin/sessions/events: the listing's changes, live (defaults in sessions/change-feed.ts).
    changeFeed: {},
    // The search index, one per sessions directory too; it persists, so a restart reads only files that changed.
    // Written by the loader's worker threads, each on its own connection; the server's thread only reads it.
    searchDatabase: async () => {
      await mkdir(config.cacheDir, { recursive: true, mode: 0o700 });
      // Made here first, so it is the user's alone like the other files there (SQLite would make it 0644; its -wal and -shm follow it).
      await writeFile(searchDatabasePath, "", { flag: "a", mode: 0o600 });
      return openSqlite(searchDatabasePath);
    },
    searchDatabasePath,
  });
  // The port is taken before anything starts (scan, purge, loader workers): a failed start has nothing to stop and exits at once.
  let ready: (listener: RequestListener) => void = () => {};
  const app = new Promise<RequestListener>((resolve) => (ready = resolve));
  // Checked every second, not every 30 s (Node's default), so the headers timeout below is kept to the second.
  const server = createServer({ connectionsCheckingInterval: 1000 }, (request, response) => void app.then((listener) => listener(request, response)));
  const connectionLimits = { maxConnections: connectionCap(openFileLimit()), firstRequestMs: FIRST_REQUEST_MS };
  const upgraded = limitConnections(server, connectionLimits);
  // Between requests a connection is kept this long (Node's default, made explicit: the limits above count on it).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error) => reject(listenError(error, config)));
  });
  let closing = false; // a scan cut short by a stop is no failure worth a line
  let stopPurging = () => {};
  let webSockets: WebSocketForwarder | null = null;
  try {
    // Before the first scan: a delete a stop interrupted across filesystems is finished (nothing left set aside).
    await sessions.trash.recoverInterrupted().catch((error: unknown) => logger.error("could not finish the deletes interrupted by the last stop", error));
    // Scan first, then load the HTTP stack: the loader's workers read files while this thread loads Hono.
    sessions.warmUp().catch((error: unknown) => closing || logger.error("the first scan of the sessions directory failed", error));
    stopPurging = sessions.trash.startPurging();
    const [{ createApp }, { getRequestListener, RequestError }, { getConnInfo }] = await Promise.all([
      import("../http/app.js"),
      import("@hono/node-server"),
      import("@hono/node-server/conninfo"),
    ]);
    const requestTimeoutMs = config.requestTimeoutSeconds * 1000;
    const handler = createApp({
      sessions,
      adminKey,
      corsOrigins: config.corsOrigins,
      version: packageVersion(),
      logger,
      upstream,
      allowWrites: config.allowWrites,
      contentAsText: config.contentAsText,
      limits: { requestTimeoutMs },
      // The socket's own address: a header like X-Forwarded-For is the client's to invent, so never trusted here.
      clientAddress: (c) => getConnInfo(c).remote.address ?? "unknown",
      // A feed subscriber that stopped reading: its socket goes, with whatever Node still buffered for it.
      cutConnection: (c) => (c.env as HttpBindings).outgoing.destroy(),
    });
    // Our JSON is compressed here; LMX's answers pass through as LMX sent them.
    const ownsPath = ownedPathsOf(handler.routes);
    const compressed = compressJson(handler.fetch, { applies: (request) => !upstream || ownsPath(new URL(request.url).pathname) });

    ready(
      getRequestListener(compressed, {
        // Requests Node cannot turn into a Request (a raw backslash in the path, a bad Host) still get the envelope.
        errorHandler: (error) => {
          const requestId = requestIdFor(undefined); // the request could not be read, nor its id
          if (error instanceof RequestError) {
            logger.info(`malformed request refused: ${error.message}`, { requestId });
            return bareErrorResponse(new ApiError("malformed_request", "malformed request: bad path or Host header"), requestId);
          }
          logger.error("request failed outside the app", error, { requestId });
          return bareErrorResponse(internalError(), requestId);
        },
      }),
    );
    // A client that dribbles its headers in (slowloris) is cut off; bodies (forwarded uploads) keep Node's own limit.
    server.headersTimeout = Math.min(requestTimeoutMs, 60_000);
    // ws is loaded only when there is an upstream to forward WebSockets to.
    const forwarder = upstream ? (await import("./websocket-proxy.js")).webSocketForwarder(upstream, logger, ownsPath) : null;
    webSockets = forwarder;
    if (forwarder)
      server.on("upgrade", (request, socket, head) => {
        upgraded(request.socket);
        forwarder.handleUpgrade(request, socket, head);
      });
  } catch (error) {
    // Listening, but the rest did not start (say the app or ws failed to load): stop everything, so the process can exit.
    closing = true;
    stopPurging();
    server.close();
    server.closeAllConnections();
    await sessions.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info(`at most ${connectionLimits.maxConnections} connections at once (from the open-file limit): the longest idle is closed for a new one`);
  logger.info(`listening on ${url}`);
  if (config.allowWrites) logger.info("writes enabled: sessions sent by 'opta-sessions sync' are written into the sessions directory");
  if (upstream) logger.info(`forwarding every other request to ${upstream.origin}${upstream.pathname.replace(/\/$/, "")}`);
  if (config.corsOrigins.length === 0) {
    logger.info("no browser origins allowed: add --cors-origin <dashboard origin> for the dashboard");
  }
  return {
    url,
    close: async () => {
      closing = true;
      await new Promise<void>((resolve) => {
        webSockets?.closeAll();
        sessions.feed?.close(); // its streams end, so their connections do not hold the close up
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      stopPurging();
      await sessions.close();
    },
  };
}

/** A connection that sends no request this long after connecting is closed (an idle-socket flood holds nothing for long). */
const FIRST_REQUEST_MS = 10_000;
const KEEP_ALIVE_MS = 5_000;

export class StartupError extends Error {}

/**
 * Items left directly in <data-dir>/trash by versions that shared one trash among all sessions
 * directories: which directory each came from was never recorded, so none is listed, restored or
 * purged (it could land in the wrong directory); they stay as they are, and this says so once.
 */
async function warnOfSharedTrash(trashRoot: string, logger: Logger): Promise<void> {
  const items = (await readdir(trashRoot).catch(() => [])).filter((name) => SHARED_TRASH_ITEM.test(name));
  if (items.length === 0) return;
  logger.warn(
    `${items.length} deleted session(s) in ${trashRoot} are from before each sessions directory had its own trash: kept, but not listed, restored or purged, since where they came from is not recorded; to restore one, copy <id>.<time>.json into its sessions directory as <id>.json`,
  );
}

const SHARED_TRASH_ITEM = /^[A-Za-z0-9_-]{1,128}\.[0-9]{1,15}\.json$/;

async function checkSessionsDir(dir: string, logger: Logger): Promise<void> {
  const stats = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw new StartupError(`cannot read the sessions directory ${dir}: ${error.code ?? error.message}`);
  });
  if (stats === null) {
    logger.info(`sessions directory ${dir} does not exist yet: nothing to list until it appears`);
    return;
  }
  if (!stats.isDirectory()) throw new StartupError(`the sessions directory ${dir} is not a directory`);
  await access(dir, constants.R_OK | constants.X_OK).catch(() => {
    throw new StartupError(`cannot read the sessions directory ${dir}: permission denied`);
  });
  logger.info(`serving sessions from ${dir}`);
}

function generatedKey(announce: (text: string) => void): string {
  const key = randomBytes(24).toString("base64url");
  announce(
    [
      "No OPTA_ADMIN_KEY is set, so this run uses a generated admin key (shown only now):",
      `  ${key}`,
      'Set a permanent one before starting, e.g.: export OPTA_ADMIN_KEY="$(openssl rand -base64 24)"',
    ].join("\n"),
  );
  return key;
}

function listenError(error: NodeJS.ErrnoException, config: Config): Error {
  const where = `${config.host}:${config.port}`;
  if (error.code === "EADDRINUSE")
    return new StartupError(`port ${config.port} on ${config.host} is already in use: stop the other server or pick another with --port`);
  if (error.code === "EACCES") return new StartupError(`not allowed to listen on ${where}: pick a port above 1023 with --port`);
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
    return new StartupError(`cannot listen on ${where}: no such address on this machine (check --host)`);
  return new StartupError(`cannot listen on ${where}: ${error.message}`);
}

export function packageVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  const version: unknown = JSON.parse(text).version;
  return typeof version === "string" ? version : "0.0.0";
}
