import { parseInstant } from "../time.js";

/**
 * The query language of both search routes (API-CONTRACT.md, "The query language"): whitespace-separated
 * terms that must all match, "quoted phrases", -exclusions and operators. Parsing is pure and never throws;
 * what the contract calls an invalid q comes back as `{ ok: false, message }` for a `400 invalid_parameter`.
 */

export type Role = "user" | "assistant" | "tool";

/** A word or sequence to find, folded (foldText). */
export interface Term {
  kind: "term";
  text: string;
  /**
   * prefix: letters and digits, under 3 characters: the start of a word.
   * infix: letters and digits, 3 or more characters: anywhere inside words (`textof` in `searchTextOf`).
   * sequence: holds other characters (`src/index.ts`): that exact sequence wherever it occurs.
   */
  match: "prefix" | "infix" | "sequence";
  /** 5 or more letters and nothing else: also matches a word one typo away, ranked below exact matches. */
  typos: boolean;
}

/** Consecutive words in this order, folded. */
export interface Phrase {
  kind: "phrase";
  words: string[];
}

export type Match = Term | Phrase;

/** What the operators narrow the set to; every one given must hold (a repeated operator too). */
export interface Filters {
  /** model:X, substrings of the model, as the list's `model`. */
  model: string[];
  /** tag:X, tags the session carries, ignoring case. */
  tag: string[];
  /** cwd:X, substrings of the working directory, as the list's `cwd`. */
  cwd: string[];
  /** session:ID, the one session. */
  session: string[];
  /** since:DATE, epoch milliseconds: `updated` at or after it (the latest of several). */
  since: number | null;
  /** until:DATE, epoch milliseconds: `updated` before it (the earliest of several). */
  until: number | null;
  /** role:X, only messages of that role count. */
  role: Role | null;
  /** in:tools (or role:tool): tool-call names and arguments and tool outputs are searched too. */
  inTools: boolean;
}

export interface Query {
  /** Every one must match (AND), in any searched field. */
  include: Match[];
  /** A session matching any one of these is left out. */
  exclude: Match[];
  filters: Filters;
}

export type ParsedQuery = { ok: true; query: Query } | { ok: false; message: string };

/**
 * The form both the index and the query are matched in: no case, no accents. NFKD splits accents
 * (and compatibility forms: `ﬁ`, full-width letters) from their letters, the marks go, NFC puts back
 * what was not an accent (Hangul syllables); a final sigma is a sigma.
 */
export function foldText(text: string): string {
  // Most text is ASCII, where folding is lower-casing: skip the Unicode passes (several times faster).
  if (isAscii(text)) return text.toLowerCase();
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(LETTERS_WITHOUT_A_MARK, (letter) => PLAIN_FORMS[letter] ?? letter)
    .normalize("NFC");
}

/**
 * Letters a reader takes for a plain one with a mark, but which Unicode does not split into letter
 * and mark, so NFKD leaves them: `lodz` finds `Łódź`, `smorrebrod` `smørrebrød`, `strasse` `Straße`;
 * and a final sigma is a sigma. (Lower case, as they are met after toLowerCase.)
 */
const PLAIN_FORMS: Record<string, string> = { ł: "l", ø: "o", đ: "d", ħ: "h", ı: "i", ß: "ss", æ: "ae", œ: "oe", þ: "th", ς: "σ" };
const LETTERS_WITHOUT_A_MARK = new RegExp(`[${Object.keys(PLAIN_FORMS).join("")}]`, "gu");

// biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is every code from 0 to 127, controls included
const ASCII = /^[\x00-\x7f]*$/;

export function isAscii(text: string): boolean {
  return ASCII.test(text);
}

/** The words of a folded text: runs of letters and digits; anything else separates them. */
export function wordsOf(folded: string): string[] {
  return folded.split(/[^\p{L}\p{N}]+/u).filter((word) => word !== "");
}

type OperatorName = "model" | "tag" | "cwd" | "since" | "until" | "session" | "role" | "in";
const OPERATORS: readonly OperatorName[] = ["model", "tag", "cwd", "since", "until", "session", "role", "in"];
const ROLES: readonly Role[] = ["user", "assistant", "tool"];
// Control characters and lone surrogates mean nothing in a query: they separate terms, as whitespace does.
const SEPARATOR = /[\s\p{Cc}\p{Cs}]/u;
// Typographic quotes too: phones and word processors turn " into them.
const QUOTE = /["\u201c\u201d\u201e]/u;

/** Parses q (as the route received it) into what to match, what to leave out and the operators' filters. */
export function parseQuery(q: string): ParsedQuery {
  const query: Query = {
    include: [],
    exclude: [],
    filters: { model: [], tag: [], cwd: [], session: [], since: null, until: null, role: null, inTools: false },
  };
  let operators = 0;
  for (const token of tokenize(q)) {
    const excluded = token.text.startsWith("-");
    const text = excluded ? token.text.slice(1) : token.text;
    const colon = text.indexOf(":");
    const name = OPERATORS.find((operator) => colon > 0 && operator === text.slice(0, colon).toLowerCase());
    let quoted = token.quoted;
    if (name) {
      if (excluded) return invalid(`an operator cannot be excluded (-${name}:): leave out the - or quote the text`);
      let value = text.slice(colon + 1);
      // `cwd:"My Projects"`: the quote right after the colon is the value.
      if (value === "" && quoted !== undefined) [value, quoted] = [quoted, undefined];
      const failure = applyOperator(query.filters, name, value.trim());
      if (failure) return invalid(failure);
      operators++;
    } else {
      const term = toTerm(text);
      if (term) (excluded ? query.exclude : query.include).push(term);
    }
    // A quote right after other text (`-"dry run"`, `http:"x"`, `tag:x"y z"`) is a phrase of its own, excluded with the token.
    const phrase = quoted === undefined ? null : toPhrase(quoted);
    if (phrase) (excluded ? query.exclude : query.include).push(phrase);
  }
  if (query.include.length === 0 && operators === 0) {
    return invalid("q must hold a word, a phrase or an operator to search for (exclusions alone match nothing)");
  }
  return { ok: true, query };
}

function invalid(message: string): ParsedQuery {
  return { ok: false, message };
}

/** A whitespace-separated piece of q, with the quoted text that follows it directly, if any (`-"dry run"`, `cwd:"a b"`). */
interface Token {
  text: string;
  quoted?: string;
}

/** Splits q at separators; a quote runs to the next quote, or to the end of q when it has none. */
function* tokenize(q: string): Generator<Token> {
  let text = "";
  let quoted: string | null = null;
  for (const character of q) {
    if (quoted !== null) {
      if (QUOTE.test(character)) {
        yield { text, quoted };
        text = "";
        quoted = null;
      } else quoted += character;
    } else if (QUOTE.test(character)) quoted = "";
    else if (SEPARATOR.test(character)) {
      if (text) yield { text };
      text = "";
    } else text += character;
  }
  if (quoted !== null) yield { text, quoted };
  else if (text) yield { text };
}

function toTerm(text: string): Term | null {
  const folded = foldText(text);
  if (folded === "") return null; // only marks, or the bare - of an exclusion
  if (!/^[\p{L}\p{N}]+$/u.test(folded)) return { kind: "term", text: folded, match: "sequence", typos: false };
  const length = [...folded].length;
  return { kind: "term", text: folded, match: length < 3 ? "prefix" : "infix", typos: length >= 5 && /^\p{L}+$/u.test(folded) };
}

function toPhrase(quoted: string): Phrase | null {
  const words = wordsOf(foldText(quoted));
  return words.length === 0 ? null : { kind: "phrase", words };
}

/** Adds one operator to the filters, or says why its value is not one it takes. */
function applyOperator(filters: Filters, name: OperatorName, value: string): string | null {
  if (value === "") return `${name}: needs a value, e.g. ${EXAMPLES[name]}`;
  switch (name) {
    case "model":
    case "tag":
    case "cwd":
    case "session":
      filters[name].push(value);
      return null;
    case "since":
    case "until": {
      const instant = parseInstant(value);
      if (instant === null) return `${name}: must be an ISO 8601 date or date-time, e.g. ${EXAMPLES[name]}`;
      const current = filters[name];
      if (current === null) filters[name] = instant;
      else filters[name] = name === "since" ? Math.max(current, instant) : Math.min(current, instant);
      return null;
    }
    case "role": {
      const role = ROLES.find((known) => known === value.toLowerCase());
      if (!role) return `role: must be user, assistant or tool, e.g. ${EXAMPLES.role}`;
      if (filters.role !== null && filters.role !== role) return `role: is given twice (${filters.role}, ${role}): a message has one role`;
      filters.role = role;
      if (role === "tool") filters.inTools = true;
      return null;
    }
    case "in":
      if (value.toLowerCase() !== "tools") return `in: takes only tools (in:tools)`;
      filters.inTools = true;
      return null;
  }
}

const EXAMPLES: Record<OperatorName, string> = {
  model: "model:qwen",
  tag: "tag:bugfix",
  cwd: "cwd:opta-lmx",
  session: "session:V1StGXR8_Z5j",
  since: "since:2026-07-01",
  until: "until:2026-07-01T12:00:00Z",
  role: "role:user",
  in: "in:tools",
};
