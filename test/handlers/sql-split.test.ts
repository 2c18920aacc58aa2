/** splitSql against sqlparse.split itself (test/support/python.ts): fixed cases, then seeded random mixes. */
import { describe, expect, test } from "bun:test";
import { splitSql } from "../../src/handlers/sql/split.ts";
import { needs } from "../support/availability.ts";
import { pythonPresent, runPython, sqlparse053 } from "../support/python.ts";
import { seededRandom } from "../support/random.ts";

const CASES = [
  "select 1; select 2",
  "select 1;\nselect 2;\n",
  "select 'a;b'; select \"x;y\" from t; select `q;r`",
  "select 1; -- comment ; here\nselect 2 /* ; */; select 3",
  "select 1 -- trailing comment",
  "insert into t values ('it''s; fine'); select 'back\\'slash;'",
  "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql; SELECT f();",
  "CREATE FUNCTION g() RETURNS int AS $body$ select 1; $body$ LANGUAGE sql; select 2",
  "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END; CALL p();",
  "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW BEGIN UPDATE u SET n = n + 1; END; select 1;",
  "CREATE OR REPLACE PROCEDURE p AS BEGIN IF x THEN y; END IF; END; select 1",
  "DECLARE x int; BEGIN select 1; END; select 2",
  "CREATE PROCEDURE p() DECLARE v int; BEGIN SET v = 1; END; select 3",
  "BEGIN; insert into t values (1); COMMIT;",
  "begin transaction; select 1; end;",
  "select case when a then 1 else 2 end from t; select 2",
  "CREATE PROCEDURE p() BEGIN SELECT CASE WHEN a THEN 1 END; SELECT 2; END; select 3",
  "select (1; 2); select 3",
  "select 1\nGO\nselect 2\nGO 2\nselect 3",
  "select 1; go\nselect 2",
  "select [a;b] from t; select x[1]; select 2",
  "select 1;;; select 2;",
  ";;",
  "",
  "   \n  ",
  "-- only a comment",
  "select 1; -- c\n\n-- d\nselect 2",
  "select 1; /* multi\nline */ select 2",
  "select 1;\r\nselect 2;\r\n",
  "select 'unterminated; select 2",
  "select \"unterminated; select 2",
  "select $1, $tag$ x; $TAG$; select 2",
  "select 'é;' as ü; select ü from t; SELECT ÄND; select 2",
  "select 1 as end; select 2",
  "select end.x from end; select 2",
  "create table t (a int, b text); insert into t values (1, 'a;b');",
  "WITH x AS (select 1; select 2) select 3; select 4",
  "select {{ x }}; select '{{ y }}';",
  "select 1 # hash comment; x\n; select 2",
  "select 1\x1c; select 2\ufeff",
  "SELECT * FROM t WHERE a IN (1, 2); DELETE FROM t WHERE b LIKE '%;%';",
  "CREATE FUNCTION f() RETURNS trigger AS 'begin return new; end;' LANGUAGE plpgsql; select 1",
  "create function f() begin while x do set y = 1; end while; end; select 1",
  "create function f() begin for i in 1..3 loop null; end loop; end; select 1",
];

const FRAGMENTS = [
  "select 1", "SELECT 'a;b'", ";", "; ", ";\n", " ", "\n", "\t", "-- c;\n", "/* ; */", "(", ")", "BEGIN", "END", "begin",
  "end if", "END IF", "IF", "CASE", "WHEN", "THEN", "CREATE", "create or replace", "FUNCTION", "PROCEDURE", "DECLARE",
  "AS", "$$", "$x$", "'", '"', "`", "[", "]", "x", "1.5", "-1", "0x1F", "GO", "go", "GO 3", "for", "while", "loop",
  "LOOP", "DO", "TRANSACTION", "é", "::", ":=", "?", "%s", ":name", "\\cmd", "\r\n", "# ", "´", "ü.", ".x", "f(",
];

const SPLIT = `
import json, sys, sqlparse
print(json.dumps([sqlparse.split(s) for s in json.load(sys.stdin)]))
`;

if (needs("python3 at /usr/bin/python3 with sqlparse", pythonPresent())) {
  const path = sqlparse053();
  // Debian's 0.4.2 splits CASE and GO differently from the 0.5.3 the original pins.
  const applies = (s: string) => path !== null || !/case|\bgo\b/i.test(s);

  describe(`splitSql = sqlparse.split (${path ? "0.5.3" : "0.4.2"})`, () => {
    test("fixed cases", () => {
      const cases = CASES.filter(applies);
      const expected = runPython(SPLIT, cases, path) as string[][];
      for (const [i, s] of cases.entries()) expect([s, splitSql(s)]).toEqual([s, expected[i]!]);
    });

    test("2,000 random mixes of statement fragments", () => {
      const rnd = seededRandom(12);
      const cases: string[] = [];
      while (cases.length < 2000) {
        const n = 1 + Math.floor(rnd() * 14);
        let s = "";
        for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)]! + (rnd() < 0.6 ? " " : "");
        if (applies(s)) cases.push(s);
      }
      const expected = runPython(SPLIT, cases, path) as string[][];
      for (const [i, s] of cases.entries()) expect([s, splitSql(s)]).toEqual([s, expected[i]!]);
    });
  });
}
