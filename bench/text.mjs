/** Seeded randomness and English-ish text for the synthetic corpus: the same seed gives the same bytes. */

/** mulberry32: tiny, fast, and good enough to make repeatable corpora. */
export function createRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min, max) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    // Skewed towards the front of the list, like word frequencies in real text.
    zipf: (items) => items[Math.floor(items.length * next() ** 2.2)],
    weighted: (pairs) => {
      let r = next() * pairs.reduce((sum, [, weight]) => sum + weight, 0);
      for (const [item, weight] of pairs) {
        r -= weight;
        if (r < 0) return item;
      }
      return pairs[pairs.length - 1][0];
    },
    logNormal: (median, sigma) => {
      const gaussian = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      return median * Math.exp(sigma * gaussian);
    },
  };
}

const ID_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";

/** A nanoid(12)-style id; 2 in 64 start with "-" or "_", as real ones do. */
export function nanoid(random, length = 12) {
  let id = "";
  for (let i = 0; i < length; i++) id += ID_ALPHABET[Math.floor(random.next() * 64)];
  return id;
}

// Ordered roughly by how often a coding chat uses them (zipf() favours the front).
// None contains a planted search term (see SEARCH_TERMS); corpus.mjs checks that.
const WORDS = (
  "the to a and of it in is that this we for you with on be can not function file test " +
  "should error if so then as at but it's let me now i the code use from value type return " +
  "when here there make sure change add fix check run build server request list call new one " +
  "all by or what which have will would into need just about first next because update path " +
  "data field string number array object key map set async await promise import export module " +
  "class method option config line output input read write save load cache index session " +
  "message model tool result response handler route query param header status log warning " +
  "debug trace stack frame thread worker queue event loop timer signal process memory buffer " +
  "stream chunk byte parse format render component state props hook effect style layout page " +
  "user admin token secret key hash compare branch commit merge rebase diff patch review " +
  "release version package dependency install script lint typecheck compile bundle deploy " +
  "docker container image volume network port host socket proxy retry timeout limit offset " +
  "sort filter search match pattern regex escape quote bracket brace comma semicolon indent " +
  "why how does still again maybe probably actually instead rather exactly only every each " +
  "small large fast slow simple clean broken flaky stale fresh missing empty null undefined " +
  "schema validate coerce lenient strict envelope contract client dashboard browser origin"
).split(" ");

/** Words planted on purpose so search queries hit a known number of sessions. */
export const SEARCH_TERMS = {
  rare: ["zorbulex", "quandrivet", "plimsquor", "vexnardine", "trombulate"],
  common: ["refactor", "pipeline", "benchmark"],
  medium: ["websocket", "tokenizer", "migration"],
  // Planted alone in many sessions and side by side in a few, for phrase queries (corpus.mjs).
  phrase: ["gossamer", "lattice"],
  // Three-letter parts of planted words, for prefix and infix queries: none may occur in other text either.
  fragments: ["pip", "ark", "zor"],
};

/** Planted terms must not occur by chance: not in a word, nor in two words joined into an identifier. */
export function assertTermsAreUnique() {
  const planted = Object.values(SEARCH_TERMS).flat();
  for (const first of WORDS) {
    for (const second of ["", ...WORDS]) {
      const joined = (first + second).toLowerCase();
      const term = planted.find((candidate) => joined.includes(candidate));
      if (term) throw new Error(`the word list can produce "${joined}", which holds the planted term "${term}"`);
    }
  }
}

const FILE_PARTS = ["src", "lib", "test", "app", "api", "core", "utils", "sessions", "routes", "storage", "ui"];
const FILE_NAMES = ["index", "server", "client", "parse", "config", "store", "catalog", "search", "auth", "errors", "main", "schema"];

function filePath(random) {
  const depth = random.int(1, 3);
  const dirs = Array.from({ length: depth }, () => random.pick(FILE_PARTS));
  return `${dirs.join("/")}/${random.pick(FILE_NAMES)}.${random.pick(["ts", "ts", "tsx", "js", "py", "json", "md"])}`;
}

export function sentence(random, extraWord) {
  const words = Array.from({ length: random.int(5, 16) }, () => random.zipf(WORDS));
  if (random.chance(0.15)) words.splice(random.int(1, words.length - 1), 0, `\`${filePath(random)}\``);
  if (extraWord) words.splice(random.int(0, words.length), 0, extraWord);
  if (words.length > 8 && random.chance(0.3)) words[random.int(2, words.length - 3)] += ",";
  const text = words.join(" ");
  return text[0].toUpperCase() + text.slice(1) + random.pick([".", ".", ".", "?", "!"]);
}

export function paragraph(random, min, max) {
  return Array.from({ length: random.int(min, max) }, () => sentence(random)).join(" ");
}

export function title(random) {
  const text = Array.from({ length: random.int(3, 7) }, () => random.zipf(WORDS.slice(20))).join(" ");
  return text[0].toUpperCase() + text.slice(1);
}

/** An identifier-ish word for code and logs. */
function identifier(random) {
  const first = random.pick(WORDS.slice(30)).replace(/'/g, "");
  const second = random.pick(WORDS.slice(30)).replace(/'/g, "");
  return first + second[0].toUpperCase() + second.slice(1);
}

function codeLine(random) {
  const indent = "  ".repeat(random.int(0, 3));
  switch (random.int(0, 5)) {
    case 0:
      return `${indent}const ${identifier(random)} = await ${identifier(random)}("${filePath(random)}");`;
    case 1:
      return `${indent}if (${identifier(random)} === null) return { status: "${random.pick(WORDS.slice(30))}" };`;
    case 2:
      return `${indent}// ${sentence(random)}`;
    case 3:
      return `${indent}export function ${identifier(random)}(${identifier(random)}: string): number {`;
    case 4:
      return `${indent}}`;
    default:
      return `${indent}${identifier(random)}.push({ id: ${random.int(0, 9999)}, name: '${identifier(random)}' });`;
  }
}

function logLine(random, lineNumber) {
  const level = random.weighted([
    ["INFO", 8],
    ["DEBUG", 5],
    ["WARN", 2],
    ["ERROR", 1],
  ]);
  return `2026-10-${String(random.int(1, 28)).padStart(2, "0")}T${String(random.int(0, 23)).padStart(2, "0")}:${String(random.int(10, 59))}:${String(random.int(10, 59))}.${random.int(100, 999)}Z ${level} [${identifier(random)}] ${sentence(random)} (#${lineNumber})`;
}

function grepLine(random) {
  return `${filePath(random)}:${random.int(1, 900)}:${codeLine(random).trim()}`;
}

/** Tool output of about `bytes` characters, shaped like what the named tool prints. */
export function toolOutput(random, toolName, bytes) {
  const lines = [];
  let length = 0;
  while (length < bytes) {
    const line =
      toolName === "read_file"
        ? codeLine(random)
        : toolName === "search_files"
          ? grepLine(random)
          : toolName === "list_dir"
            ? filePath(random)
            : logLine(random, lines.length + 1);
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join("\n");
}

/** Arguments the CLI's tools take, as the JSON string OpenAI-style tool calls carry. */
export function toolArguments(random, toolName) {
  switch (toolName) {
    case "read_file":
      return JSON.stringify({ path: filePath(random) });
    case "search_files":
      return JSON.stringify({ pattern: random.pick(WORDS.slice(30)), path: random.pick(FILE_PARTS) });
    case "list_dir":
      return JSON.stringify({ path: random.pick(FILE_PARTS), recursive: random.chance(0.3) });
    case "edit_file":
      return JSON.stringify({ path: filePath(random), old_string: codeLine(random), new_string: codeLine(random) });
    default:
      return JSON.stringify({ command: `npm ${random.pick(["test", "run build", "run lint", "install"])}`, timeout_ms: 120000 });
  }
}

export function codeBlock(random) {
  const lines = Array.from({ length: random.int(3, 14) }, () => codeLine(random));
  return `\`\`\`ts\n${lines.join("\n")}\n\`\`\``;
}
