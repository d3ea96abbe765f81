import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { connectionCap, limitConnections, openFileLimit } from "../../src/node/connections.js";

let server: Server | undefined;
let accepted = 0;
const clients: Socket[] = [];

afterEach(async () => {
  for (const socket of clients.splice(0)) socket.destroy();
  const closing = server;
  server = undefined;
  if (closing) await new Promise((resolve) => closing.close(resolve).closeAllConnections());
});

/** A real server on loopback: /hang never answers, anything else answers "ok". */
async function serve(maxConnections: number, firstRequestMs: number): Promise<number> {
  accepted = 0;
  server = createServer((request, response) => {
    if (request.url !== "/hang") response.end("ok");
  });
  limitConnections(server, { maxConnections, firstRequestMs });
  server.on("connection", () => accepted++);
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

interface Client {
  closed: () => boolean;
  received: () => string;
}

/** How long a socket event may take to arrive, and how often to look. */
const SOON = { timeout: 3000, interval: 10 };

/** Connects (and sends a request, if given) once the server has taken the connection. */
async function open(port: number, request?: string): Promise<Client> {
  const before = accepted;
  const socket = connect(port, "127.0.0.1");
  clients.push(socket);
  let closed = false;
  let received = "";
  socket.on("close", () => (closed = true));
  socket.on("error", () => {});
  socket.on("data", (chunk) => (received += chunk));
  await vi.waitUntil(() => accepted > before, SOON);
  if (request) socket.write(`GET ${request} HTTP/1.1\r\nHost: x\r\n\r\n`);
  return { closed: () => closed, received: () => received };
}

describe("connection limits", () => {
  it("closes the connection idle the longest when a new one comes past the cap, and answers the new one", async () => {
    const port = await serve(3, 60_000);
    const [first, second, third] = [await open(port), await open(port), await open(port)];
    const client = await open(port, "/healthz");
    await vi.waitUntil(() => client.received().endsWith("ok"), SOON);
    expect(first?.closed()).toBe(true);
    expect([second?.closed(), third?.closed()]).toEqual([false, false]);
  });

  it("closes one that never sent a request before a keep-alive one between requests, though the keep-alive one is older", async () => {
    const port = await serve(2, 60_000);
    const kept = await open(port, "/healthz");
    await vi.waitUntil(() => kept.received().endsWith("ok"), SOON);
    const flood = await open(port);
    const client = await open(port, "/healthz");
    await vi.waitUntil(() => client.received().endsWith("ok"), SOON);
    expect([flood.closed(), kept.closed()]).toEqual([true, false]);
  });

  it("lets a newcomer in when every open connection is a keep-alive one between requests: the oldest of those goes", async () => {
    const port = await serve(2, 60_000);
    const kept = [await open(port, "/healthz"), await open(port, "/healthz")];
    for (const client of kept) await vi.waitUntil(() => client.received().endsWith("ok"), SOON);
    const newcomer = await open(port, "/healthz");
    await vi.waitUntil(() => newcomer.received().endsWith("ok"), SOON);
    expect(kept.map((client) => client.closed())).toEqual([true, false]);
    expect(newcomer.closed()).toBe(false);
  });

  it("never closes a connection with a request in flight to make room: the idle one goes", async () => {
    const port = await serve(2, 60_000);
    const busy = await open(port, "/hang");
    const idle = await open(port);
    const late = await open(port, "/healthz");
    await vi.waitUntil(() => idle.closed(), SOON);
    await vi.waitUntil(() => late.received().endsWith("ok"), SOON);
    expect(busy.closed()).toBe(false);
  });

  it("closes a connection that sends no request in time, and not one that did", async () => {
    const port = await serve(10, 200);
    // The one that asks connects first: once the later silent one is closed, the asking one's time is up too.
    const asked = await open(port, "/hang");
    const silent = await open(port);
    await vi.waitUntil(() => silent.closed(), SOON);
    expect(asked.closed()).toBe(false);
  });

  it("takes the cap from the open-file limit, leaving room for files and upstream sockets", () => {
    expect(connectionCap(256)).toBe(192);
    expect(connectionCap(1024)).toBe(960);
    expect(connectionCap(70)).toBe(8);
    expect(connectionCap(10_000_000)).toBe(10_000);
    expect(openFileLimit()).toBeGreaterThan(0);
  });
});
