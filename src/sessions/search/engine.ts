import type { LoadedSession } from "../loader.js";
import { COLUMNS, type Column, GAP, MAX_TYPO_WORD_LENGTH, type SearchDocument } from "./document.js";
import { type Hit, hitOf, matcherOf, type ScoredUnit, scoreSession, type UnitRow } from "./matching.js";
import { foldText, type Match, type Query, wordsOf } from "./query.js";
import { type SqlDatabase, type SqlStatement, type SqlValue, statement } from "./sql.js";

/**
 * The search index: one SQL schema (SQLite on Node, D1 on the Worker). search_fts, an FTS5 table with
 * the trigram tokenizer over each session's text in indexedWords form, finds candidates and gives
 * them a first BM25 rank; search_text keeps each unit's text, so the best candidates are confirmed,
 * scored and given hits in code (matching.ts); search_vocab lists the words a typo may mean.
 */

/** search_fts's columns; the tools column has a table of its own (search_tools). */
const TEXT_COLUMNS = COLUMNS.filter((column) => column !== "tools");

// 4: text folded with PLAIN_FORMS (query.ts); a changed fold or layout means the index is built again once
const SCHEMA_VERSION = "4";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  `CREATE TABLE IF NOT EXISTS search_sessions (
     rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stamp TEXT NOT NULL, time REAL,
     model TEXT NOT NULL, cwd TEXT NOT NULL, tags TEXT NOT NULL, tags_folded TEXT NOT NULL, cut INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS search_text (
     session INTEGER NOT NULL, seq INTEGER NOT NULL, field TEXT NOT NULL, message_index INTEGER, role TEXT,
     tools INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (session, seq)) WITHOUT ROWID`,
  `CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(${TEXT_COLUMNS.join(", ")},
     content='', contentless_delete=1, tokenize='trigram case_sensitive 1')`,
  // Tool calls and outputs apart: most of the text, searched only with in:tools, never slowing the default search.
  `CREATE VIRTUAL TABLE IF NOT EXISTS search_tools USING fts5(tools,
     content='', contentless_delete=1, tokenize='trigram case_sensitive 1')`,
  "CREATE TABLE IF NOT EXISTS search_vocab (word TEXT PRIMARY KEY) WITHOUT ROWID",
];
const TABLES = ["search_sessions", "search_text", "search_fts", "search_tools", "search_vocab", "search_meta"];

/** bm25's weight of each of search_fts's columns: the first rank only; code decides the final order. */
const BM25_WEIGHTS = "4.0, 1.5, 1.0";

/** What the filters read of a session: the listing's own values. */
export interface IndexedSession {
  document: SearchDocument;
  /** The file's stamp when read: a session whose stamp is unchanged is not indexed again. */
  stamp: string;
  /** `updated` if it is an instant, else `created` if it is; null sorts last. */
  time: number | null;
  model: string | null;
  cwd: string;
  tags: string[];
}

/** What the index keeps of a session the loader read with its search document (null: read without one). */
export function indexedSessionOf(session: LoadedSession, stamp: string): IndexedSession | null {
  if (session.search === undefined) return null;
  return { document: session.search, stamp, time: session.time, model: session.summary.model, cwd: session.cwd, tags: session.summary.tags };
}

/** The list's filters (query parameters) a search also takes. */
export interface SearchFilters {
  model?: string;
  tag?: string;
  since?: number;
  until?: number;
  cwd?: string;
}

export interface SearchRequest {
  query: Query;
  filters: SearchFilters;
  sort: "relevance" | "recent";
  limit: number;
  offset: number;
  /** The most hits to report per session; 0 skips them (the compat route). */
  hits: number;
  /** Count every match (GET /admin/search's `total`); the compat route sends no total and skips counting. */
  total: boolean;
  now: number;
}

export interface SearchResult {
  id: string;
  score: number;
  hits: Hit[];
}

export interface SearchAnswer {
  results: SearchResult[];
  /** Every matching session, when asked for; else null. */
  total: number | null;
}

/**
 * Candidates confirmed one by one in code at most, best first (or newest first, when the index has
 * nothing to look up: a term of punctuation alone, `--`). Past this, answers and `total` cover these.
 */
const MAX_CONFIRMED = 5000;

const MAX_ANSWERS = 64;
const ANSWER_MAX_AGE_MS = 60_000;

/** How far recency lifts a score: a session updated now counts up to this much more than a very old one. */
const RECENCY_BOOST = 0.2;
const RECENCY_HALF_LIFE_MS = 30 * 24 * 3600 * 1000;

export class SearchEngine {
  readonly #db: SqlDatabase;
  /** Each indexed session's stamp, by id: what catch-up compares the listing with. */
  readonly #stamps: Map<string, string>;
  /**
   * Answers already given, by request, until the index changes (or a minute passes, as recency moves
   * scores): a dashboard asks the same search again and again while nothing changes.
   */
  #answers = new Map<string, { at: number; answer: Promise<SearchAnswer> }>();
  /**
   * Sessions whose text is longer than a value the database takes (D1: 2 MB), so search_fts holds only
   * its start: every search confirms them in code, from search_text, which holds all of it.
   */
  readonly #cut: Set<string>;

  private constructor(db: SqlDatabase, stamps: Map<string, string>, cut: Set<string>) {
    this.#db = db;
    this.#stamps = stamps;
    this.#cut = cut;
  }

  /** Opens (creating, or rebuilding when its schema is older) the index in this database. */
  static async open(db: SqlDatabase): Promise<SearchEngine> {
    await db.batch(SCHEMA.map((sql) => statement(sql)));
    const version = await db.all<{ value: string }>("SELECT value FROM search_meta WHERE key = 'schema'");
    if (version[0]?.value !== SCHEMA_VERSION) {
      await db.batch([
        ...TABLES.map((table) => statement(`DROP TABLE IF EXISTS ${table}`)),
        ...SCHEMA.map((sql) => statement(sql)),
        statement("INSERT INTO search_meta (key, value) VALUES ('schema', ?)", SCHEMA_VERSION),
      ]);
    }
    const rows = await db.all<{ id: string; stamp: string; cut: number }>("SELECT id, stamp, cut FROM search_sessions");
    const cut = new Set(rows.filter((row) => row.cut === 1).map((row) => row.id));
    return new SearchEngine(db, new Map(rows.map((row) => [row.id, row.stamp])), cut);
  }

  close(): void {
    this.#db.close?.();
  }

  /** The stamp a session was indexed at, if it is indexed. */
  stampOf(id: string): string | undefined {
    return this.#stamps.get(id);
  }

  /** Every indexed session's id. */
  ids(): IterableIterator<string> {
    return this.#stamps.keys();
  }

  get size(): number {
    return this.#stamps.size;
  }

  /** Indexes these sessions (replacing what was indexed of them) in one transaction. */
  async put(sessions: readonly IndexedSession[]): Promise<void> {
    if (sessions.length === 0) return;
    await this.#db.batch(sessions.flatMap((session) => putStatements(session, this.#db.maxTextLength)));
    for (const { document, stamp } of sessions) this.noteIndexed(document.id, stamp, isCut(document, this.#db.maxTextLength));
  }

  /** A session written into the index, here (put) or elsewhere (a worker thread's own connection, on Node): searchable at this stamp; remembered answers go. */
  noteIndexed(id: string, stamp: string, cut: boolean): void {
    this.#answers.clear();
    this.#stamps.set(id, stamp);
    if (cut) this.#cut.add(id);
    else this.#cut.delete(id);
  }

  /** Leaves these sessions out of the index. */
  async remove(ids: readonly string[]): Promise<void> {
    const known = ids.filter((id) => this.#stamps.has(id));
    if (known.length === 0) return;
    await this.#db.batch(known.flatMap((id) => removeStatements(id)));
    this.#answers.clear(); // after the write: an answer a search made meanwhile is not kept
    for (const id of known) {
      this.#stamps.delete(id);
      this.#cut.delete(id);
    }
  }

  /** The sessions matching a query, ranked, one page of them, with hits when asked. */
  search(request: SearchRequest): Promise<SearchAnswer> {
    const { now, ...asked } = request;
    const key = JSON.stringify(asked);
    const known = this.#answers.get(key);
    if (known && now - known.at < ANSWER_MAX_AGE_MS) return known.answer;
    const answer = this.#search(request);
    if (this.#answers.size >= MAX_ANSWERS) this.#answers.clear();
    this.#answers.set(key, { at: now, answer });
    answer.catch(() => this.#answers.delete(key));
    return answer;
  }

  async #search(request: SearchRequest): Promise<SearchAnswer> {
    const { query } = request;
    const typos = await this.#typosOf(query.include);
    const plan = planOf(query, typos);
    const includes = query.include.map((match, i) => matcherOf(match, typos[i]));
    const excludes = query.exclude.map((match) => matcherOf(match));
    const where = filterSql(query, request.filters);
    const wanted = request.offset + request.limit;
    // Exact plans: the index alone says which sessions match and counts them; only the best few are read again.
    // Others (an exact sequence with punctuation, a role the columns mix): each candidate is confirmed in code.
    const confirmAll = !plan.exact;
    const recent = request.sort === "recent";
    const take = confirmAll ? MAX_CONFIRMED : recent ? wanted : Math.max(100, 2 * wanted);
    const counted = request.total && !confirmAll;
    const candidates = await this.#candidates(plan, where, recent, take, request.now, counted);
    const matches = candidates[0]?.matches ?? 0;
    // a session the full-text index holds only the start of may match past it: always a candidate
    const listed = new Set(candidates.map((candidate) => candidate.id));
    if ((plan.match !== null || plan.tools !== null) && this.#cut.size > 0) {
      const cut = await this.#db.all<{ id: string; time: number | null }>(
        `SELECT s.id, s.time FROM search_sessions s WHERE s.cut = 1 AND ${where.sql}`,
        where.params,
      );
      candidates.push(...cut.filter((candidate) => !listed.has(candidate.id)));
    }
    const scored: { id: string; time: number | null; score: number; best: ScoredUnit[] }[] = [];
    for (let at = 0; at < candidates.length; at += 200) {
      const batch = candidates.slice(at, at + 200);
      const units = await this.#unitsOf(
        batch.map((c) => c.id),
        query.filters.inTools,
      );
      for (const candidate of batch) {
        const result = scoreSession(query, includes, excludes, units.get(candidate.id) ?? []);
        if (result === null) continue;
        const recency = candidate.time === null ? 0 : 1 / (1 + Math.max(0, request.now - candidate.time) / RECENCY_HALF_LIFE_MS);
        const score = result.relevance * (1 + RECENCY_BOOST * recency);
        scored.push({ id: candidate.id, time: candidate.time, score, best: result.units.slice(0, request.hits) });
      }
    }
    scored.sort((a, b) => (recent ? 0 : b.score - a.score) || compareListOrder(a, b));
    // the index counts the sessions it holds whole; the others were all confirmed above
    const cutFound = plan.match === null && plan.tools === null ? 0 : scored.filter((result) => this.#cut.has(result.id)).length;
    const total = !request.total ? null : confirmAll ? scored.length : matches + cutFound;
    const page = scored.slice(request.offset, wanted);
    // Hits (snippets, highlights) only for the page sent
    return { results: page.map(({ id, score, best }) => ({ id, score: Math.round(score * 1000) / 1000, hits: best.map(hitOf) })), total };
  }

  /** The index's words one typo from each term that takes typos. */
  async #typosOf(matches: readonly Match[]): Promise<string[][]> {
    return Promise.all(
      matches.map(async (match) => {
        // a term longer than any indexed word but one has no word one edit away (and its edits are megabytes: over D1's 2 MB a value)
        if (match.kind !== "term" || !match.typos || [...match.text].length > MAX_TYPO_WORD_LENGTH + 1) return [];
        const rows = await this.#db.all<{ word: string }>("SELECT word FROM search_vocab WHERE word IN (SELECT value FROM json_each(?))", [
          JSON.stringify(editsOf(match.text)),
        ]);
        return rows.map((row) => row.word);
      }),
    );
  }

  /**
   * The first `take` candidates in rank (or list) order; `counted`: each row also carries how many rows
   * match in all (a window over the same pass, so the total costs no second walk of the index).
   */
  async #candidates(
    plan: Plan,
    where: Where,
    recent: boolean,
    take: number,
    now: number,
    counted: boolean,
  ): Promise<{ id: string; time: number | null; matches?: number }[]> {
    const listOrder = "s.time IS NULL, s.time DESC, s.id";
    const limit = ` LIMIT ${take}`;
    if (plan.tools !== null) {
      // in:tools: either table's sessions, newest first; each is confirmed and scored in code
      const sources = [
        ...(plan.match === null ? [] : ["SELECT rowid FROM search_fts WHERE search_fts MATCH ?"]),
        "SELECT rowid FROM search_tools WHERE search_tools MATCH ?",
      ];
      return this.#db.all(
        `SELECT s.id, s.time FROM search_sessions s WHERE s.rowid IN (${sources.join(" UNION ")}) AND ${where.sql} ORDER BY ${listOrder}${limit}`,
        [...(plan.match === null ? [] : [plan.match]), plan.tools, ...where.params],
      );
    }
    if (plan.match === null) {
      const columns = `s.id, s.time${counted ? ", count(*) OVER () AS matches" : ""}`;
      return this.#db.all(`SELECT ${columns} FROM search_sessions s WHERE ${where.sql} ORDER BY ${listOrder}${limit}`, where.params);
    }
    // bm25() only works right beside its MATCH: ranked in an inner query, counted and cut in the outer one.
    const rank = recent
      ? "0"
      : `-bm25(search_fts, ${BM25_WEIGHTS}) * (1 + ${RECENCY_BOOST} / (1 + max(0, ? - coalesce(s.time, -1e15)) / ${RECENCY_HALF_LIFE_MS}))`;
    return this.#db.all(
      // (matches counts the sessions the index holds whole: a cut one is confirmed and counted in code)
      `SELECT id, time${counted ? ", sum(1 - cut) OVER () AS matches" : ""} FROM (
         SELECT s.id AS id, s.time AS time, s.cut AS cut, ${rank} AS rank FROM search_fts JOIN search_sessions s ON s.rowid = search_fts.rowid
         WHERE search_fts MATCH ? AND ${where.sql})
       ORDER BY rank DESC, time IS NULL, time DESC, id${limit}`,
      [...(recent ? [] : [now]), plan.match, ...where.params],
    );
  }

  /** The units of these sessions (tool units only when in:tools asks), in order. */
  async #unitsOf(ids: readonly string[], inTools: boolean): Promise<Map<string, UnitRow[]>> {
    const rows = await this.#db.all<UnitRow & { id: string }>(
      `SELECT s.id, t.field, t.message_index, t.role, t.tools, t.text FROM search_text t JOIN search_sessions s ON s.rowid = t.session
       WHERE s.id IN (SELECT value FROM json_each(?))${inTools ? "" : " AND t.tools = 0"} ORDER BY t.session, t.seq`,
      [JSON.stringify(ids)],
    );
    const units = new Map<string, UnitRow[]>();
    for (const row of rows) {
      const list = units.get(row.id);
      if (list === undefined) units.set(row.id, [row]);
      else list.push(row);
    }
    return units;
  }
}

/** The session's text is longer than one value the database takes: the full-text index holds only its start. */
export function isCut(document: SearchDocument, maxTextLength: number): boolean {
  return COLUMNS.some((column) => document.columns[column].length > maxTextLength);
}

/** The statements that (re)index one session, replacing whatever the index held of it: one transaction's worth. */
export function putStatements(session: IndexedSession, maxTextLength: number): SqlStatement[] {
  const { id, units, columns, vocabulary } = session.document;
  const max = maxTextLength;
  const rowid = "(SELECT rowid FROM search_sessions WHERE id = ?)";
  const statements = [
    ...removeStatements(id).slice(0, 3), // all but the search_sessions row, which the upsert below keeps
    statement(
      `INSERT INTO search_sessions (id, stamp, time, model, cwd, tags, tags_folded, cut) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp, time = excluded.time, model = excluded.model,
       cwd = excluded.cwd, tags = excluded.tags, tags_folded = excluded.tags_folded, cut = excluded.cut`,
      id,
      session.stamp,
      session.time,
      (session.model ?? "").toLowerCase(),
      session.cwd.toLowerCase(),
      JSON.stringify(session.tags),
      JSON.stringify(session.tags.map((tag) => tag.toLowerCase())),
      isCut(session.document, max) ? 1 : 0,
    ),
  ];
  // The units go in as JSON arrays, a bounded number of characters at a time (D1 caps a value's size).
  let chunk: unknown[][] = [];
  let chunkLength = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    statements.push(
      statement(
        `INSERT INTO search_text (session, seq, field, message_index, role, tools, text)
         SELECT ${rowid}, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?)`,
        id,
        JSON.stringify(chunk),
      ),
    );
    chunk = [];
    chunkLength = 0;
  };
  const budget = Math.min(max / 2, 512 * 1024);
  units.forEach((unit, seq) => {
    const text = cut(unit.text, budget);
    if (chunkLength + text.length > budget) flush();
    chunk.push([seq, unit.field, unit.messageIndex, unit.role, unit.tools ? 1 : 0, text]);
    chunkLength += text.length + 32;
  });
  flush();
  const values = TEXT_COLUMNS.map((column) => cut(columns[column], max));
  statements.push(statement(`INSERT INTO search_fts (rowid, ${TEXT_COLUMNS.join(", ")}) VALUES (${rowid}, ?, ?, ?)`, id, ...values));
  if (columns.tools !== "") statements.push(statement(`INSERT INTO search_tools (rowid, tools) VALUES (${rowid}, ?)`, id, cut(columns.tools, max)));
  for (let at = 0; at < vocabulary.length; at += 2000) {
    statements.push(statement("INSERT OR IGNORE INTO search_vocab (word) SELECT value FROM json_each(?)", JSON.stringify(vocabulary.slice(at, at + 2000))));
  }
  return statements;
}

function removeStatements(id: string): SqlStatement[] {
  const rowid = "(SELECT rowid FROM search_sessions WHERE id = ?)";
  return [
    statement(`DELETE FROM search_fts WHERE rowid = ${rowid}`, id),
    statement(`DELETE FROM search_tools WHERE rowid = ${rowid}`, id),
    statement(`DELETE FROM search_text WHERE session = ${rowid}`, id),
    statement("DELETE FROM search_sessions WHERE id = ?", id),
  ];
}

/** Cuts a text to at most `max` UTF-16 code units, at a space where it can. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const space = text.lastIndexOf(" ", max);
  return text.slice(0, space > max / 2 ? space : max);
}

function compareListOrder(a: { id: string; time: number | null }, b: { id: string; time: number | null }): number {
  if (a.time !== b.time) {
    if (a.time === null) return 1;
    if (b.time === null) return -1;
    return b.time - a.time;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

interface Where {
  sql: string;
  params: SqlValue[];
}

/** The filters as SQL over search_sessions (alias s): the query parameters and the operators alike. */
function filterSql(query: Query, filters: SearchFilters): Where {
  const clauses: string[] = ["1"];
  const params: SqlValue[] = [];
  const add = (sql: string, ...values: SqlValue[]) => {
    clauses.push(sql);
    params.push(...values);
  };
  const f = query.filters;
  for (const model of [filters.model, ...f.model]) if (model !== undefined) add("instr(s.model, ?) > 0", model.toLowerCase());
  for (const cwd of [filters.cwd, ...f.cwd]) if (cwd !== undefined) add("instr(s.cwd, ?) > 0", cwd.toLowerCase());
  if (filters.tag !== undefined) add("EXISTS (SELECT 1 FROM json_each(s.tags) WHERE value = ?)", filters.tag);
  for (const tag of f.tag) add("EXISTS (SELECT 1 FROM json_each(s.tags_folded) WHERE value = ?)", tag.toLowerCase());
  for (const id of f.session) add("s.id = ?", id);
  for (const since of [filters.since, f.since ?? undefined]) if (since !== undefined) add("s.time >= ?", since);
  for (const until of [filters.until, f.until ?? undefined]) if (until !== undefined) add("s.time < ?", until);
  return { sql: clauses.join(" AND "), params };
}

interface Plan {
  /** The FTS5 expression over search_fts that finds the candidates, or null: every session the filters pass is one (unless `tools`). */
  match: string | null;
  /** With in:tools or role:tool, search_tools's expression: its sessions are candidates too (confirmed in code). */
  tools: string | null;
  /** The expression matches exactly the sessions the query does: no candidate needs confirming to count. */
  exact: boolean;
}

/**
 * The FTS5 expression of a query over indexedWords text, where words are apart by two spaces:
 * "textof" anywhere, "  ab" at a word's start, "  ring  buffer  " as whole words in order, a typo's
 * words whole. An exact sequence with punctuation (`src/index.ts`) looks for its words in order, and
 * is confirmed in code; so is a role the columns mix (role:tool; role:assistant with in:tools).
 */
function planOf(query: Query, typos: readonly string[][]): Plan {
  const { role, inTools } = query.filters;
  const columns = columnsOf(query);
  const withTools = inTools || role === "tool";
  // tool text is in a table of its own: a session matching across both is found by either and confirmed in code
  let exact = !withTools;
  const includes: string[] = [];
  query.include.forEach((match, i) => {
    const found = expressionOf(match, typos[i] ?? []);
    if (!found.exact) exact = false;
    if (found.expression !== null) includes.push(found.expression);
  });
  const excludes: string[] = [];
  for (const match of query.exclude) {
    const found = expressionOf(match, []);
    // an exclusion the index cannot say exactly is left to code: excluding more would drop real matches
    if (found.exact && found.expression !== null && !withTools) excludes.push(found.expression);
    else exact = false;
  }
  if (includes.length === 0) return { match: null, tools: null, exact: exact && query.include.length === 0 && excludes.length === 0 };
  // role:tool: every term in tool text; in:tools: any term there may complete a session the other columns half match
  const tools = withTools ? `(${includes.join(role === "tool" ? " AND " : " OR ")})` : null;
  if (columns.length === 0) return { match: null, tools, exact };
  let match = `{${columns.join(" ")}} : (${includes.join(" AND ")})`;
  if (excludes.length > 0) match += ` NOT {${columns.join(" ")}} : (${excludes.join(" OR ")})`;
  return { match, tools, exact };
}

/** One match as FTS5 text, and whether it finds exactly what the match does. */
function expressionOf(match: Match, typos: readonly string[]): { expression: string | null; exact: boolean } {
  let text: string;
  let exact = true;
  if (match.kind === "phrase") text = `${GAP}${match.words.join(GAP)}${GAP}`;
  else if (match.match === "infix") text = match.text;
  else if (match.match === "prefix") text = `${GAP}${match.text}`;
  else {
    exact = false;
    text = wordsOf(match.text).join(GAP);
  }
  // the trigram tokenizer needs three characters to look anything up
  if ([...text].length < 3) return { expression: null, exact: false };
  const alternatives = [text, ...typos.map((word) => `${GAP}${word}${GAP}`)].map((alternative) => `"${alternative}"`).join(" OR ");
  return { expression: typos.length === 0 ? alternatives : `(${alternatives})`, exact };
}

/** The columns of search_fts a query searches (tool text, in search_tools, aside): role: decides. */
function columnsOf(query: Query): Column[] {
  const { role } = query.filters;
  if (role === "user") return ["user"];
  if (role === "assistant") return ["assistant"];
  if (role === "tool") return [];
  return ["meta", "user", "assistant"];
}

/** Every string one edit from a word (a letter inserted, deleted, replaced, or two swapped), over alphabetOf(word). */
function editsOf(word: string): string[] {
  const letters = alphabetOf(word);
  const chars = [...word];
  const edits = new Set<string>();
  for (let i = 0; i <= chars.length; i++) {
    const head = chars.slice(0, i).join("");
    const tail = chars.slice(i).join("");
    for (const letter of letters) edits.add(head + letter + tail);
    if (i < chars.length) {
      const rest = chars.slice(i + 1).join("");
      edits.add(head + rest);
      for (const letter of letters) edits.add(head + letter + rest);
      if (i + 1 < chars.length) edits.add(head + chars[i + 1] + chars[i] + chars.slice(i + 2).join(""));
    }
  }
  edits.delete(word);
  return [...edits];
}

/**
 * The letters a typo may bring into a word: a-z, the word's own, and the folded letters of the
 * 128-character block of Unicode most of its other letters are in (Cyrillic, Greek, ...), so `приват`
 * reaches `привет`. One block: a word is in one script, and each block more multiplies the edits.
 */
function alphabetOf(word: string): string[] {
  const letters = new Set([..."abcdefghijklmnopqrstuvwxyz", ...word]);
  const counts = new Map<number, number>();
  for (const letter of word) {
    const block = (letter.codePointAt(0) ?? 0) >> 7;
    if (block > 0) counts.set(block, (counts.get(block) ?? 0) + 1);
  }
  const [block] = [...counts].reduce<[number, number]>((best, entry) => (entry[1] > best[1] ? entry : best), [0, 0]);
  if (block > 0) {
    for (let code = block << 7; code < (block + 1) << 7; code++) {
      const letter = String.fromCodePoint(code);
      if (/^\p{L}$/u.test(letter) && foldText(letter) === letter) letters.add(letter);
    }
  }
  return [...letters];
}
