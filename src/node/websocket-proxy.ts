import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { bareErrorResponse, RouteNotFound, UpstreamUnavailable } from "../http/errors.js";
import { requestIdFor } from "../http/middleware/request-log.js";
import { FORWARDING_HEADERS, forwardingHeaders, type OwnsPath, upstreamUrl } from "../http/upstream.js";
import type { Logger } from "../shared/log.js";

/** Node edge: HTTP upgrades never reach the fetch handler, so WebSockets to LMX are bridged here with `ws`. */

// Set by the WebSocket handshake itself on each side, or by us (who the client is); the rest go to LMX as they came.
const OWN_HEADERS = new Set<string>([
  ...FORWARDING_HEADERS,
  "host",
  "connection",
  "upgrade",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

export interface WebSocketForwarder {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every bridged connection (at shutdown). */
  closeAll(): void;
}

/**
 * Opens the same path and query on the upstream first, then completes the client's handshake with
 * the subprotocol LMX chose, and relays messages (text stays text, binary stays binary) and closes
 * both ways. An upstream that refuses the upgrade has its status passed back; one that is down gives 502.
 */
export function webSocketForwarder(upstream: URL, logger: Logger, ownsPath: OwnsPath): WebSocketForwarder {
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const open = new Set<WebSocket>();
  const requestIds = new WeakMap<IncomingMessage, string>();
  // The 101 answer carries the request id too, like every HTTP answer.
  server.on("headers", (lines, request) => lines.push(`X-Request-Id: ${requestIds.get(request) ?? ""}`));

  return {
    handleUpgrade(request, socket, head) {
      const incoming = new URL(request.url ?? "/", "http://placeholder");
      const offered = request.headers["x-request-id"];
      const requestId = requestIdFor(Array.isArray(offered) ? undefined : offered);
      const log = (line: string) => logger.info(`WebSocket ${incoming.pathname} ${line}`, { requestId });
      if (ownsPath(incoming.pathname)) {
        log("404: not forwarded (ours)");
        return refuse(socket, bareErrorResponse(new RouteNotFound(), requestId));
      }

      const target = upstreamUrl(upstream, incoming);
      target.protocol = target.protocol === "https:" ? "wss:" : "ws:";
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (!OWN_HEADERS.has(name) && value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      Object.assign(headers, forwardingHeaders(request.socket.remoteAddress ?? "unknown", request.headers.host ?? "", "http"));
      headers["x-request-id"] = requestId;
      const protocols = (request.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);

      const toUpstream = new WebSocket(target, protocols, { headers, perMessageDeflate: false });
      let settled = false; // the client's handshake is answered once: completed, or refused
      toUpstream.on("unexpected-response", (_req, res) => {
        settled = true;
        log(`${res.statusCode}: refused by the upstream`);
        refuse(socket, new Response(null, { status: res.statusCode ?? 502, headers: { "X-Request-Id": requestId } }));
        res.resume();
        toUpstream.terminate();
      });
      toUpstream.on("error", (error) => {
        if (settled) return;
        settled = true;
        logger.warn(`upstream ${upstream.origin} did not answer WebSocket ${incoming.pathname}: ${error.message}`, { requestId });
        refuse(socket, bareErrorResponse(new UpstreamUnavailable(), requestId));
      });
      toUpstream.once("open", () => {
        settled = true;
        requestIds.set(request, requestId);
        server.handleUpgrade(request, socket, head, (toClient) => {
          log("101: connected to the upstream");
          toClient.once("close", (code) => log(`closed (${code})`));
          open.add(toClient).add(toUpstream);
          relay(toClient, toUpstream);
          relay(toUpstream, toClient);
        });
      });
      socket.once("close", () => {
        if (toUpstream.readyState === WebSocket.CONNECTING) toUpstream.terminate();
      });
    },
    closeAll() {
      for (const socket of open) socket.terminate();
    },
  };

  function relay(from: WebSocket, to: WebSocket): void {
    from.on("message", (data: RawData, isBinary) => {
      if (to.readyState === WebSocket.OPEN) to.send(data, { binary: isBinary });
    });
    from.on("close", (code, reason) => {
      open.delete(from);
      // 1005 (no status) and 1006 (abnormal) may not be sent in a close frame.
      if (to.readyState === WebSocket.OPEN) to.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      else if (to.readyState === WebSocket.CONNECTING) to.terminate();
    });
    from.on("error", () => to.terminate());
  }
}

/** Answers an upgrade we will not complete with a plain HTTP response, then closes the socket. */
function refuse(socket: Duplex, response: Response): void {
  if (socket.destroyed) return;
  void response.text().then((body) => {
    const lines = [`HTTP/1.1 ${response.status} ${response.statusText || "Error"}`, "Connection: close"];
    for (const [name, value] of response.headers) lines.push(`${name}: ${value}`);
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}
