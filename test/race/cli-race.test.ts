import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionFullSchema, SessionListSchema, SessionSummarySchema, TrashListSchema } from "../../src/http/schemas.js";
import { startProcess, waitForOutput } from "../e2e/helpers.js";
import { ADMIN_KEY, AUTH } from "../fixtures/sessions.js";

/**
 * The server against a process that writes exactly as the CLI does, at full speed, while clients
 * list, search, read and delete: zero 5xx, every session served is a version the writer wrote,
 * index.json always parses when the CLI reads it, and no index entry is lost beyond the window the
 * README documents.
 */

const RACE_MS = Number(process.env.OPTA_RACE_MS ?? 30_000);
const SESSIONS = 40;
const CLIENTS = 4;
const MAX_DELETES = SESSIONS / 2;
const WRITER = fileURLToPath(new URL("../../scripts/cli-writer.mjs", import.meta.url));

interface WriterModule {
  sessionVersion(id: string, version: number): { title: string; updated: string; messages: unknown[] };
  raceId(n: number): string;
}
interface WriterStats {
  saves: number;
  indexWrites: number;
  indexUnparseable: number;
  retired: string[];
  versions: Record<string, number>;
}

let root: string;
let dir: string;
let dataDir: string;
let cli: WriterModule;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-race-"));
  dir = path.join(root, "sessions");
  dataDir = path.join(root, "data");
  await mkdir(dir);
  // A variable, so TypeScript does not look for types of the writer's plain JavaScript.
  const writerUrl = pathToFileURL(WRITER).href;
  cli = (await import(writerUrl)) as WriterModule;
  const entries: Record<string, unknown> = {};
  for (let n = 0; n < SESSIONS; n++) {
    const id = cli.raceId(n);
    await writeFile(path.join(dir, `${id}.json`), JSON.stringify(cli.sessionVersion(id, 1), null, 2));
    entries[id] = { title: `race ${id} v1`, messageCount: 1 };
  }
  await writeFile(path.join(dir, "index.json"), JSON.stringify({ entries, updatedAt: "" }, null, 2));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("racing the CLI", () => {
  it(`serves only whole versions and keeps index.json sound for ${RACE_MS / 1000} s of CLI writes and client traffic`, {
    timeout: RACE_MS + 60_000,
  }, async () => {
    const server = startProcess(["--dir", dir, "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0"], { OPTA_ADMIN_KEY: ADMIN_KEY });
    try {
      const [, url] = await waitForOutput(server, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const writer = spawn(process.execPath, [WRITER, dir, String(RACE_MS), String(SESSIONS)], { stdio: ["ignore", "pipe", "inherit"] });
      let writerOutput = "";
      writer.stdout.on("data", (chunk) => (writerOutput += chunk));
      const writerDone = new Promise<void>((resolve) => writer.once("exit", () => resolve()));
      let running = true;
      void writerDone.then(() => (running = false));

      const counts = { list: 0, search: 0, get: 0, verified: 0, delete: 0, deleted: 0, fiveHundreds: 0 };
      const problems: string[] = [];
      const checkSummary = (raw: unknown) => {
        const summary = SessionSummarySchema.parse(raw);
        const expected = cli.sessionVersion(summary.id, summary.message_count);
        if (summary.title !== expected.title || summary.updated !== expected.updated) problems.push(`summary ${summary.id} is no version written`);
      };
      const client = async () => {
        while (running && counts.list + counts.search + counts.get + counts.delete < 200_000) {
          const id = cli.raceId(Math.floor(Math.random() * SESSIONS));
          const roll = Math.random();
          const op = roll < 0.3 ? "list" : roll < 0.5 ? "search" : roll < 0.995 || counts.deleted >= MAX_DELETES ? "get" : "delete";
          const target = {
            list: "/admin/sessions?limit=200",
            search: `/admin/sessions/search?q=${id}+turn&limit=5`,
            get: `/admin/sessions/${id}`,
            delete: `/admin/sessions/${id}`,
          }[op];
          const res = await fetch(`${url}${target}`, { method: op === "delete" ? "DELETE" : "GET", headers: AUTH });
          const body: unknown = await res.json();
          counts[op]++;
          if (res.status >= 500) counts.fiveHundreds++;
          if (op === "list" && res.status === 200) SessionListSchema.parse(body).sessions.forEach(checkSummary);
          if (op === "search" && res.status === 200) (body as unknown[]).forEach(checkSummary);
          if (op === "get" && res.status === 200) {
            const session = SessionFullSchema.parse(body);
            const expected = cli.sessionVersion(id, session.message_count);
            if (JSON.stringify(session.messages) !== JSON.stringify(expected.messages) || session.title !== expected.title)
              problems.push(`GET ${id} is no version written`);
            counts.verified++;
          }
          if (op === "get" && res.status !== 200 && res.status !== 404) problems.push(`GET ${id} answered ${res.status}`);
          if (op === "delete" && res.status === 200) counts.deleted++;
          else if (op === "delete" && res.status !== 404) problems.push(`DELETE ${id} answered ${res.status}`);
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, client));
      await writerDone;
      const stats = JSON.parse(writerOutput) as WriterStats;

      // What the CLI would find now, and what our trash holds.
      const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8")) as { entries: Record<string, unknown> };
      const live = Object.keys(stats.versions).filter((id) => existsSync(path.join(dir, `${id}.json`)));
      const lost = live.filter((id) => !Object.hasOwn(index.entries, id));
      const trash: unknown[] = [];
      for (;;) {
        const page = TrashListSchema.parse(await (await fetch(`${url}/admin/trash?limit=200&offset=${trash.length}`, { headers: AUTH })).json()).items;
        trash.push(...page);
        if (page.length < 200) break;
      }
      const [own] = await readdir(path.join(dataDir, "trash")); // this sessions directory's own trash
      const trashDir = path.join(dataDir, "trash", own ?? "none");
      for (const name of (await readdir(trashDir)).filter((file) => !file.endsWith(".meta.json"))) {
        const session = JSON.parse(await readFile(path.join(trashDir, name), "utf8")) as { id: string; messages: unknown[] };
        if (JSON.stringify(session) !== JSON.stringify(cli.sessionVersion(session.id, session.messages.length)))
          problems.push(`trashed ${name} is no version written`);
      }

      const figures = {
        seconds: RACE_MS / 1000,
        ...counts,
        writerSaves: stats.saves,
        indexRewritesByCli: stats.indexWrites,
        indexUnparseable: stats.indexUnparseable,
        live: live.length,
        lostIndexEntries: lost.length,
        trashed: trash.length,
      };
      console.log(`race figures: ${JSON.stringify(figures)}`);
      // One assertion for the hard rules, so a failure shows every figure at once.
      expect({ problems: problems.slice(0, 5), fiveHundreds: counts.fiveHundreds, indexUnparseable: stats.indexUnparseable, trashed: trash.length }).toEqual({
        problems: [],
        fiveHundreds: 0,
        indexUnparseable: 0,
        trashed: counts.deleted,
      });
      // The README's window: a CLI write that starts between our last look and our rename is lost.
      expect(lost.length).toBeLessThanOrEqual(2);
      expect(counts.verified).toBeGreaterThan(100);
      expect(stats.saves).toBeGreaterThan(1000);
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  });
});
