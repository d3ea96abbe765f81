import { createRandom, type Random } from "../../bench/text.mjs";
import { cliSession } from "../fixtures/sessions.js";
import { assistant, fnv1a, type Message, system, toolUse, user, userParts } from "./messages.js";
import { type Planted, plantedSessions } from "./planted.js";

/**
 * The relevance corpus: the hand-written sessions the judgments are about (planted.ts) among generated ones that make
 * ranking matter: plenty of sessions share the common words, paths and tools, times spread over two years. Seeded, so
 * every run builds the same bytes. The generated text never holds a judged query's words (checked by relevance.test.ts).
 */

const DAY_MS = 86_400_000;
/** The corpus's "now": fixed, so `since:` and `until:` in the judgments hit the same sessions on every run. */
export const CORPUS_NOW = Date.UTC(2026, 10, 1);
const GENERATED_SESSIONS = 1500;
const SEED = 14;

const MODELS = [
  "MiniMax-M2.5-5bit",
  "mlx-community/Llama-3.3-70B-4bit",
  "mlx-community/Qwen3-Coder-30B-A3B-8bit",
  "GLM-4.6-4bit",
  "mlx-community/DeepSeek-V3.1-4bit",
  "gpt-oss-120b-MXFP4",
];
const PROJECTS = ["opta-cli", "opta-lmx", "opta-web", "notes-app", "dotfiles", "site", "scratch"];
const TAGS = ["work", "bug", "feature", "cli", "docs", "infra", "review", "web", "experiment", "ops"];

/** Everyday words of coding sessions: shared by many sessions, so no single one of them picks a session out. */
const WORDS = (
  "the a an to of in on for with and or but not is are was be it this that we you can should would will add fix update " +
  "remove rename move check test tests build run start stop config file files function method class module import export " +
  "type value list map set array object string number error errors request response server client buffer queue cache " +
  "parser index session sessions message messages token worker thread stream timeout retry log logs user data query " +
  "schema route memory store event async promise loop batch write read path commit branch merge review docs lint format " +
  "release version package install debug trace metric latency during ratio handler header body status page limit offset " +
  "sort filter search field column table row key secret env option flag default output input line lines byte bytes size " +
  "count time date hour minute second job task step plan result results slow fast small large first last next old new"
).split(" ");
const IDENTIFIERS = [
  "loadConfig",
  "handleRequest",
  "parseHeaders",
  "retryCount",
  "maxItems",
  "writeBatch",
  "readChunk",
  "onMessage",
  "user_id",
  "created_at",
  "page_size",
  "fetch_rows",
  "MAX_LIMIT",
  "isReady",
];
const DIRS = ["src", "src/http", "src/storage", "src/util", "lib", "test", "scripts"];
const FILES = ["index.ts", "server.ts", "config.ts", "routes.ts", "store.ts", "log.ts", "app.test.ts", "README.md", "package.json"];
const COMMANDS = ["npm test", "npm run build", "git status", "git diff --stat", "npx tsc --noEmit", "ls -la"];

export interface RelevanceCorpus {
  /** every session, as the CLI writes it */
  sessions: Record<string, unknown>[];
  /** a planted session's id by its key (throws for an unknown key) */
  idOf(key: string): string;
  /** the key of a planted session's id, undefined for a generated one */
  keyOf(id: string): string | undefined;
}

export function relevanceCorpus(): RelevanceCorpus {
  const random = createRandom(SEED);
  const text = new TextMaker(random);
  const ids = new Set<string>();
  const uniqueId = (make: () => string) => {
    let id = make();
    while (ids.has(id)) id = make();
    ids.add(id);
    return id;
  };

  const byKey = new Map<string, string>();
  const sessions: Record<string, unknown>[] = [];
  for (const planted of plantedSessions((count) => text.chatter(count))) {
    if (byKey.has(planted.key)) throw new Error(`planted key ${planted.key} is used twice`);
    // An id from the key alone, so adding a planted session does not change the others'; a letter first, so an id is never read as an exclusion.
    const keyRandom = createRandom(fnv1a(planted.key));
    const id = uniqueId(() => nanoid(keyRandom, true));
    byKey.set(planted.key, id);
    sessions.push(plantedSession(id, planted, random));
  }
  for (let n = 0; n < GENERATED_SESSIONS; n++)
    sessions.push(
      generatedSession(
        uniqueId(() => nanoid(random, false)),
        random,
        text,
      ),
    );

  const keys = new Map([...byKey].map(([key, id]) => [id, key]));
  return {
    sessions,
    idOf(key) {
      const id = byKey.get(key);
      if (id === undefined) throw new Error(`no planted session has the key ${key}`);
      return id;
    },
    keyOf: (id) => keys.get(id),
  };
}

function plantedSession(id: string, planted: Planted, random: Random): Record<string, unknown> {
  const updated = CORPUS_NOW - planted.daysAgo * DAY_MS - random.int(1, 12) * 3_600_000;
  return cliSession(id, {
    ...times(updated, random),
    model: planted.model ?? "MiniMax-M2.5-5bit",
    cwd: planted.cwd ?? "/Users/dev/work/opta-cli",
    title: titleOf(planted.messages),
    tags: planted.tags ?? [],
    messages: [system(), ...planted.messages],
    toolCallCount: planted.messages.filter((message) => message.role === "tool").length,
  });
}

function generatedSession(id: string, random: Random, text: TextMaker): Record<string, unknown> {
  // Skewed towards recent days, as a real directory is.
  const updated = CORPUS_NOW - Math.floor(730 * DAY_MS * random.next() ** 2);
  const project = random.pick(PROJECTS);
  const messages: Message[] = [system()];
  const turns = random.int(1, 8);
  for (let turn = 0; turn < turns; turn++) {
    messages.push(random.chance(0.1) ? userParts(text.sentence(), text.sentence()) : user(text.sentence()));
    for (let call = random.int(0, 2); call > 0; call--) messages.push(...text.toolUse(turns - turn > 2));
    messages.push(assistant(`${text.sentence()} ${text.sentence()}`));
  }
  const tags = random.chance(0.5) ? [random.pick(TAGS)] : [];
  return cliSession(id, {
    ...times(updated, random),
    model: random.pick(MODELS),
    cwd: `/Users/dev/work/${project}`,
    title: random.chance(0.05) ? "" : titleOf(messages),
    tags,
    messages,
    toolCallCount: messages.filter((message) => message.role === "tool").length,
  });
}

function times(updated: number, random: Random) {
  return { created: new Date(updated - random.int(1, 120) * 60_000).toISOString(), updated: new Date(updated).toISOString() };
}

/** What the CLI titles a session: its first prompt, newlines made spaces, cut to 60 UTF-16 units. */
function titleOf(messages: readonly Message[]): string {
  const content = messages.find((message) => message.role === "user")?.content;
  const prompt = Array.isArray(content) ? content.map((part: { text?: string }) => part.text ?? "").join(" ") : String(content ?? "");
  return prompt.trim().replace(/\n/g, " ").slice(0, 60);
}

/** Text from the everyday words only: sentences, tool calls over ordinary files, and their outputs. */
class TextMaker {
  readonly #random: Random;
  constructor(random: Random) {
    this.#random = random;
  }

  sentence(): string {
    const r = this.#random;
    const words = Array.from({ length: r.int(5, 14) }, () => (r.chance(0.08) ? r.pick(IDENTIFIERS) : r.zipf(WORDS)));
    if (r.chance(0.15)) words.push(`${r.pick(DIRS)}/${r.pick(FILES)}`);
    const first = words[0] ?? "ok";
    return `${first.charAt(0).toUpperCase()}${first.slice(1)} ${words.slice(1).join(" ")}.`;
  }

  /** n messages, user and assistant in turn, user first. */
  chatter(count: number): Message[] {
    return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? user(this.sentence()) : assistant(this.sentence())));
  }

  /** A read, a listing or a command; older outputs truncated the way the CLI saves them. */
  toolUse(old: boolean): Message[] {
    const r = this.#random;
    const path = `${r.pick(DIRS)}/${r.pick(FILES)}`;
    const [name, args, output] = r.pick<[string, Record<string, unknown>, () => string]>([
      ["read_file", { path }, () => Array.from({ length: r.int(2, 6) }, (_, i) => `${i + 1}\tconst ${r.pick(IDENTIFIERS)} = ${r.int(0, 999)};`).join("\n")],
      ["list_dir", { path: r.pick(DIRS) }, () => Array.from({ length: r.int(2, 6) }, () => r.pick(FILES)).join("\n")],
      ["run_command", { command: r.pick(COMMANDS) }, () => `${this.sentence()}\nexit code ${r.int(0, 1)}`],
      ["search_files", { pattern: r.pick(IDENTIFIERS), path: "." }, () => `${path}:${r.int(1, 300)}: ${this.sentence()}`],
    ]);
    const full = output();
    return toolUse(name, args, old && full.length > 200 ? `[Tool result truncated: ${full.length} chars, first line: ${full.split("\n")[0]}]` : full);
  }
}

const ID_CHARACTERS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"];
const LETTERS = ID_CHARACTERS.slice(0, 52);

/** A nanoid(12)-like id; generated ones may start with "-" or "_", as real ones do. */
function nanoid(random: Random, letterFirst: boolean): string {
  let id = letterFirst ? random.pick(LETTERS) : "";
  while (id.length < 12) id += random.pick(ID_CHARACTERS);
  return id;
}
