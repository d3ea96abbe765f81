import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { ADMIN_KEY, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

/** Debian's package (`apt-get install chromium`), run headless as the issue asks; without it these tests cannot run. */
const CHROMIUM = "/usr/bin/chromium";

let root: string | undefined;
let server: ServerProcess | undefined;
let page: Server | undefined;
let browser: ChildProcess | undefined;
let devtools: WebSocket | undefined;

afterEach(async () => {
  devtools?.close();
  if (browser && browser.exitCode === null) {
    browser.kill("SIGKILL");
    await once(browser, "exit");
  }
  page?.close();
  await killProcess(server);
  if (root) await rm(root, { recursive: true, force: true });
  [root, server, page, browser, devtools] = [undefined, undefined, undefined, undefined, undefined];
});

/** The Chrome DevTools Protocol over the browser's WebSocket: one command at a time is all these tests need. */
function devtoolsClient(socket: WebSocket) {
  let lastId = 0;
  const answers = new Map<number, (message: { result?: unknown; error?: { message: string } }) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (typeof message.id === "number") answers.get(message.id)?.(message);
  });
  return async function send<T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = ++lastId;
    const answer = new Promise<{ result?: unknown; error?: { message: string } }>((resolve) => answers.set(id, resolve));
    socket.send(JSON.stringify({ id, method, params, sessionId }));
    const { result, error } = await answer;
    if (error) throw new Error(`${method}: ${error.message}`);
    return result as T;
  };
}

/** Headless Chromium with a fresh profile; answers a DevTools sender attached to a new tab showing `url`. */
async function openInChromium(url: string) {
  browser = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--remote-debugging-port=0",
      `--user-data-dir=${path.join(root ?? os.tmpdir(), "profile")}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let printed = "";
  browser.stderr?.on("data", (chunk) => (printed += chunk));
  const endpoint = await vi.waitUntil(() => /DevTools listening on (ws:\S+)/.exec(printed)?.[1], { timeout: 20_000, interval: 50 });
  devtools = new WebSocket(endpoint);
  await once(devtools, "open");
  const send = devtoolsClient(devtools);
  const { targetId } = await send<{ targetId: string }>("Target.createTarget", { url });
  const { sessionId } = await send<{ sessionId: string }>("Target.attachToTarget", { targetId, flatten: true });
  /** The value of an expression in the page. */
  return async (expression: string): Promise<unknown> => {
    const { result } = await send<{ result: { value?: unknown } }>("Runtime.evaluate", { expression, returnByValue: true }, sessionId);
    return result.value;
  };
}

describe.skipIf(!existsSync(CHROMIUM))("the live feed in a real browser (headless Chromium; skipped without Debian's chromium package)", () => {
  it("reaches an EventSource on another origin, the key in ?admin_key=, each change once; after a restart, reset", async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "opta-e2e-browser-"));
    const dir = path.join(root, "sessions");
    await mkdir(dir);
    // The dashboard's page, served from an origin of its own (another port).
    let feedUrl = "";
    page = createServer((_request, response) => {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(`<!doctype html><script>
        window.received = [];
        const feed = new EventSource(${JSON.stringify(feedUrl)});
        feed.onopen = () => { window.opened = true; };
        feed.onmessage = (message) => window.received.push({ id: message.lastEventId, change: JSON.parse(message.data) });
      </script>`);
    });
    page.listen(0, "127.0.0.1");
    await once(page, "listening");
    const pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0", "--cors-origin", pageOrigin], { OPTA_ADMIN_KEY: ADMIN_KEY });
    const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    feedUrl = `${url}/admin/sessions/events?admin_key=${encodeURIComponent(ADMIN_KEY)}`;

    const evaluate = await openInChromium(`${pageOrigin}/`);
    await vi.waitUntil(async () => (await evaluate("window.opened")) === true, { timeout: 10_000, interval: 50 });
    await writeFile(path.join(dir, "browserfeed1.json"), cliFile(cliSession("browserfeed1", { title: "seen by a browser" })));
    await writeFile(path.join(dir, "browserfeed2.json"), cliFile(cliSession("browserfeed2")));
    await vi.waitUntil(async () => ((await evaluate("window.received.length")) as number) >= 2, { timeout: 5_000, interval: 50 });
    const received = (await evaluate("window.received")) as { id: string; change: { type: string; session: { id: string; title: string } } }[];
    expect(received.map(({ change }) => [change.type, change.session.id]).sort()).toEqual([
      ["session.created", "browserfeed1"],
      ["session.created", "browserfeed2"],
    ]);
    expect(received.find(({ change }) => change.session.id === "browserfeed1")?.change.session.title).toBe("seen by a browser");
    expect(received.every(({ id }) => /^[0-9]+$/.test(id))).toBe(true);
    expect(server.output()).not.toContain(ADMIN_KEY);

    // The server goes away and comes back on the same port: the browser reconnects by itself (retry: 5000) and
    // sends its Last-Event-ID, which the new run's history cannot resume from: `reset`, then the feed goes on.
    await killProcess(server);
    server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", new URL(url ?? "").port, "--cors-origin", pageOrigin], { OPTA_ADMIN_KEY: ADMIN_KEY });
    await waitForOutput(server, /listening on/);
    await vi.waitUntil(async () => ((await evaluate("window.received.length")) as number) >= 3, { timeout: 15_000, interval: 100 });
    expect(((await evaluate("window.received")) as { change: unknown }[]).at(-1)?.change).toEqual({ type: "reset" });
    await writeFile(path.join(dir, "browserfeed3.json"), cliFile(cliSession("browserfeed3")));
    await vi.waitUntil(async () => ((await evaluate("window.received.length")) as number) >= 4, { timeout: 5_000, interval: 50 });
    expect(((await evaluate("window.received")) as { change: { session: { id: string } } }[]).at(-1)?.change.session.id).toBe("browserfeed3");
  }, 40_000);
});
