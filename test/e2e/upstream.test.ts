import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { expectError } from "../fixtures/errors.js";
import { ADMIN_KEY } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

/** A stand-in for LMX on loopback: echoes HTTP requests, streams SSE on demand, echoes WebSocket messages. */
interface FakeLmx {
  url: string;
  requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[];
  /** Lets the open SSE stream send its last event and end. */
  release: () => void;
  close: () => Promise<void>;
}

async function startFakeLmx(): Promise<FakeLmx> {
  let release = () => {};
  const requests: FakeLmx["requests"] = [];
  const server: Server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
    if (req.url === "/v1/events") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.write("data: first\n\n");
      release = () => res.end("data: last\n\n");
      return;
    }
    const status = Number(new URL(req.url ?? "/", "http://x").searchParams.get("status") ?? 200);
    res.writeHead(status, { "Content-Type": "application/json", "X-Lmx": "yes", Connection: "keep-alive, X-Lmx-Hop", "X-Lmx-Hop": "1" });
    res.end(JSON.stringify({ lmx: true, method: req.method, url: req.url, body }));
  });
  const sockets = new WebSocketServer({ server, handleProtocols: (protocols) => (protocols.has("lmx.v1") ? "lmx.v1" : false) });
  sockets.on("connection", (socket, req) => {
    requests.push({ method: "WS", url: req.url ?? "", headers: req.headers, body: "" });
    socket.on("message", (data, isBinary) => socket.send(isBinary ? data : `echo: ${data.toString()}`, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    release: () => release(),
    close: () =>
      new Promise((resolve) => {
        for (const client of sockets.clients) client.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let dir: string;
let lmx: FakeLmx;
let server: ServerProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "opta-upstream-"));
  lmx = await startFakeLmx();
});
afterEach(async () => {
  await killProcess(server);
  server = undefined;
  await lmx.close();
  await rm(dir, { recursive: true, force: true });
});

async function start(upstream = lmx.url): Promise<string> {
  server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0", "--upstream", upstream], { OPTA_ADMIN_KEY: ADMIN_KEY });
  const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return url as string;
}

/** What a client may claim about itself; a proxy replaces all of it with what the connection says. */
const FORGED_FORWARDING = {
  "X-Forwarded-For": "6.6.6.6",
  "X-Real-IP": "6.6.6.6",
  Forwarded: "for=6.6.6.6;proto=https",
  "X-Forwarded-Proto": "https",
  "X-Forwarded-Host": "evil.test",
};

function forwardingSeen(headers: IncomingMessage["headers"] | undefined): Record<string, unknown> {
  const names = ["forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host", "x-forwarded-proto"];
  return Object.fromEntries(names.map((name) => [name, headers?.[name]]));
}

/** What LMX must see for a client on 127.0.0.1 that called our `url`. */
function forwardingFrom(url: string): Record<string, string> {
  const { host } = new URL(url);
  return {
    forwarded: `for=127.0.0.1;host="${host}";proto=http`,
    "x-forwarded-for": "127.0.0.1",
    "x-real-ip": "127.0.0.1",
    "x-forwarded-host": host,
    "x-forwarded-proto": "http",
  };
}

describe("in front of LMX (--upstream)", () => {
  it("forwards what it does not own unchanged (method, path, query, headers, body, status) but for who the client is, set from the socket", async () => {
    const url = await start();
    const res = await fetch(`${url}/v1/chat/completions?status=418&stream=false`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer lmx-key", "X-Custom": "kept", ...FORGED_FORWARDING },
      body: JSON.stringify({ model: "m", messages: [] }),
    });
    expect(res.status).toBe(418);
    expect(res.headers.get("X-Lmx")).toBe("yes");
    expect(res.headers.get("X-Lmx-Hop")).toBeNull(); // named in LMX's Connection header: hop-by-hop, not passed on
    expect(res.headers.get("X-Request-Id")).toMatch(/\S/);
    expect(await res.json()).toEqual({ lmx: true, method: "POST", url: "/v1/chat/completions?status=418&stream=false", body: '{"model":"m","messages":[]}' });

    const seen = lmx.requests.at(-1);
    expect(seen?.headers).toMatchObject({ authorization: "Bearer lmx-key", "x-custom": "kept", "content-type": "application/json" });
    expect(seen?.headers.host).toBe(new URL(lmx.url).host);
    expect(seen?.headers["x-request-id"]).toBe(res.headers.get("X-Request-Id"));
    expect(forwardingSeen(seen?.headers)).toEqual(forwardingFrom(url));
  });

  it("answers its own routes here and leaves LMX's admin routes to LMX's authentication", async () => {
    const url = await start();
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok", version: expect.any(String) });
    expect((await fetch(`${url}/admin/sessions`)).status).toBe(401);
    expect((await fetch(`${url}/admin/sessions/abc/nosuchroute`, { headers: { "X-Admin-Key": ADMIN_KEY } })).status).toBe(404);
    expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
    const models = await fetch(`${url}/admin/models`);
    expect(models.status).toBe(200);
    expect(await models.json()).toMatchObject({ lmx: true, url: "/admin/models" });
    expect(lmx.requests.map((r) => r.url)).toEqual(["/admin/models"]);
  });

  it("streams server-sent events as they come", async () => {
    const url = await start();
    const res = await fetch(`${url}/v1/events`);
    expect(res.headers.get("Content-Type")).toBe("text/event-stream");
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe("data: first\n\n"); // before LMX has finished the answer
    lmx.release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
    expect(rest).toBe("data: last\n\n");
  });

  it("forwards WebSocket upgrades: subprotocol, text and binary messages, close, who the client is set from the socket", async () => {
    const url = await start();
    const socket = new WebSocket(`${url.replace("http", "ws")}/v1/chat/stream?session=1`, ["lmx.v1"], {
      headers: { Authorization: "Bearer lmx-key", ...FORGED_FORWARDING },
    });
    const upgraded = new Promise<IncomingMessage>((resolve) => socket.once("upgrade", resolve));
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const requestId = (await upgraded).headers["x-request-id"];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(socket.protocol).toBe("lmx.v1");
    const received: (string | Buffer)[] = [];
    socket.on("message", (data, isBinary) => received.push(isBinary ? Buffer.from(data as Buffer) : data.toString()));
    socket.send("hello");
    socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 10 });
    expect(received).toEqual(["echo: hello", Buffer.from([1, 2, 3])]);
    const upgrade = lmx.requests.find((r) => r.method === "WS");
    expect(upgrade).toMatchObject({ url: "/v1/chat/stream?session=1", headers: { authorization: "Bearer lmx-key", "x-request-id": requestId } });
    expect(forwardingSeen(upgrade?.headers)).toEqual(forwardingFrom(url));
    expect(server?.output()).toContain(`[${requestId}] WebSocket /v1/chat/stream 101`);
    socket.close(1000, "done");
    await new Promise((resolve) => socket.once("close", resolve));
  });

  it("answers 502 with the envelope when LMX is down, for HTTP and WebSocket alike", async () => {
    const url = await start();
    await lmx.close();
    const res = await fetch(`${url}/v1/models`);
    await expectError(res, 502, { type: "server_error", code: "upstream_unavailable" });
    const socket = new WebSocket(`${url.replace("http", "ws")}/v1/chat/stream`);
    const status = await new Promise((resolve) => socket.once("unexpected-response", (_req, response) => resolve(response.statusCode)));
    expect(status).toBe(502);
    expect(server?.output()).toMatch(/upstream .* did not answer GET \/v1\/models/);
  });
});
