import { openSqlite } from "../dist/node/sqlite.js";
import { SearchEngine } from "../dist/sessions/search/engine.js";
import { parseQuery } from "../dist/sessions/search/query.js";

/**
 * `node bench/search-plan.mjs <search-<key>.sqlite> <query> [<query> ...]` (after `npm run build`): where a
 * search's time goes, on an index the server built (its cache dir; copy it first, this opens it for writing).
 * For each query, GET /admin/search's engine work (relevance, limit 20, hits 0 and 3): the median of 12 runs,
 * then every SQL statement of the last run with its time and rows, then EXPLAIN QUERY PLAN of each statement
 * that reads the full-text index or the units.
 */

const RUNS = 12;
const NOW = Date.UTC(2026, 10, 1); // bench/corpus.mjs's CORPUS_NOW: the recency the bench's searches see

const [file, ...queries] = process.argv.slice(2);
if (!file || queries.length === 0) throw new Error("usage: node bench/search-plan.mjs <index file> <query> [<query> ...]");
const db = await openSqlite(file);
const statements = [];
const all = db.all.bind(db);
db.all = async (sql, params = []) => {
  const start = performance.now();
  const rows = await all(sql, params);
  statements.push({ sql: sql.replace(/\s+/g, " "), params, ms: performance.now() - start, rows: rows.length });
  return rows;
};
const engine = await SearchEngine.open(db);

for (const q of queries) {
  const parsed = parseQuery(q);
  if (!parsed.ok) throw new Error(`"${q}": ${parsed.message}`);
  for (const hits of [0, 3]) {
    const times = [];
    let total;
    for (let run = 0; run < RUNS; run++) {
      statements.length = 0;
      const start = performance.now();
      ({ total } = await engine.search({ query: parsed.query, filters: {}, sort: "relevance", limit: 20, offset: 0, hits, now: NOW }));
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    console.log(`\n${q} (hits=${hits}): median ${times[RUNS / 2].toFixed(1)} ms, total ${total}; the last run's statements:`);
    for (const { sql, ms, rows } of statements) console.log(`  ${ms.toFixed(1).padStart(7)} ms ${String(rows).padStart(6)} rows  ${sql.slice(0, 120)}`);
  }
  for (const { sql, params } of statements.filter(({ sql }) => /search_fts MATCH|FROM search_text/.test(sql))) {
    console.log(`\n  EXPLAIN QUERY PLAN ${sql.slice(0, 100)}...`);
    for (const row of await all(`EXPLAIN QUERY PLAN ${sql}`, params)) console.log(`    ${row.detail}`);
  }
}
db.close();
