import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DeploymentState } from "../../src/sync/deployment-memory.js";
import {
  describeRound,
  type KnownDigest,
  type LocalEntry,
  type LocalFile,
  type LocalSessions,
  MASS_DELETE_MIN,
  RefusedContent,
  type RemoteSessions,
  roundSucceeded,
  SyncError,
  syncRound,
  type Upload,
} from "../../src/sync/round.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

function isJsonObject(text: string): boolean {
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** A sessions directory in memory: files by id (text, or a kind that is not a file), with digests it may "remember". */
class FakeLocal implements LocalSessions {
  readonly files = new Map<string, string | "directory">();
  readonly remembered = new Map<string, string>();
  readonly reads: string[] = [];
  /** Ids whose file vanishes between the listing and the read. */
  readonly vanishing = new Set<string>();

  async list(): Promise<LocalEntry[]> {
    return [...this.files].map(([id, file]) => ({
      id,
      name: `${id}.json`,
      kind: file === "directory" ? "directory" : "file",
      stamp: "s",
      mtimeMs: 0,
      size: file.length,
    }));
  }

  async digest(entry: LocalEntry): Promise<LocalFile | KnownDigest> {
    const known = this.remembered.get(entry.id);
    return known ? { status: "ok", sha256: known, bytes: null } : this.read(entry);
  }

  async read(entry: LocalEntry): Promise<LocalFile> {
    this.reads.push(entry.id);
    const file = this.files.get(entry.id);
    if (file === undefined || this.vanishing.has(entry.id)) return { status: "missing" };
    if (file === "directory") return { status: "damaged", reason: "a directory" };
    if (!isJsonObject(file)) return { status: "damaged", reason: "not a JSON object" };
    return { status: "ok", sha256: sha(file), bytes: new TextEncoder().encode(file) };
  }
}

/** A deployment in memory; `refuse` decides per request whether it fails (and how). */
class FakeRemote implements RemoteSessions {
  readonly display = "https://sessions.test";
  readonly stored = new Map<string, string>();
  readonly requests: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  refuse: (method: string, id: string) => SyncError | null = () => null;

  async manifest(): Promise<Map<string, string>> {
    this.requests.push("GET manifest");
    const refusal = this.refuse("GET", "");
    if (refusal) throw refusal;
    return new Map([...this.stored].map(([id, text]) => [id, sha(text)]));
  }

  async put(id: string, bytes: Uint8Array): Promise<void> {
    await this.#call("PUT", id, () => this.stored.set(id, new TextDecoder().decode(bytes)));
  }

  /** One request for them all (`POST a,b`); `refuse("PUT", id)` fails one session of it, or the round when fatal. */
  async putMany(uploads: readonly Upload[]): Promise<Map<string, SyncError>> {
    const failures = new Map<string, SyncError>();
    await this.#call("POST", uploads.map((upload) => upload.id).join(","), () => {
      for (const { id, bytes } of uploads) {
        const refusal = this.refuse("PUT", id);
        if (refusal?.fatal) throw refusal;
        if (refusal) failures.set(id, refusal);
        else this.stored.set(id, new TextDecoder().decode(bytes));
      }
    });
    return failures;
  }

  async remove(id: string): Promise<void> {
    await this.#call("DELETE", id, () => this.stored.delete(id));
  }

  async #call(method: string, id: string, effect: () => void): Promise<void> {
    this.requests.push(`${method} ${id}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 1)); // a request takes a moment, so concurrent ones overlap
    this.inFlight--;
    const refusal = this.refuse(method, id);
    if (refusal) throw refusal;
    effect();
  }
}

function setup() {
  return { local: new FakeLocal(), remote: new FakeRemote() };
}

describe("a sync round", () => {
  it("uploads what is missing or different, deletes what has no local file, leaves the rest", async () => {
    const { local, remote } = setup();
    local.files.set("same", '{"a":1}').set("changed", '{"b":2}').set("new", '{"c":3}');
    remote.stored.set("same", '{"a":1}').set("changed", '{"b":1}').set("gone", '{"d":4}');

    const result = await syncRound(local, remote, { concurrency: 4 });

    expect(result).toMatchObject({ unchanged: 1, skipped: [], failed: [], stopped: null });
    expect(result.uploaded.sort()).toEqual(["changed", "new"]);
    expect(result.deleted).toEqual(["gone"]);
    expect(Object.fromEntries(remote.stored)).toEqual({ same: '{"a":1}', changed: '{"b":2}', new: '{"c":3}' });
    expect(roundSucceeded(result)).toBe(true);
  });

  it("skips damaged entries and keeps their copies on the deployment", async () => {
    const { local, remote } = setup();
    local.files.set("truncated", '{"a":').set("folder", "directory").set("ok", "{}");
    remote.stored.set("truncated", '{"a":1}').set("folder", '{"b":1}');

    const result = await syncRound(local, remote, { concurrency: 2 });

    expect(result.skipped.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "folder.json", reason: "a directory" },
      { name: "truncated.json", reason: "not a JSON object" },
    ]);
    expect(result.deleted).toEqual([]);
    expect(Object.fromEntries(remote.stored)).toEqual({ truncated: '{"a":1}', folder: '{"b":1}', ok: "{}" });
    expect(roundSucceeded(result)).toBe(true); // damaged files are not sessions: nothing failed
  });

  it("does not read a file whose remembered digest matches the deployment's", async () => {
    const { local, remote } = setup();
    local.files.set("a", "{}");
    local.remembered.set("a", sha("{}"));
    remote.stored.set("a", "{}");

    expect((await syncRound(local, remote, { concurrency: 1 })).unchanged).toBe(1);
    expect(local.reads).toEqual([]);
  });

  it("reads the file again when the remembered digest differs, and uploads what it holds now", async () => {
    const { local, remote } = setup();
    local.files.set("a", '{"now":true}');
    local.remembered.set("a", sha("{}"));

    const result = await syncRound(local, remote, { concurrency: 1 });

    expect(result.uploaded).toEqual(["a"]);
    expect(remote.stored.get("a")).toBe('{"now":true}');
  });

  it("counts a file removed between the listing and the read as nothing, and deletes nothing for it", async () => {
    const { local, remote } = setup();
    local.files.set("a", "{}");
    local.vanishing.add("a");
    remote.stored.set("a", '{"old":1}');

    const result = await syncRound(local, remote, { concurrency: 1 });

    expect(result).toMatchObject({ uploaded: [], deleted: [], unchanged: 0, failed: [], stopped: null });
    expect(remote.stored.has("a")).toBe(true);
  });

  it("counts a refused upload as failed for that session and goes on with the rest", async () => {
    const { local, remote } = setup();
    for (const id of ["a", "big", "c"]) local.files.set(id, "{}");
    remote.refuse = (method, id) => (method === "PUT" && id === "big" ? new SyncError("too large for the deployment (413: too big)", false) : null);

    const result = await syncRound(local, remote, { concurrency: 1 });

    expect(result.failed).toEqual([{ id: "big", reason: "too large for the deployment (413: too big)" }]);
    expect(result.uploaded.sort()).toEqual(["a", "c"]);
    expect(roundSucceeded(result)).toBe(false);
  });

  it("stops at the first fatal refusal without sending anything more", async () => {
    const { local, remote } = setup();
    for (let i = 0; i < 20; i++) local.files.set(`s${i}`, "{}");
    remote.refuse = (method) => (method === "PUT" ? new SyncError("the deployment refused the admin key (401): check OPTA_ADMIN_KEY", true) : null);

    const result = await syncRound(local, remote, { concurrency: 4, batchLimits: { sessions: 2, bytes: 1024 } });

    expect(result.stopped).toBe("the deployment refused the admin key (401): check OPTA_ADMIN_KEY");
    // The requests already in flight when the first answer came back, and not one more.
    expect(remote.requests.filter((request) => request.startsWith("POST")).length).toBeLessThanOrEqual(4);
  });

  it("stops before sending anything when the manifest cannot be had", async () => {
    const { local, remote } = setup();
    local.files.set("a", "{}");
    remote.refuse = () => new SyncError("https://sessions.test does not accept writes", true);

    const result = await syncRound(local, remote, { concurrency: 4 });

    expect(result.stopped).toBe("https://sessions.test does not accept writes");
    expect(remote.requests).toEqual(["GET manifest"]);
    expect(local.reads).toEqual([]);
  });

  it("keeps at most `concurrency` requests in flight and reports progress to the end", async () => {
    const { local, remote } = setup();
    for (let i = 0; i < 30; i++) local.files.set(`s${i}`, `{"i":${i}}`);
    const progress: [number, number][] = [];

    await syncRound(local, remote, { concurrency: 3, batchLimits: { sessions: 2, bytes: 1024 }, onProgress: (done, total) => progress.push([done, total]) });

    expect(remote.maxInFlight).toBe(3);
    expect(progress[0]).toEqual([0, 30]);
    // Counted in sessions, a batch's at once.
    expect(progress.slice(1).every(([done], i) => done === 2 * (i + 1))).toBe(true);
    expect(progress.at(-1)).toEqual([30, 30]);
  });

  it("throws what is not a sync failure (a bug must not pass for a failed upload)", async () => {
    const { local, remote } = setup();
    local.files.set("a", "{}");
    remote.putMany = async () => {
      throw new TypeError("boom");
    };
    await expect(syncRound(local, remote, { concurrency: 1 })).rejects.toThrow("boom");
  });
});

describe("a round's batches", () => {
  it("sends in batches within the limits, in order, and a session larger than a batch alone by PUT", async () => {
    const { local, remote } = setup();
    const big = `{"x":"${"y".repeat(30)}"}`;
    local.files.set("a", '{"x":1}').set("b", '{"x":2}').set("c", '{"x":3}').set("big", big).set("d", '{"x":4}');

    const result = await syncRound(local, remote, { concurrency: 1, batchLimits: { sessions: 3, bytes: 20 } });

    expect(remote.requests).toEqual(["GET manifest", "POST a,b", "POST c", "PUT big", "POST d"]);
    expect(result.uploaded.sort()).toEqual(["a", "b", "big", "c", "d"]);
    expect(remote.stored.get("big")).toBe(big);
  });

  it("reads a batch's files when that batch is sent, not all before the first", async () => {
    const { local, remote } = setup();
    for (let i = 0; i < 5; i++) local.files.set(`s${i}`, `{"i":${i}}`);
    const log: string[] = [];
    const read = local.read.bind(local);
    local.read = async (entry) => {
      log.push(`read ${entry.id}`);
      return read(entry);
    };
    const putMany = remote.putMany.bind(remote);
    remote.putMany = async (uploads) => {
      log.push(`POST ${uploads.map((upload) => upload.id).join(",")}`);
      return putMany(uploads);
    };

    await syncRound(local, remote, { concurrency: 1, batchLimits: { sessions: 2, bytes: 1024 } });

    expect(log).toEqual(["read s0", "read s1", "POST s0,s1", "read s2", "read s3", "POST s2,s3", "read s4", "POST s4"]);
  });

  it("fails each session of a batch that failed as a whole, and goes on with the next", async () => {
    const { local, remote } = setup();
    for (const id of ["a", "b", "c"]) local.files.set(id, "{}");
    remote.refuse = (method, id) => (method === "POST" && id === "a,b" ? new SyncError("the deployment answered 503: busy (tried 4 times)", false) : null);

    const result = await syncRound(local, remote, { concurrency: 1, batchLimits: { sessions: 2, bytes: 1024 } });

    expect(result.failed).toEqual([
      { id: "a", reason: "the deployment answered 503: busy (tried 4 times)" },
      { id: "b", reason: "the deployment answered 503: busy (tried 4 times)" },
    ]);
    expect(result.uploaded).toEqual(["c"]);
    expect(result.stopped).toBeNull();
  });

  it("decides by remembered digests without reading, and reads only what is sent, when its batch goes", async () => {
    const { local, remote } = setup();
    local.files.set("same", "{}").set("changed", '{"v":2}');
    local.remembered.set("same", sha("{}")).set("changed", sha('{"v":2}'));
    remote.stored.set("same", "{}").set("changed", '{"v":1}');

    const result = await syncRound(local, remote, { concurrency: 2 });

    expect(result).toMatchObject({ uploaded: ["changed"], unchanged: 1 });
    expect(local.reads).toEqual(["changed"]);
    expect(remote.requests).toEqual(["GET manifest", "POST changed"]);
  });
});

describe("what a round remembers of the deployment", () => {
  /** The ids sent, by PUT or in a batch. */
  const puts = (remote: FakeRemote) =>
    remote.requests.filter((request) => /^(PUT|POST) /.test(request)).flatMap((request) => request.slice(request.indexOf(" ") + 1).split(","));

  it("keeps deleted a session deleted on the deployment while its file is unchanged, and sends it once it changes", async () => {
    const { local, remote } = setup();
    const memory = await DeploymentState.open(null);
    local.files.set("a", '{"v":1}').set("b", "{}");
    await syncRound(local, remote, { concurrency: 1, memory });
    remote.stored.delete("a"); // deleted through the deployment's API
    remote.requests.length = 0;

    const kept = await syncRound(local, remote, { concurrency: 1, memory });

    expect(kept).toMatchObject({ uploaded: [], keptDeleted: ["a"], unchanged: 1, failed: [], stopped: null });
    expect(roundSucceeded(kept)).toBe(true);
    expect(puts(remote)).toEqual([]);
    expect(describeRound(kept)[0]).toBe(
      "synced to https://sessions.test: 0 uploaded, 0 deleted, 1 unchanged, 1 deleted there (kept deleted), 0 skipped, 0 failed",
    );

    local.files.set("a", '{"v":2}');
    const changed = await syncRound(local, remote, { concurrency: 1, memory });
    expect(changed).toMatchObject({ uploaded: ["a"], keptDeleted: [] });
    expect(remote.stored.get("a")).toBe('{"v":2}');
  });

  it("counts a copy it only saw in the manifest (sent by an earlier run) as held there", async () => {
    const { local, remote } = setup();
    const memory = await DeploymentState.open(null);
    local.files.set("a", "{}");
    remote.stored.set("a", "{}");
    await syncRound(local, remote, { concurrency: 1, memory });
    remote.stored.delete("a");

    expect(await syncRound(local, remote, { concurrency: 1, memory })).toMatchObject({ uploaded: [], keptDeleted: ["a"] });
  });

  it("forgets a session gone from both sides, so a file made again with the same content is sent", async () => {
    const { local, remote } = setup();
    const memory = await DeploymentState.open(null);
    local.files.set("a", "{}");
    await syncRound(local, remote, { concurrency: 1, memory });
    remote.stored.delete("a");
    local.files.delete("a");
    await syncRound(local, remote, { concurrency: 1, memory });
    local.files.set("a", "{}");

    expect(await syncRound(local, remote, { concurrency: 1, memory })).toMatchObject({ uploaded: ["a"], keptDeleted: [] });
  });

  it("does not send again content the deployment refused for good, until it changes; a passing failure is tried again", async () => {
    const { local, remote } = setup();
    const memory = await DeploymentState.open(null);
    local.files.set("big", '{"v":1}').set("flaky", "{}");
    remote.refuse = (method, id) =>
      method !== "PUT"
        ? null
        : id === "big"
          ? new RefusedContent("too large for the deployment (413: too big)")
          : new SyncError("the deployment answered 503: busy", false);

    const first = await syncRound(local, remote, { concurrency: 1, memory });
    expect(first.failed.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: "big", reason: "too large for the deployment (413: too big)", forGood: true },
      { id: "flaky", reason: "the deployment answered 503: busy" },
    ]);
    expect(describeRound(first)).toContain("failed big: too large for the deployment (413: too big); not sent again until the file changes");
    remote.requests.length = 0;

    const second = await syncRound(local, remote, { concurrency: 1, memory });
    expect(puts(remote)).toEqual(["flaky"]);
    expect(second.refusedBefore).toEqual([{ id: "big", reason: "too large for the deployment (413: too big)" }]);
    expect(roundSucceeded(second)).toBe(false); // the deployment still lacks it
    expect(describeRound(second)[0]).toContain("0 unchanged, 1 refused before (not sent again until changed), 0 skipped, 1 failed");

    local.files.set("big", '{"v":2}');
    remote.refuse = () => null;
    remote.requests.length = 0;
    expect(await syncRound(local, remote, { concurrency: 1, memory })).toMatchObject({ uploaded: ["big", "flaky"], refusedBefore: [], failed: [] });
  });

  it(`deletes nothing when more sessions would go than the directory holds (and more than ${MASS_DELETE_MIN}), unless allowed`, async () => {
    const { local, remote } = setup();
    local.files.set("kept", "{}");
    for (let i = 0; i < MASS_DELETE_MIN + 1; i++) remote.stored.set(`old${i}`, "{}");

    const refused = await syncRound(local, remote, { concurrency: 4 });

    expect(refused.stopped).toBe(
      `the deployment holds ${MASS_DELETE_MIN + 1} sessions that have no file here, more than one round deletes (${MASS_DELETE_MIN}: as many as the directory holds, at least ${MASS_DELETE_MIN}): nothing synced. Is --dir the right directory? If they were removed here on purpose, run once with --allow-mass-delete`,
    );
    expect(remote.requests).toEqual(["GET manifest"]);

    const allowed = await syncRound(local, remote, { concurrency: 4, allowMassDelete: true });
    expect(allowed.deleted).toHaveLength(MASS_DELETE_MIN + 1);
    expect([...remote.stored.keys()]).toEqual(["kept"]);
  });

  it("deletes as many sessions as the directory holds, or 100, in one round", async () => {
    const { local, remote } = setup();
    for (let i = 0; i < 150; i++) local.files.set(`here${i}`, "{}");
    for (let i = 0; i < 150; i++) remote.stored.set(`old${i}`, "{}");
    expect((await syncRound(local, remote, { concurrency: 4 })).deleted).toHaveLength(150);

    const small = setup();
    for (let i = 0; i < MASS_DELETE_MIN; i++) small.remote.stored.set(`old${i}`, "{}");
    expect((await syncRound(small.local, small.remote, { concurrency: 4 })).deleted).toHaveLength(MASS_DELETE_MIN);
  });
});

describe("the round's summary", () => {
  it("counts everything in one line and names each failure on its own line", () => {
    expect(
      describeRound({
        target: "https://x",
        uploaded: ["a", "b"],
        deleted: ["c"],
        unchanged: 480,
        keptDeleted: [],
        refusedBefore: [],
        skipped: [
          { name: "b.json", reason: "a directory" },
          { name: "a.json", reason: "not a JSON object" },
        ],
        failed: [{ id: "big", reason: "too large for the deployment (413: too big)" }],
        stopped: null,
      }),
    ).toEqual([
      "synced to https://x: 2 uploaded, 1 deleted, 480 unchanged, 2 skipped (damaged: a.json, b.json), 1 failed",
      "failed big: too large for the deployment (413: too big)",
    ]);
  });

  it("says a stopped round synced only part, and lists at most ten damaged names", () => {
    const skipped = Array.from({ length: 12 }, (_, i) => ({ name: `d${String(i).padStart(2, "0")}.json`, reason: "not a JSON object" }));
    const [line] = describeRound({
      target: "https://x",
      uploaded: [],
      deleted: [],
      unchanged: 0,
      keptDeleted: [],
      refusedBefore: [],
      skipped,
      failed: [],
      stopped: "stopped",
    });
    expect(line).toBe(
      "partly synced to https://x: 0 uploaded, 0 deleted, 0 unchanged, 12 skipped (damaged: d00.json, d01.json, d02.json, d03.json, d04.json, d05.json, d06.json, d07.json, d08.json, d09.json, and 2 more), 0 failed",
    );
  });
});
