/** CsvWriter against Python's csv.writer (this machine's python3) over a matrix of options and awkward cells. */
import { describe, expect, test } from "bun:test";
import { CsvError, CsvWriter, type Quoting } from "../../src/handlers/sql/csv.ts";
import { needs } from "../support/availability.ts";
import { pythonPresent, runPython } from "../support/python.ts";

/** A cell as JSON for Python and as our python-form cell. */
type Cell = { s: string } | { i: string } | { f: number | string } | { n: null } | { b: boolean } | { d: string } | { y: number[] };

const CELLS: Cell[] = [
  { s: "plain" }, { s: "" }, { s: "a|b" }, { s: "a,b" }, { s: 'say "hi"' }, { s: "line\nbreak" }, { s: "cr\rhere" },
  { s: "tab\there" }, { s: "back\\slash" }, { s: "ünïcødé ✓ 𝄞" }, { s: "'single'" }, { s: " lead" }, { s: "#" },
  { i: "42" }, { i: "-7" }, { i: "123456789012345678901234567890" }, { f: 1.0 }, { f: 0.1 }, { f: 1e20 }, { f: 1.5e-7 },
  { f: "nan" }, { f: "inf" }, { n: null }, { b: true }, { b: false }, { d: "1.50" }, { d: "12345678901234567890.123456789" },
  { y: [0, 39, 34, 92, 10, 255, 65] }, { y: [39] },
];

const ROWS: Cell[][] = [
  CELLS,
  [{ s: "" }],
  [{ n: null }],
  [],
  [{ s: "x" }],
  [{ s: '"' }],
  [{ s: "|" }, { s: "" }, { n: null }],
];

interface Opts {
  dialect: string;
  delimiter: unknown;
  quotechar: unknown;
  escapechar: unknown;
  doublequote: unknown;
  quoting: Quoting;
}

const OPTIONS: Opts[] = [];
for (const quoting of ["MINIMAL", "ALL", "NONNUMERIC", "NONE"] as Quoting[])
  for (const doublequote of [false, true])
    for (const escapechar of [null, "\\", "|"])
      for (const [dialect, delimiter, quotechar] of [
        ["excel", "|", '"'],
        ["excel", ",", "'"],
        ["unix", "\t", '"'],
        ["excel-tab", ";", "#"],
      ] as const)
        OPTIONS.push({ dialect, delimiter, quotechar, escapechar, doublequote, quoting });
// Bad parameters: Python's messages.
OPTIONS.push(
  { dialect: "excel", delimiter: "||", quotechar: '"', escapechar: null, doublequote: false, quoting: "MINIMAL" },
  { dialect: "excel", delimiter: 5, quotechar: '"', escapechar: null, doublequote: false, quoting: "MINIMAL" },
  { dialect: "excel", delimiter: null, quotechar: '"', escapechar: null, doublequote: false, quoting: "MINIMAL" },
  { dialect: "excel", delimiter: "|", quotechar: null, escapechar: null, doublequote: false, quoting: "MINIMAL" },
  { dialect: "excel", delimiter: "|", quotechar: null, escapechar: "\\", doublequote: false, quoting: "NONE" },
  { dialect: "excel", delimiter: "|", quotechar: "ab", escapechar: null, doublequote: false, quoting: "MINIMAL" },
  { dialect: "excel", delimiter: "|", quotechar: '"', escapechar: "ab", doublequote: false, quoting: "MINIMAL" },
  { dialect: "nosuch", delimiter: "|", quotechar: '"', escapechar: null, doublequote: false, quoting: "MINIMAL" },
);

const SCRIPT = `
import csv, io, json, sys
from decimal import Decimal
def cell(c):
    (k, v), = c.items()
    return {'s': lambda: v, 'i': lambda: int(v), 'f': lambda: float(v), 'n': lambda: None, 'b': lambda: v,
            'd': lambda: Decimal(v), 'y': lambda: bytes(v)}[k]()
out = []
data = json.load(sys.stdin)
for o in data['options']:
    res = []
    for row in data['rows']:
        buf = io.StringIO(newline='')
        try:
            w = csv.writer(buf, delimiter=o['delimiter'], doublequote=o['doublequote'], escapechar=o['escapechar'],
                           quotechar=o['quotechar'], quoting=getattr(csv, 'QUOTE_' + o['quoting']), dialect=o['dialect'])
            w.writerow([cell(c) for c in row])
            res.append({'ok': buf.getvalue()})
        except Exception as e:
            res.append({'error': str(e)})
    out.append(res)
print(json.dumps(out))
`;

function ours(c: Cell): unknown {
  if ("s" in c) return c.s;
  if ("i" in c) return BigInt(c.i);
  if ("f" in c) return typeof c.f === "number" ? c.f : c.f === "nan" ? NaN : Infinity;
  if ("n" in c) return null;
  if ("b" in c) return c.b;
  if ("d" in c) return c.d; // a Decimal arrives as its text in a numeric column
  return new Uint8Array(c.y);
}

if (needs("python3 at /usr/bin/python3", pythonPresent())) {
  describe("CsvWriter = Python csv.writer", () => {
    test(`${OPTIONS.length} option sets × ${ROWS.length} rows: same bytes or same error`, () => {
      const expected = runPython(SCRIPT, { options: OPTIONS, rows: ROWS }) as ({ ok: string } | { error: string })[][];
      let compared = 0;
      for (const [oi, o] of OPTIONS.entries()) {
        for (const [ri, row] of ROWS.entries()) {
          let got: { ok: string } | { error: string };
          try {
            const w = new CsvWriter(o);
            got = { ok: w.row(row.map(ours), row.map((c) => "d" in c)) };
          } catch (e) {
            if (!(e instanceof CsvError)) throw e;
            got = { error: e.message };
          }
          expect([o, ri, got]).toEqual([o, ri, expected[oi]![ri]!]);
          compared++;
        }
      }
      expect(compared).toBe(OPTIONS.length * ROWS.length);
    });
  });
}
