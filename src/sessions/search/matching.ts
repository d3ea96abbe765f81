import type { Field } from "./document.js";
import { foldText, isAscii, type Match, type Query } from "./query.js";

/**
 * How search decides, in code, whether a session matches and how well: the exact rules of the
 * query language over each unit of text. The full-text index finds the candidates; this confirms
 * them, scores them and finds the hits. The README's "Scoring" section describes these numbers.
 */

/** A matched span of a folded text, with how good a match it is. */
interface Occurrence {
  start: number;
  end: number;
  /** 1: a whole word, phrase or exact sequence; less: part of a word (0.5), a word's start or end (0.75), a typo (0.35). */
  quality: number;
}

export const QUALITY = { whole: 1, edge: 0.75, part: 0.5, typo: 0.35 } as const;

/** How much a hit in each place counts: names above the user's words above the assistant's above tool text. */
export const FIELD_WEIGHTS = { id: 3, title: 3, tags: 3, model: 1.5, user: 1.4, assistant: 1, tools: 0.6 } as const;

/** One unit of a candidate session's text, as the index stores it. */
export interface UnitRow {
  field: Field;
  message_index: number | null;
  role: string | null;
  tools: number;
  text: string;
}

/** A unit the query may look at: role: and in:tools decide. */
export function eligible(query: Query, unit: UnitRow): boolean {
  const { role, inTools } = query.filters;
  if (unit.tools && !inTools) return false;
  if (role === null) return true;
  if (unit.field !== "message" || unit.role !== role) return false;
  return role !== "tool" || unit.tools === 1;
}

export function weightOf(unit: UnitRow): number {
  if (unit.field !== "message") return FIELD_WEIGHTS[unit.field];
  if (unit.tools) return FIELD_WEIGHTS.tools;
  return unit.role === "user" ? FIELD_WEIGHTS.user : FIELD_WEIGHTS.assistant;
}

const WORD_CHAR = /[\p{L}\p{N}]/u;

function isWordAt(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return false;
  const code = text.codePointAt(index) ?? 0;
  // the low half of a pair: look at the whole character it ends
  if (code >= 0xdc00 && code <= 0xdfff && index > 0) return WORD_CHAR.test(String.fromCodePoint(text.codePointAt(index - 1) ?? 0));
  return WORD_CHAR.test(String.fromCodePoint(code));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Finds one query match in folded text. */
export type Matcher = (folded: string) => Occurrence[];

/** The matcher of one term or phrase; `typos`: the index's words one edit from the term (ranked below it). */
export function matcherOf(match: Match, typos: readonly string[] = []): Matcher {
  if (match.kind === "phrase") {
    const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${match.words.map(escapeRegExp).join("[^\\p{L}\\p{N}]+")}(?![\\p{L}\\p{N}])`, "gu");
    return (folded) => [...folded.matchAll(pattern)].map((m) => ({ start: m.index, end: m.index + m[0].length, quality: QUALITY.whole }));
  }
  const { text } = match;
  const typoPattern = typos.length === 0 ? null : new RegExp(`(?<![\\p{L}\\p{N}])(?:${typos.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}])`, "gu");
  return (folded) => {
    const found: Occurrence[] = [];
    for (let at = folded.indexOf(text); at !== -1; at = folded.indexOf(text, at + 1)) {
      const end = at + text.length;
      const startsWord = !isWordAt(folded, at - 1);
      const endsWord = !isWordAt(folded, end);
      if (match.match === "prefix" && !startsWord) continue;
      if (match.match === "sequence") {
        // an edge that is a letter or digit must not run on into more of them (localhost:1234 is not in localhost:12345)
        const clean = (!isWordAt(folded, at) || startsWord) && (!isWordAt(folded, end - 1) || endsWord);
        found.push({ start: at, end, quality: clean ? QUALITY.whole : QUALITY.part });
      } else {
        found.push({ start: at, end, quality: startsWord && endsWord ? QUALITY.whole : startsWord || endsWord ? QUALITY.edge : QUALITY.part });
      }
    }
    if (typoPattern) for (const m of folded.matchAll(typoPattern)) found.push({ start: m.index, end: m.index + m[0].length, quality: QUALITY.typo });
    return found;
  };
}

/** A candidate's text and what it scored. */
export interface ScoredUnit {
  unit: UnitRow;
  folded: string;
  score: number;
  /** every include's occurrences in this unit, for highlights */
  occurrences: Occurrence[];
}

export interface SessionScore {
  /** Relevance before recency: the sum over the query's terms of each one's best place, plus a little for its other places. */
  relevance: number;
  /** Units that matched, best first. */
  units: ScoredUnit[];
}

// An occurrence's worth saturates: a word said ten times is not ten times the match.
function saturated(sum: number): number {
  return (sum * 2) / (sum + 1);
}

/**
 * Whether a session matches (every include somewhere in its eligible units, no exclude anywhere
 * there), and how well: null when it does not. With no include (operators alone) every session
 * that passes the filters matches equally.
 */
export function scoreSession(query: Query, includes: readonly Matcher[], excludes: readonly Matcher[], units: readonly UnitRow[]): SessionScore | null {
  const perTerm = includes.map(() => [] as number[]);
  const scored: ScoredUnit[] = [];
  for (const unit of units) {
    if (!eligible(query, unit)) continue;
    const folded = foldText(unit.text);
    if (excludes.some((matcher) => matcher(folded).length > 0)) return null;
    if (includes.length === 0) continue;
    const weight = weightOf(unit);
    let unitScore = 0;
    const occurrences: Occurrence[] = [];
    includes.forEach((matcher, i) => {
      const found = matcher(folded);
      if (found.length === 0) return;
      const best = Math.max(...found.map((o) => o.quality));
      const score = weight * best * saturated(found.reduce((sum, o) => sum + o.quality, 0) / best);
      perTerm[i]?.push(score);
      unitScore += score;
      occurrences.push(...found);
    });
    if (unitScore > 0) scored.push({ unit, folded, score: unitScore, occurrences });
  }
  if (perTerm.some((scores) => scores.length === 0)) return null;
  let relevance = includes.length === 0 ? 1 : 0;
  for (const scores of perTerm) {
    const best = Math.max(...scores);
    const rest = scores.reduce((sum, s) => sum + s, 0) - best;
    relevance += best + Math.min(0.1 * rest, 0.5 * best);
  }
  scored.sort((a, b) => b.score - a.score || (a.unit.message_index ?? -1) - (b.unit.message_index ?? -1));
  return { relevance, units: scored };
}

export interface Hit {
  field: Field;
  message_index: number | null;
  role: string | null;
  snippet: string;
  highlights: [number, number][];
}

const SNIPPET_LENGTH = 200;
const ELLIPSIS = "…";

/**
 * A hit for one matched unit: at most 200 characters around its best occurrence, `…` where cut,
 * and the [start, end) of every occurrence inside it, in the snippet's UTF-16 indices.
 */
export function hitOf(scored: ScoredUnit): Hit {
  const { unit } = scored;
  const { text, toOriginal } = aligned(unit.text);
  const spans = scored.occurrences
    .map((o) => {
      const [start, end] = toOriginal(o.start, o.end);
      return { start, end, quality: o.quality };
    })
    .sort((a, b) => a.start - b.start);
  const best = spans.reduce((a, b) => (b.quality > a.quality ? b : a), spans[0] ?? { start: 0, end: 0, quality: 0 });
  let start = 0;
  let end = text.length;
  if (text.length > SNIPPET_LENGTH) {
    const room = SNIPPET_LENGTH - 2; // both ellipses
    start = Math.max(0, Math.min(best.start - Math.floor((room - (best.end - best.start)) / 3), text.length - room));
    end = Math.min(text.length, start + room);
    if (start === 0) end = SNIPPET_LENGTH - 1;
    if (end === text.length) start = Math.max(0, text.length - (SNIPPET_LENGTH - 1));
    start = notInsidePair(text, start, 1);
    end = notInsidePair(text, end, -1);
  }
  const before = start > 0 ? ELLIPSIS : "";
  const snippet = before + text.slice(start, end) + (end < text.length ? ELLIPSIS : "");
  const highlights: [number, number][] = [];
  for (const span of spans) {
    const from = Math.max(span.start, start);
    const to = Math.min(span.end, end);
    if (to <= from) continue;
    const shifted: [number, number] = [from - start + before.length, to - start + before.length];
    const last = highlights.at(-1);
    if (last && shifted[0] <= last[1]) last[1] = Math.max(last[1], shifted[1]);
    else highlights.push(shifted);
  }
  return { field: unit.field, message_index: unit.message_index, role: unit.role, snippet, highlights };
}

/** An index moved off the second half of a surrogate pair, in the given direction. */
function notInsidePair(text: string, index: number, direction: 1 | -1): number {
  const code = text.charCodeAt(index);
  return index > 0 && index < text.length && code >= 0xdc00 && code <= 0xdfff ? index + direction : index;
}

// What a reader sees as one character (a letter and its combining accents, a Hangul syllable written as jamo):
// folded alone, a lone mark or jamo folds differently than it does in the text.
const CHARACTERS = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Spans of the folded text mapped back to the original: folding can change a text's length
 * (`ﬁ` becomes `fi`, `İ` loses its dot), so unless the text is ASCII each character is folded alone
 * to learn where each folded character came from.
 */
function aligned(text: string): { text: string; toOriginal: (start: number, end: number) => [number, number] } {
  if (isAscii(text)) return { text, toOriginal: (start, end) => [start, end] };
  const starts: number[] = []; // starts[i], ends[i]: the original character folded index i came from
  const ends: number[] = [];
  let position = 0;
  for (const { segment: character } of CHARACTERS.segment(text)) {
    const piece = foldText(character);
    for (let i = 0; i < piece.length; i++) {
      starts.push(position);
      ends.push(position + character.length);
    }
    position += character.length;
  }
  const last = starts.length - 1;
  return {
    text,
    toOriginal: (start, end) => [starts[Math.min(start, last)] ?? 0, ends[Math.min(end - 1, last)] ?? text.length],
  };
}
