-- The D1 database the Worker lists, searches and syncs from (binding SEARCH). Apply with:
--   npx wrangler d1 migrations apply opta-sessions-search --remote   (deployed; --local for wrangler dev)
-- The Worker also makes these tables itself on first use. Written from src/sessions/search/engine.ts (schemaScript):
-- test/sessions/search/migrations.test.ts fails when the two differ.

CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS search_sessions (
  rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stamp TEXT NOT NULL, time REAL,
  model TEXT NOT NULL, cwd TEXT NOT NULL, tags TEXT NOT NULL, tags_folded TEXT NOT NULL, cut INTEGER NOT NULL,
  summary TEXT NOT NULL, sha256 TEXT);

CREATE INDEX IF NOT EXISTS search_sessions_order ON search_sessions (time IS NULL, time DESC, id);

CREATE INDEX IF NOT EXISTS search_sessions_time ON search_sessions (time);

CREATE INDEX IF NOT EXISTS search_sessions_cut ON search_sessions (id) WHERE cut = 1;

CREATE TABLE IF NOT EXISTS search_text (
  session INTEGER NOT NULL, seq INTEGER NOT NULL, field TEXT NOT NULL, message_index INTEGER, role TEXT,
  tools INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (session, seq)) WITHOUT ROWID;

CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(meta, user, assistant,
  content='', contentless_delete=1, tokenize='trigram case_sensitive 1');

CREATE VIRTUAL TABLE IF NOT EXISTS search_tools USING fts5(tools,
  content='', contentless_delete=1, tokenize='trigram case_sensitive 1');

CREATE TABLE IF NOT EXISTS search_vocab (word TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS search_unlisted (id TEXT PRIMARY KEY, stamp TEXT NOT NULL, sha256 TEXT) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS search_pending (id TEXT PRIMARY KEY, since REAL NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS search_counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;

INSERT OR IGNORE INTO search_counters (key, value) VALUES ('sessions', 0), ('generation', 0);

CREATE TRIGGER IF NOT EXISTS search_sessions_added AFTER INSERT ON search_sessions BEGIN
  UPDATE search_counters SET value = value + 1 WHERE key IN ('sessions', 'generation'); END;

CREATE TRIGGER IF NOT EXISTS search_sessions_changed AFTER UPDATE ON search_sessions BEGIN
  UPDATE search_counters SET value = value + 1 WHERE key = 'generation'; END;

CREATE TRIGGER IF NOT EXISTS search_sessions_removed AFTER DELETE ON search_sessions BEGIN
  UPDATE search_counters SET value = value + (CASE key WHEN 'sessions' THEN -1 ELSE 1 END) WHERE key IN ('sessions', 'generation'); END;

INSERT OR REPLACE INTO search_meta (key, value) VALUES ('schema', '5');
