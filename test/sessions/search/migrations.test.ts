import { readFileSync } from "node:fs";
import { describe, expect, it, onTestFinished } from "vitest";
import { openSqlite } from "../../../src/node/sqlite.js";
import { SearchEngine, schemaScript } from "../../../src/sessions/search/engine.js";
import { statement } from "../../../src/sessions/search/sql.js";

const MIGRATION = new URL("../../../migrations/0001_search_index.sql", import.meta.url);

describe("the D1 migration (migrations/, applied by wrangler d1 migrations apply)", () => {
  it("is the schema the code makes, statement for statement", () => {
    const withoutComments = readFileSync(MIGRATION, "utf8")
      .replace(/^--.*\n/gm, "")
      .trimStart();
    expect(withoutComments, "migrations/0001_search_index.sql is out of date: write schemaScript()'s text there").toBe(schemaScript());
  });

  it("makes a database the engine opens as current: nothing dropped, nothing made again", async () => {
    const db = await openSqlite(":memory:");
    onTestFinished(() => db.close());
    const script = readFileSync(MIGRATION, "utf8").replace(/^--.*\n/gm, "");
    // wrangler sends the statements one by one; a trigger's body holds a ";" of its own
    const statements = script
      .split(/;\n\n/)
      .map((sql) => sql.trim().replace(/;$/, ""))
      .filter(Boolean);
    await db.batch(statements.map((sql) => statement(sql)));
    await db.batch([statement("INSERT INTO search_pending (id, since) VALUES ('kept', 1)")]);
    await SearchEngine.open(db);
    expect(await db.all("SELECT id FROM search_pending")).toEqual([{ id: "kept" }]);
  });
});
