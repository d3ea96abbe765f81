import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN_KEY, cliFile, cliSession } from "../fixtures/sessions.js";
import { killProcess, type ServerProcess, startProcess, waitForOutput } from "./helpers.js";

/** Debian's package (`apt-get install chromium`), run headless as the issue asks; without it these tests cannot run. */
const CHROMIUM = "/usr/bin/chromium";

/** A message the page's EventSource received: its id and its parsed data. */
interface Received {
  id: string;
  change: { type: string; session?: { id: string; title: string } };
}

let root: string | undefined;
let server: ServerProcess | undefined;
let page: Server | undefined;
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  page?.close();
  await killProcess(server);
  if (root) await rm(root, { recursive: true, force: true });
  [root, server, page, browser] = [undefined, undefined, undefined, undefined];
});

/**
 * Headless Chromium (a fresh profile of Playwright's) showing `url`; the page reports to `feed` through the
 * functions it calls: `feedOpened()` and `feedMessage(id, data)`.
 */
async function openInChromium(url: string, feed: { opened: boolean; received: Received[] }) {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root needs --no-sandbox; the machine has no GPU, and its closed network refuses Chromium's own connections.
    // Playwright passes most of these itself: named here so the test does not rest on its defaults.
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    timeout: 20_000,
  });
  const tab = await browser.newPage();
  await tab.exposeFunction("feedOpened", () => {
    feed.opened = true;
  });
  await tab.exposeFunction("feedMessage", (id: string, data: string) => {
    feed.received.push({ id, change: JSON.parse(data) });
  });
  await tab.goto(url, { timeout: 10_000 });
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
        const feed = new EventSource(${JSON.stringify(feedUrl)});
        feed.onopen = () => feedOpened();
        feed.onmessage = (message) => feedMessage(message.lastEventId, message.data);
      </script>`);
    });
    page.listen(0, "127.0.0.1");
    await once(page, "listening");
    const pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", "0", "--cors-origin", pageOrigin], { OPTA_ADMIN_KEY: ADMIN_KEY });
    const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    feedUrl = `${url}/admin/sessions/events?admin_key=${encodeURIComponent(ADMIN_KEY)}`;

    const feed = { opened: false, received: [] as Received[] };
    await openInChromium(`${pageOrigin}/`, feed);
    await vi.waitUntil(() => feed.opened, { timeout: 10_000, interval: 50 });
    await writeFile(path.join(dir, "browserfeed1.json"), cliFile(cliSession("browserfeed1", { title: "seen by a browser" })));
    await writeFile(path.join(dir, "browserfeed2.json"), cliFile(cliSession("browserfeed2")));
    await vi.waitUntil(() => feed.received.length >= 2, { timeout: 5_000, interval: 50 });
    expect(feed.received.map(({ change }) => [change.type, change.session?.id]).sort()).toEqual([
      ["session.created", "browserfeed1"],
      ["session.created", "browserfeed2"],
    ]);
    expect(feed.received.find(({ change }) => change.session?.id === "browserfeed1")?.change.session?.title).toBe("seen by a browser");
    expect(feed.received.every(({ id }) => /^[0-9]+$/.test(id))).toBe(true);
    expect(server.output()).not.toContain(ADMIN_KEY);

    // The server goes away and comes back on the same port: the browser reconnects by itself (retry: 5000) and
    // sends its Last-Event-ID, which the new run's history cannot resume from: `reset`, then the feed goes on.
    await killProcess(server);
    server = startProcess(["--dir", dir, "--host", "127.0.0.1", "--port", new URL(url ?? "").port, "--cors-origin", pageOrigin], { OPTA_ADMIN_KEY: ADMIN_KEY });
    await waitForOutput(server, /listening on/);
    await vi.waitUntil(() => feed.received.length >= 3, { timeout: 15_000, interval: 100 });
    expect(feed.received.at(-1)?.change).toEqual({ type: "reset" });
    await writeFile(path.join(dir, "browserfeed3.json"), cliFile(cliSession("browserfeed3")));
    await vi.waitUntil(() => feed.received.length >= 4, { timeout: 5_000, interval: 50 });
    expect(feed.received.at(-1)?.change.session?.id).toBe("browserfeed3");
  }, 40_000);
});
