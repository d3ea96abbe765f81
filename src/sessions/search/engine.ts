import type { SessionSummary } from "../../http/schemas.js";
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

// 5: each session's summary and digest (the Worker lists and syncs from here), counters, pending writes
const SCHEMA_VERSION = "5";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  // summary: the session's wire summary (JSON), what a list page sends; sha256: its bytes' digest where known (the Worker's sync manifest)
  `CREATE TABLE IF NOT EXISTS search_sessions (
     rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stamp TEXT NOT NULL, time REAL,
     model TEXT NOT NULL, cwd TEXT NOT NULL, tags TEXT NOT NULL, tags_folded TEXT NOT NULL, cut INTEGER NOT NULL,
     summary TEXT NOT NULL, sha256 TEXT)`,
  // list order, so a page reads its own rows only
  "CREATE INDEX IF NOT EXISTS search_sessions_order ON search_sessions (time IS NULL, time DESC, id)",
  // since and until: a filtered list's total counts the rows in the range only
  "CREATE INDEX IF NOT EXISTS search_sessions_time ON search_sessions (time)",
  "CREATE INDEX IF NOT EXISTS search_sessions_cut ON search_sessions (id) WHERE cut = 1",
  `CREATE TABLE IF NOT EXISTS search_text (
     session INTEGER NOT NULL, seq INTEGER NOT NULL, field TEXT NOT NULL, message_index INTEGER, role TEXT,
     tools INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (session, seq)) WITHOUT ROWID`,
  `CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(${TEXT_COLUMNS.join(", ")},
     content='', contentless_delete=1, tokenize='trigram case_sensitive 1')`,
  // Tool calls and outputs apart: most of the text, searched only with in:tools, never slowing the default search.
  `CREATE VIRTUAL TABLE IF NOT EXISTS search_tools USING fts5(tools,
     content='', contentless_delete=1, tokenize='trigram case_sensitive 1')`,
  "CREATE TABLE IF NOT EXISTS search_vocab (word TEXT PRIMARY KEY) WITHOUT ROWID",
  // Objects in the bucket that are not listable sessions (the Worker's reconcile found them): in the manifest, never listed.
  "CREATE TABLE IF NOT EXISTS search_unlisted (id TEXT PRIMARY KEY, stamp TEXT NOT NULL, sha256 TEXT) WITHOUT ROWID",
  // Writes begun on the Worker and not yet known to be finished in both R2 and here: repaired when they stay.
  "CREATE TABLE IF NOT EXISTS search_pending (id TEXT PRIMARY KEY, since REAL NOT NULL) WITHOUT ROWID",
  // sessions: how many are listed (a list's total without counting rows); generation: moves with every change (answers remembered until then)
  "CREATE TABLE IF NOT EXISTS search_counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
  "INSERT OR IGNORE INTO search_counters (key, value) VALUES ('sessions', 0), ('generation', 0)",
  `CREATE TRIGGER IF NOT EXISTS search_sessions_added AFTER INSERT ON search_sessions BEGIN
     UPDATE search_counters SET value = value + 1 WHERE key IN ('sessions', 'generation'); END`,
  `CREATE TRIGGER IF NOT EXISTS search_sessions_changed AFTER UPDATE ON search_sessions BEGIN
     UPDATE search_counters SET value = value + 1 WHERE key = 'generation'; END`,
  `CREATE TRIGGER IF NOT EXISTS search_sessions_removed AFTER DELETE ON search_sessions BEGIN
     UPDATE search_counters SET value = value + (CASE key WHEN 'sessions' THEN -1 ELSE 1 END) WHERE key IN ('sessions', 'generation'); END`,
];
/** The schema as one SQL script, what migrations/ applies with wrangler (test/cloudflare/migrations.test.ts keeps them the same). */
export function schemaScript(): string {
  const statements = [...SCHEMA, `INSERT OR REPLACE INTO search_meta (key, value) VALUES ('schema', '${SCHEMA_VERSION}')`];
  return `${statements.map((sql) => sql.replace(/\n {5}/g, "\n  ")).join(";\n\n")};\n`;
}

const TABLES = [
  "search_sessions",
  "search_text",
  "search_fts",
  "search_tools",
  "search_vocab",
  "search_unlisted",
  "search_pending",
  "search_counters",
  "search_meta",
];

/** The list's order over search_sessions (alias s), as search_sessions_order has it: a page reads its own rows. */
export const LIST_ORDER = "s.time IS NULL, s.time DESC, s.id";

/** bm25's weight of each of search_fts's columns: the first rank only; code decides the final order. */
const BM25_WEIGHTS = "4.0, 1.5, 1.0";

/** What the index keeps of a session: its text, and what the filters and the listing read. */
export interface IndexedSession {
  document: SearchDocument;
  /** The file's stamp when read: a session whose stamp is unchanged is not indexed again. */
  stamp: string;
  /** `updated` if it is an instant, else `created` if it is; null sorts last. */
  time: number | null;
  summary: SessionSummary;
  cwd: string;
  /** The SHA-256 of the stored bytes, where the writer knows it (the Worker); null on Node. */
  sha256: string | null;
}

/** What the index keeps of a session the loader read with its search document (null: read without one). */
export function indexedSessionOf(session: LoadedSession, stamp: string, sha256: string | null = null): IndexedSession | null {
  if (session.search === undefined) return null;
  return { document: session.search, stamp, time: session.time, summary: session.summary, cwd: session.cwd, sha256 };
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

/**
 * The search index over one database, which other writers may share (a Worker's isolates, a Node
 * writer thread): what it remembers is checked against the database's generation counter.
 */
export class SearchEngine {
  readonly #db: SqlDatabase;
  /**
   * Answers already given, by request, until the index changes (the generation moves) or a minute
   * passes (recency moves scores): a dashboard asks the same search again and again while nothing changes.
   */
  #answers = new Map<string, { at: number; generation: number; answer: Promise<SearchAnswer> }>();

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Opens (creating, or rebuilding when its schema is older) the index in this database. Reads no session's row. */
  static async open(db: SqlDatabase): Promise<SearchEngine> {
    const version = await db.all<{ value: string }>("SELECT value FROM search_meta WHERE key = 'schema'").catch(() => []);
    if (version[0]?.value !== SCHEMA_VERSION) {
      await db.batch([
        ...TABLES.map((table) => statement(`DROP TABLE IF EXISTS ${table}`)),
        ...SCHEMA.map((sql) => statement(sql)),
        statement("INSERT INTO search_meta (key, value) VALUES ('schema', ?)", SCHEMA_VERSION),
      ]);
    }
    return new SearchEngine(db);
  }

  get db(): SqlDatabase {
    return this.#db;
  }

  close(): void {
    this.#db.close?.();
  }

  /** Every indexed session's stamp, by id (reads every row: the Node indexer's catch-up, once per start). */
  async stamps(): Promise<Map<string, string>> {
    const rows = await this.#db.all<{ id: string; stamp: string }>("SELECT id, stamp FROM search_sessions");
    return new Map(rows.map((row) => [row.id, row.stamp]));
  }

  /** Indexes these sessions (replacing what was indexed of them) in one transaction. */
  async put(sessions: readonly IndexedSession[]): Promise<void> {
    if (sessions.length === 0) return;
    await this.#db.batch(putStatements(sessions, this.#db.maxTextLength));
  }

  /** Leaves these sessions out of the index. */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.#db.batch(removeStatements(ids));
  }

  /** The counter that moves with every change of the index, whoever made it. */
  async generation(): Promise<number> {
    const rows = await this.#db.all<{ value: number }>("SELECT value FROM search_counters WHERE key = 'generation'");
    return rows[0]?.value ?? 0;
  }

  /**
   * The sessions matching a query, ranked, one page of them, with hits when asked. `generation`: the
   * index's, when the caller has just read it (else read here), for the answers remembered.
   */
  async search(request: SearchRequest, generation?: number): Promise<SearchAnswer> {
    const { now, ...asked } = request;
    const key = JSON.stringify(asked);
    generation ??= await this.generation();
    const known = this.#answers.get(key);
    if (known && known.generation === generation && now - known.at < ANSWER_MAX_AGE_MS) return known.answer;
    const answer = this.#search(request);
    if (this.#answers.size >= MAX_ANSWERS) this.#answers.clear();
    this.#answers.set(key, { at: now, generation, answer });
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
    // a session the full-text index holds only the start of may match past it: always a candidate (the partial index reads only those)
    const cutRows =
      plan.match !== null || plan.tools !== null
        ? await this.#db.all<{ id: string; time: number | null }>(`SELECT s.id, s.time FROM search_sessions s WHERE s.cut = 1 AND ${where.sql}`, where.params)
        : [];
    const cut = new Set(cutRows.map((row) => row.id));
    const candidates = await this.#candidates(plan, where, recent, take, request.now, counted, cut.size > 0);
    const matches = candidates[0]?.matches ?? 0;
    const listed = new Set(candidates.map((candidate) => candidate.id));
    candidates.push(...cutRows.filter((row) => !listed.has(row.id)));
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
    const cutFound = scored.filter((result) => cut.has(result.id)).length;
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
    anyCut: boolean,
  ): Promise<{ id: string; time: number | null; matches?: number }[]> {
    const listOrder = LIST_ORDER;
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
    if (!recent && where.sql === "1" && this.#db.billsRowsRead) {
      // D1, no filter: FTS5 ranks by bm25 itself (`rank MATCH`) and hands over the best only, whose rows are then
      // read (bm25() in our own ORDER BY, as below, reads one row per match: 333,543 rows for a common term at
      // 100,000 sessions). Recency weighs in when code scores them. The count reads one row per match (GET
      // /admin/search only). On SQLite the query below is quicker (a phrase: 30 ms against 50 at 20,000 sessions).
      const [ranked, counts] = await Promise.all([
        this.#db.all<{ id: string; time: number | null; matches?: number }>(
          `SELECT s.id, s.time FROM (SELECT rowid, rank FROM search_fts WHERE search_fts MATCH ? AND rank MATCH 'bm25(${BM25_WEIGHTS})' ORDER BY rank LIMIT ${take}) f
           JOIN search_sessions s ON s.rowid = f.rowid ORDER BY f.rank, s.time IS NULL, s.time DESC, s.id`,
          [plan.match],
        ),
        counted
          ? this.#db.all<{ matches: number }>(
              // (a cut session is confirmed and counted in code; the test per match only when there is one)
              `SELECT count(*) AS matches FROM search_fts WHERE search_fts MATCH ?${anyCut ? " AND rowid NOT IN (SELECT rowid FROM search_sessions WHERE cut = 1)" : ""}`,
              [plan.match],
            )
          : [],
      ]);
      return ranked.map((row) => ({ ...row, matches: counts[0]?.matches ?? 0 }));
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

/**
 * The statements that (re)index these sessions, replacing whatever the index held of them: one
 * transaction's worth. Rows go in as JSON arrays, a bounded number of characters per statement (D1
 * caps a value at 2 MB, and a Worker's queries per request are counted), so a batch of a hundred small
 * sessions is a handful of statements.
 */
export function putStatements(sessions: readonly IndexedSession[], maxTextLength: number): SqlStatement[] {
  const max = maxTextLength;
  const budget = Math.min(max / 2, 512 * 1024);
  const rowid = "(SELECT rowid FROM search_sessions WHERE id = value ->> 0)";
  const ids = sessions.map((session) => session.document.id);
  const rows: SqlValue[][] = [];
  const units: SqlValue[][] = [];
  const texts: SqlValue[][] = [];
  const tools: SqlValue[][] = [];
  const vocabulary = new Set<string>();
  for (const session of sessions) {
    const { id, columns } = session.document;
    const model = (session.summary.model ?? "").toLowerCase();
    const { tags } = session.summary;
    const tagsFolded = JSON.stringify(tags.map((tag) => tag.toLowerCase()));
    const cutFlag = isCut(session.document, max) ? 1 : 0;
    rows.push([
      id,
      session.stamp,
      session.time,
      model,
      session.cwd.toLowerCase(),
      JSON.stringify(tags),
      tagsFolded,
      cutFlag,
      JSON.stringify(session.summary),
      session.sha256,
    ]);
    session.document.units.forEach((unit, seq) => {
      units.push([id, seq, unit.field, unit.messageIndex, unit.role, unit.tools ? 1 : 0, cut(unit.text, budget)]);
    });
    texts.push([id, ...TEXT_COLUMNS.map((column) => cut(columns[column], max))]);
    if (columns.tools !== "") tools.push([id, cut(columns.tools, max)]);
    for (const word of session.document.vocabulary) vocabulary.add(word);
  }
  return [
    ...removeStatements(ids, { keepRows: true }), // the upsert below keeps each session's row (and rowid)
    ...jsonStatements(
      `INSERT INTO search_sessions (id, stamp, time, model, cwd, tags, tags_folded, cut, summary, sha256)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9
       FROM json_each(?) WHERE true
       ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp, time = excluded.time, model = excluded.model, cwd = excluded.cwd,
       tags = excluded.tags, tags_folded = excluded.tags_folded, cut = excluded.cut, summary = excluded.summary, sha256 = excluded.sha256`,
      rows,
      budget,
    ),
    ...jsonStatements(
      `INSERT INTO search_text (session, seq, field, message_index, role, tools, text)
       SELECT ${rowid}, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 FROM json_each(?)`,
      units,
      budget,
    ),
    // a session's columns may be longer than a statement's budget: such a one goes alone, each column its own value
    ...jsonStatements(
      `INSERT INTO search_fts (rowid, ${TEXT_COLUMNS.join(", ")}) SELECT ${rowid}, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`,
      texts,
      budget,
      (row) =>
        statement(`INSERT INTO search_fts (rowid, ${TEXT_COLUMNS.join(", ")}) VALUES ((SELECT rowid FROM search_sessions WHERE id = ?), ?, ?, ?)`, ...row),
    ),
    ...jsonStatements(`INSERT INTO search_tools (rowid, tools) SELECT ${rowid}, value ->> 1 FROM json_each(?)`, tools, budget, (row) =>
      statement("INSERT INTO search_tools (rowid, tools) VALUES ((SELECT rowid FROM search_sessions WHERE id = ?), ?)", ...row),
    ),
    ...jsonStatements(
      "INSERT OR IGNORE INTO search_vocab (word) SELECT value ->> 0 FROM json_each(?)",
      [...vocabulary].map((word) => [word]),
      budget,
    ),
  ];
}

/**
 * `sql` once per chunk of rows, the chunk bound as one JSON array, at most about `budget` characters
 * of text each; a row over the budget goes alone, through `alone` where given.
 */
function jsonStatements(sql: string, rows: readonly SqlValue[][], budget: number, alone?: (row: SqlValue[]) => SqlStatement): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let chunk: SqlValue[][] = [];
  let length = 0;
  const flush = () => {
    if (chunk.length > 0) statements.push(statement(sql, JSON.stringify(chunk)));
    chunk = [];
    length = 0;
  };
  for (const row of rows) {
    const size = row.reduce<number>((total, value) => total + (typeof value === "string" ? value.length : 8) + 4, 4);
    if (size > budget && alone) {
      statements.push(alone(row));
      continue;
    }
    if (length + size > budget) flush();
    chunk.push(row);
    length += size;
  }
  flush();
  return statements;
}

/** The statements that leave these sessions out of the index (`keepRows`: all but their search_sessions rows). */
function removeStatements(ids: readonly string[], { keepRows = false } = {}): SqlStatement[] {
  const json = JSON.stringify(ids);
  const rowids = "(SELECT rowid FROM search_sessions WHERE id IN (SELECT value FROM json_each(?)))";
  return [
    statement(`DELETE FROM search_fts WHERE rowid IN ${rowids}`, json),
    statement(`DELETE FROM search_tools WHERE rowid IN ${rowids}`, json),
    statement(`DELETE FROM search_text WHERE session IN ${rowids}`, json),
    // a session indexed is no longer an unlisted object, nor a write under way
    statement("DELETE FROM search_unlisted WHERE id IN (SELECT value FROM json_each(?))", json),
    statement("DELETE FROM search_pending WHERE id IN (SELECT value FROM json_each(?))", json),
    ...(keepRows ? [] : [statement("DELETE FROM search_sessions WHERE id IN (SELECT value FROM json_each(?))", json)]),
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

export interface Where {
  sql: string;
  params: SqlValue[];
}

/** The filters as SQL over search_sessions (alias s): the query parameters and the operators alike (none: the list's). */
export function filterSql(query: Query | null, filters: SearchFilters): Where {
  const clauses: string[] = ["1"];
  const params: SqlValue[] = [];
  const add = (sql: string, ...values: SqlValue[]) => {
    clauses.push(sql);
    params.push(...values);
  };
  const f = query?.filters ?? { model: [], cwd: [], tag: [], session: [], since: null, until: null };
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
