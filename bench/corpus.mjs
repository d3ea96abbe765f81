import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildSession, damagedText, indexEntry } from "./session.mjs";
import { assertTermsAreUnique, createRandom, title as makeTitle, nanoid, SEARCH_TERMS, sentence } from "./text.mjs";

/** Synthetic corpora in the CLI's exact on-disk format, generated once per size and reused across runs. */

/** Bump whenever the generator's output changes, so stale corpora are regenerated. */
const GENERATOR_VERSION = 2;

/** All corpora live here; nothing outside it is ever written or deleted by the generator. */
export const CORPORA_ROOT = path.join(os.tmpdir(), "opta-sessions-bench");

const DAY_MS = 86_400_000;
/** The corpus's "now": fixed, so runs on different days generate the same bytes and filters hit the same sessions. */
export const CORPUS_NOW = Date.UTC(2026, 10, 1);

const MODELS = [
  ["MiniMax-M2.5-5bit", 30],
  ["mlx-community/Llama-3.3-70B-4bit", 20],
  ["mlx-community/Qwen3-Coder-30B-A3B-8bit", 20],
  ["GLM-4.6-4bit", 10],
  ["mlx-community/DeepSeek-V3.1-4bit", 10],
  ["gpt-oss-120b-MXFP4", 10],
];
const TAGS = ["work", "bug", "feature", "opta", "lmx", "cli", "docs", "infra", "perf", "review", "web", "experiment", "urgent", "security", "personal", "ops"];
const PROJECTS = ["opta-cli", "opta-lmx", "opta-web", "dotfiles", "site", "scratch", "infra", "notes-app"];
const GIANT_MB = [10, 5, 20, 7, 14, 6, 12, 18];
const RARE_SESSIONS_PER_TERM = 5;

/** How many 5-20 MB giants a corpus gets: a few; capped at 8 so 100,000 sessions stay a sane size on disk. */
function giantCount(size) {
  return Math.min(GIANT_MB.length, Math.max(3, Math.round(size / 2500)));
}

/** How often the phrase words are planted (per session): alone, and side by side in either order. */
const PHRASE_PLANTS = [
  ["gossamer", 0.4],
  ["lattice", 0.3],
  ["gossamer lattice", 0.03],
  ["lattice gossamer", 0.01],
];

/**
 * The queries the search benchmark sends, by kind; `ranked` goes to GET /admin/search (default hits=3),
 * the others to the compat search. Their matching sessions are counted from the facts the generator
 * kept (`hitsOf`), so a query can change without generating the corpus again.
 */
export const SEARCH_QUERIES = {
  rare: SEARCH_TERMS.rare,
  common: SEARCH_TERMS.common,
  twoTerm: ["refactor websocket", "pipeline tokenizer", "refactor benchmark"],
  twoCommon: ["refactor benchmark", "pipeline refactor", "benchmark pipeline"],
  phrase: ['"gossamer lattice"', '"lattice gossamer"'],
  fragment: SEARCH_TERMS.fragments,
  operator: ["tag:perf refactor", "model:llama pipeline", "model:qwen benchmark", "tag:work gossamer"],
  ranked: ["refactor", "zorbulex", "refactor benchmark", '"gossamer lattice"', "pip"],
};

/** Returns `{ dir, meta }` for a corpus of `size` session files, generating it unless a matching one exists. */
export function ensureCorpus(size, log) {
  // Versioned, so a run from a checkout with another generator (sharing the temp dir) never deletes this one's corpus.
  const root = path.join(CORPORA_ROOT, `corpus-${size}-v${GENERATOR_VERSION}`);
  const markerPath = path.join(root, "corpus.json");
  const factsPath = path.join(root, "facts.json");
  const dir = path.join(root, "sessions");
  if (existsSync(markerPath)) {
    const meta = JSON.parse(readFileSync(markerPath, "utf8"));
    if (meta.version === GENERATOR_VERSION) {
      log(`reusing the ${size}-session corpus in ${dir}`);
      return { dir, meta: withQueries(meta, JSON.parse(readFileSync(factsPath, "utf8"))) };
    }
  }
  rmSync(root, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`generating ${size} sessions in ${dir}`);
  const started = Date.now();
  const { meta, facts } = generate(size, dir, log);
  writeFileSync(factsPath, JSON.stringify(facts));
  // Written last: a half-generated corpus has no marker and is regenerated next time.
  writeFileSync(markerPath, JSON.stringify(meta, null, 2));
  log(`generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { dir, meta: withQueries(meta, facts) };
}

function withQueries(meta, facts) {
  const queries = Object.fromEntries(Object.entries(SEARCH_QUERIES).map(([kind, list]) => [kind, list.map((q) => ({ q, hits: hitsOf(q, facts) }))]));
  return { ...meta, queries };
}

/**
 * How many valid sessions match a query, by the contract's rules applied to what could match: the
 * planted words and phrases (no other generated text holds them: text.mjs checks), the id's words
 * (random, so a three-letter term can occur in one by chance), the tags and the model. Knows the
 * forms SEARCH_QUERIES uses: words, "phrases", tag:X and model:X, all of them required.
 */
export function hitsOf(q, facts) {
  const terms = q.match(/"[^"]*"|\S+/g);
  return facts.filter((fact) => terms.every((term) => factMatches(fact, term))).length;
}

function factMatches({ id, model, tags, words, phrases }, term) {
  if (term.startsWith("tag:")) return tags.includes(term.slice(4).toLowerCase());
  if (term.startsWith("model:")) return model.toLowerCase().includes(term.slice(6).toLowerCase());
  if (term.startsWith('"')) return phrases.includes(term.slice(1, -1));
  // a term of three or more characters matches anywhere inside a word
  return (
    words.some((word) => word.includes(term)) ||
    id
      .toLowerCase()
      .split(/[-_]/)
      .some((word) => word.includes(term))
  );
}

function generate(size, dir, log) {
  assertTermsAreUnique();
  const random = createRandom(20261101 + size);
  // The phrase words draw from their own stream, so every other byte is what version 1 of the generator wrote.
  const phraseRandom = createRandom(7_20261101 + size);
  const ids = uniqueIds(random, size);

  // Which sessions are giants, damaged, or hold a rare search term: decided up front, by position.
  const positions = shuffled(random, size);
  const giants = new Map(positions.slice(0, giantCount(size)).map((position, n) => [position, GIANT_MB[n] * 1024 * 1024]));
  const damagedCount = Math.max(6, Math.round(size * 0.003));
  const damaged = new Map(positions.slice(giants.size, giants.size + damagedCount).map((position, n) => [position, ["truncated", "notJson", "array"][n % 3]]));
  const rarePool = positions.slice(giants.size + damagedCount);
  const rare = new Map();
  SEARCH_TERMS.rare.forEach((term, n) => {
    for (const position of rarePool.slice(n * RARE_SESSIONS_PER_TERM, (n + 1) * RARE_SESSIONS_PER_TERM)) rare.set(position, term);
  });

  const fileSizes = [];
  const facts = []; // per valid session: what a query can match (hitsOf), to know each query's true hit count
  const damagedKinds = { truncated: 0, notJson: 0, array: 0 };
  const index = {};
  const unlistedCount = Math.max(3, Math.round(size * 0.003));
  let bigSession = null;

  for (let position = 0; position < size; position++) {
    const id = ids[position];
    const profile = giants.has(position) ? "giant" : random.chance(0.02) ? "agentic" : "chat";
    const bytes =
      giants.get(position) ?? (profile === "agentic" ? Math.min(3 << 20, random.logNormal(64 * 1024, 1.0)) : Math.max(600, random.logNormal(2200, 0.7)));
    const plant = plantedWords(random, rare.get(position));
    const session = buildSession(random, { ...sessionHeader(random, id), bytes, profile, plant, toolNames: random.chance(0.5) });
    const phrases = plantPhraseWords(phraseRandom, session.messages);
    let text = JSON.stringify(session, null, 2);

    const damage = damaged.get(position);
    if (damage) {
      text = damagedText(random, damage, text);
      damagedKinds[damage]++;
      if (damage === "truncated") index[id] = indexEntry(session, true); // the CLI indexed it before the crash
    } else {
      const words = [...plant, ...phrases.flatMap((phrase) => phrase.split(" "))];
      facts.push({ id, model: session.model, tags: (session.tags ?? []).map((tag) => tag.toLowerCase()), words, phrases });
      if (position >= unlistedCount) index[id] = indexEntry(session, random.chance(0.9)); // the first few have no entry: a stale index
      if (giants.get(position) === 10 * 1024 * 1024) bigSession = { id, bytes: Buffer.byteLength(text) };
    }

    const file = path.join(dir, `${id}.json`);
    writeFileSync(file, text);
    const mtime = new Date(session.updated);
    utimesSync(file, mtime, mtime); // as if last saved by the CLI at `updated`
    fileSizes.push(Buffer.byteLength(text));
    if ((position + 1) % Math.ceil(size / 10) === 0) log(`  ${position + 1} / ${size}`);
  }

  // A few entries for sessions deleted behind the CLI's back: the index is a hint, never the truth.
  const phantomCount = Math.max(3, Math.round(size * 0.003));
  for (let n = 0; n < phantomCount; n++) {
    index[nanoid(random)] = indexEntry(
      buildSession(random, { ...sessionHeader(random, "gone"), bytes: 1500, profile: "chat", plant: [], toolNames: false }),
      true,
    );
  }
  const indexText = JSON.stringify({ entries: index, updatedAt: new Date(CORPUS_NOW).toISOString() }, null, 2);
  writeFileSync(path.join(dir, "index.json"), indexText);
  writeStrayFiles(dir);

  fileSizes.sort((a, b) => a - b);
  const sessionBytes = fileSizes.reduce((sum, bytes) => sum + bytes, 0);
  const meta = {
    version: GENERATOR_VERSION,
    size,
    valid: size - damagedCount,
    damaged: damagedCount,
    damagedKinds,
    giants: giants.size,
    bytes: {
      sessions: sessionBytes,
      index: Buffer.byteLength(indexText),
      median: quantile(fileSizes, 0.5),
      p99: quantile(fileSizes, 0.99),
      max: fileSizes.at(-1),
    },
    index: { entries: Object.keys(index).length, phantom: phantomCount, unlisted: unlistedCount },
    bigSession,
  };
  return { meta, facts };
}

function sessionHeader(random, id) {
  // Skewed towards recent: a heavy user chats more now than two years ago.
  const created = CORPUS_NOW - Math.floor(720 * DAY_MS * random.next() ** 1.6) - DAY_MS;
  const updated = Math.min(CORPUS_NOW, created + random.int(1, 240) * 60_000);
  return {
    id,
    created: new Date(created).toISOString(),
    updated: new Date(updated).toISOString(),
    model: random.weighted(MODELS),
    cwd: `/Users/matt/Synced/Opta/${random.pick(PROJECTS)}`,
    title: random.chance(0.1) ? "" : makeTitle(random),
    tags: random.chance(0.02) ? undefined : Array.from(new Set(Array.from({ length: random.int(0, 3) }, () => random.zipf(TAGS)))),
  };
}

/** Common words go in most sessions, medium ones in a few percent, each rare one in exactly five. */
function plantedWords(random, rareWord) {
  const words = [];
  SEARCH_TERMS.common.forEach((word, n) => {
    if (random.chance([0.8, 0.7, 0.6][n])) words.push(word);
  });
  for (const word of SEARCH_TERMS.medium) if (random.chance(0.05)) words.push(word);
  if (rareWord) words.push(rareWord);
  return words;
}

/**
 * Plants the phrase words, alone or side by side, each inside a sentence of its own (never its first
 * or last word) appended to a user or assistant message: two plants never touch, so the words stand
 * side by side exactly where a phrase was planted. Returns what was planted.
 */
function plantPhraseWords(random, messages) {
  const candidates = messages.filter((message) => (message.role === "user" || message.role === "assistant") && typeof message.content === "string");
  const planted = [];
  for (const [words, p] of PHRASE_PLANTS) {
    if (!random.chance(p)) continue;
    const sentenceWords = sentence(random).split(" ");
    sentenceWords.splice(random.int(1, sentenceWords.length - 1), 0, words);
    random.pick(candidates).content += ` ${sentenceWords.join(" ")}`;
    planted.push(words);
  }
  return planted;
}

/** Things a real sessions directory also holds, none of them a session. */
function writeStrayFiles(dir) {
  writeFileSync(path.join(dir, ".DS_Store"), Buffer.from([0, 0, 0, 1, 66, 117, 100, 49]));
  writeFileSync(path.join(dir, "notes.txt"), "sessions to keep\n");
  writeFileSync(path.join(dir, ".V1StGXR8_Z5j.json.swp"), "b0VIM 9.0\n");
  mkdirSync(path.join(dir, "archive"));
  writeFileSync(path.join(dir, "archive", "old.json"), "{}\n");
}

function uniqueIds(random, count) {
  const ids = new Set();
  while (ids.size < count) ids.add(nanoid(random));
  return [...ids];
}

function shuffled(random, count) {
  const items = Array.from({ length: count }, (_, n) => n);
  for (let n = count - 1; n > 0; n--) {
    const other = Math.floor(random.next() * (n + 1));
    [items[n], items[other]] = [items[other], items[n]];
  }
  return items;
}

function quantile(sorted, q) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
