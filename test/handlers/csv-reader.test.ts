/**
 * The db_from_s3 insert loaders' csv reading against Python 3's own: the same bytes written to a file,
 * opened as the original opens it (`open(f, 'rt')`, gzip.open likewise) and read with csv.reader and the
 * same options. Rows, errors and the chunking of the stream must not matter.
 */
import { describe, expect, test } from "bun:test";
import { csvRows, type ReaderOptions } from "../../src/handlers/csv-reader.ts";
import { needs } from "../support/availability.ts";
import { pythonPresent, runPython } from "../support/python.ts";

const pyUp = needs("python3 at /usr/bin/python3", pythonPresent());

const PY = `
import csv, json, sys, tempfile, os
cases = json.load(sys.stdin)
out = []
for c in cases:
    fd, path = tempfile.mkstemp()
    os.write(fd, c["data"].encode("utf-8")); os.close(fd)
    opts = dict(c["opts"])
    if "quoting" in opts: opts["quoting"] = getattr(csv, "QUOTE_" + opts["quoting"])
    try:
        with open(path, "rt") as fp:
            rows = [[x if isinstance(x, str) else {"f": repr(x)} for x in r] for r in csv.reader(fp, **opts)]
        out.append({"rows": rows})
    except Exception as e:
        out.append({"error": str(e)})
    os.unlink(path)
print(json.dumps(out))
`;

const DATA = [
  "a,b,c\n1,2,3\n",
  'x,"y, with comma","z ""quoted"""\n',
  '"multi\nline",2\r\n"cr\rinside",3\rlast,4',
  "blank\n\nlines\n\n",
  'text "in" middle,"closed"after,end\n',
  'unterminated,"open field\nmore',
  "back\\,slash,e\\\"sc\n",
  "ünï,✓,\ufeffbom\n",
  'trailing,comma,\n,\n""\n',
  "1.5, 2 ,inf,-1e3,1_000\n",
  "semi;colon|pipe\n",
  "esc\\\nnewline,x\n",
];

const OPTIONS: ReaderOptions[] = [
  {},
  { delimiter: "|" },
  { delimiter: ";", quotechar: "'" },
  { escapechar: "\\" },
  { doublequote: false, escapechar: "\\" },
  { quoting: "NONE" },
  { quoting: "NONE", escapechar: "\\" },
  { quoting: "NONNUMERIC" },
  { quoting: "ALL" },
];

async function ours(data: string, opts: ReaderOptions, chunk: number): Promise<unknown> {
  const bytes = new TextEncoder().encode(data);
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  }
  try {
    const rows: unknown[] = [];
    for await (const r of csvRows(chunks(), opts)) rows.push(r.map((x) => (typeof x === "string" ? x : { f: pyRepr(x) })));
    return { rows };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function pyRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return String(x);
}

describe("csv reading as Python's csv.reader on a text-mode file", () => {
  test.if(pyUp)("every sample under every option set, in 1-byte, 7-byte and whole chunks", async () => {
    const cases = OPTIONS.flatMap((opts) => DATA.map((data) => ({ data, opts })));
    const expected = runPython(PY, cases) as unknown[];
    for (const [i, c] of cases.entries()) {
      for (const chunk of [1, 7, 1 << 20]) {
        const got = await ours(c.data, c.opts, chunk);
        expect({ case: c, chunk, got }).toEqual({ case: c, chunk, got: expected[i] });
      }
    }
  });
});
