import { cp, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { FsStore } from "../../../src/storage/fs/fs-store.js";
import { FsTrash } from "../../../src/storage/fs/fs-trash.js";
import { AUTH, appFor } from "../../fixtures/sessions.js";

/** The directory the real Opta CLI wrote (test/fixtures/real-cli-sessions), deleted from and restored into through the API. */
const FIXTURE = new URL("../../fixtures/real-cli-sessions/sessions/", import.meta.url);
let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "opta-real-cli-"));
  dir = path.join(root, "sessions");
  await cp(FIXTURE, dir, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

interface CliIndex {
  entries: Record<string, unknown>;
  updatedAt: string;
}

/** index.json as the CLI reads and writes it: JSON.stringify(index, null, 2), no trailing newline. */
async function readIndex(): Promise<CliIndex> {
  const text = await readFile(path.join(dir, "index.json"), "utf8");
  const index = JSON.parse(text) as CliIndex;
  expect(text).toBe(JSON.stringify(index, null, 2));
  return index;
}

it("deletes and restores every session the real CLI wrote, leaving index.json and the files as the CLI reads them", async () => {
  const now = Date.parse("2026-12-01T09:00:00.000Z");
  const store = new FsStore(dir);
  const app = appFor(store, { trash: new FsTrash(dir, path.join(root, "trash")), now: () => now });
  const original = await readIndex();
  const names = (await readdir(dir)).filter((name) => name !== "index.json").sort();
  const bytes = new Map(await Promise.all(names.map(async (name) => [name, await readFile(path.join(dir, name))] as const)));
  expect(names).toHaveLength(10);

  for (const name of names) {
    const id = name.replace(/\.json$/, "");
    const before = await readIndex();
    const res = await app.request(`/admin/sessions/${encodeURIComponent(id)}`, { method: "DELETE", headers: AUTH });
    expect(res.status, id).toBe(200);
    expect(await res.json(), id).toMatchObject({ deleted: true, trash_id: expect.any(String) });
    const after = await readIndex();
    const { [id]: gone, ...kept } = before.entries;
    expect(after.entries, id).toEqual(kept); // every other entry exactly as it was, in the same order
    expect(Object.keys(after.entries)).toEqual(Object.keys(kept));
    if (gone !== undefined) expect(after.updatedAt, id).toBe(new Date(now).toISOString());
  }
  expect((await readdir(dir)).sort()).toEqual(["index.json"]);

  for (const name of [...names].reverse()) {
    const id = name.replace(/\.json$/, "");
    const res = await app.request(`/admin/trash/${encodeURIComponent(id)}/restore`, { method: "POST", headers: AUTH });
    expect(res.status, id).toBe(200);
    expect(await res.json()).toEqual({ restored: true, id });
    expect(await readFile(path.join(dir, name)), id).toEqual(bytes.get(name)); // byte for byte
  }
  const restored = await readIndex();
  expect(Object.keys(restored.entries).sort()).toEqual(Object.keys(original.entries).sort());
  for (const [id, entry] of Object.entries(original.entries)) expect(restored.entries[id], id).toEqual(entry);
  const list = (await (await app.request("/admin/sessions", { headers: AUTH })).json()) as { total: number };
  expect(list.total).toBe(10);
});

it("lists a deleted session without times in the trash with its file's modification time, not the time of the delete", async () => {
  const app = appFor(new FsStore(dir), { trash: new FsTrash(dir, path.join(root, "trash")) });
  const file = path.join(dir, "notimes12345.json");
  await writeFile(file, JSON.stringify({ id: "notimes12345", messages: [{ role: "user", content: "no times at all" }] }));
  const mtime = new Date("2026-06-01T10:00:00.000Z");
  await utimes(file, mtime, mtime);
  expect((await app.request("/admin/sessions/notimes12345", { method: "DELETE", headers: AUTH })).status).toBe(200);
  const trash = (await (await app.request("/admin/trash", { headers: AUTH })).json()) as { items: { session: { created_at: string; updated_at: string } }[] };
  expect(trash.items[0]?.session).toMatchObject({ created_at: mtime.toISOString(), updated_at: mtime.toISOString() });
});
