import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { Socket } from "node:net";

/** Node edge: how many connections the server keeps open, and for how long a silent one may stay. */

interface ConnectionLimits {
  /** Open connections at most; past it the oldest idle one is closed to make room. */
  maxConnections: number;
  /** A connection that has not sent a request this long after connecting is closed. */
  firstRequestMs: number;
}

/** Room kept for what is not a client's connection: session files, loader workers (their event loops), watchers, the cache, logs, sockets to LMX. */
const FILES_KEPT_FREE = 64;

/**
 * Connections allowed with `openFiles` file descriptors: all but FILES_KEPT_FREE, at most 10,000.
 * 256 (macOS's default `ulimit -n`) gives 192; Linux's usual 1,024 gives 960. A cap any lower makes
 * busy clients' keep-alive connections the ones closed for room (a client reusing one just then sees a reset).
 */
export function connectionCap(openFiles: number): number {
  return Math.max(8, Math.min(10_000, openFiles - FILES_KEPT_FREE));
}

/** The process's soft limit on open files: /proc on Linux, the shell's `ulimit -n` elsewhere (macOS); 256 if neither says. */
export function openFileLimit(): number {
  const fromProc = /^Max open files\s+(\d+)/m.exec(safely(() => readFileSync("/proc/self/limits", "utf8")) ?? "")?.[1];
  const fromShell = fromProc ?? safely(() => execFileSync("/bin/sh", ["-c", "ulimit -n"], { encoding: "utf8", timeout: 2000 }).trim());
  const limit = Number(fromShell);
  return Number.isSafeInteger(limit) && limit > 0 ? limit : 256; // "unlimited" or nothing: assume the smallest usual
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Keeps a flood of idle sockets from starving the server of file descriptors: at most
 * `maxConnections` are open; a new one past that closes the connection idle the longest (no
 * request in flight), so a real client always gets in. Connections that never sent a request go
 * first (a flood's), keep-alive ones between requests only after them (a client may be reusing one
 * just now). A connection that sends no request within `firstRequestMs` is closed.
 * Answers a function to call on a connection upgraded to a WebSocket: busy until it closes.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): (upgraded: Socket) => void {
  const open = new Set<Socket>();
  // Insertion order is idle-since order: the first of each is the one idle the longest.
  const neverAsked = new Set<Socket>();
  const betweenRequests = new Set<Socket>();
  const inFlight = new WeakMap<Socket, number>();
  const busy = (socket: Socket) => {
    neverAsked.delete(socket);
    betweenRequests.delete(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
  };
  const forget = (socket: Socket) => {
    open.delete(socket);
    neverAsked.delete(socket);
    betweenRequests.delete(socket);
  };
  const close = (socket: Socket) => {
    forget(socket);
    socket.destroy();
  };

  server.on("connection", (socket: Socket) => {
    // Room is made before the newcomer counts, so the one closed is never the newcomer itself.
    const longestIdle = neverAsked.values().next().value ?? betweenRequests.values().next().value;
    if (open.size >= limits.maxConnections && longestIdle) close(longestIdle);
    open.add(socket);
    neverAsked.add(socket);
    const silent = setTimeout(() => inFlight.has(socket) || close(socket), limits.firstRequestMs).unref();
    socket.once("close", () => {
      clearTimeout(silent);
      forget(socket);
    });
  });
  server.on("request", (request, response) => {
    const socket = request.socket;
    busy(socket);
    response.once("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (left === 0 && open.has(socket)) betweenRequests.add(socket);
    });
  });
  return busy;
}
