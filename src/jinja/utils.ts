/**
 * Lava's `utils` template variable: datetime classes, dateutil, os.path, re, s3bucket/s3key, uuid4.
 */
import { DATEUTIL_MODULE, PARSER_MODULE } from "./dateutil.ts";
import { DATETIME_CLASS, DATE_CLASS, TIMEDELTA_CLASS, TIME_CLASS } from "./datetime.ts";
import { PyError, typeError, valueError } from "./errors.ts";
import { RE_MODULE } from "./pyre.ts";
import { InvalidS3NameError, s3Split as splitS3Name } from "../ports/objects.ts";
import { MISSING, PyFunction, PyNamespace, PyObject, REQUIRED, bindArgs, isString, iterate, pyfn, strValue, tuple, typeName } from "./values.ts";

/** lava's s3_split (src/ports/objects.ts), its refusal as Python's ValueError. */
export function s3Split(s: string): [string, string] {
  try {
    return splitS3Name(s);
  } catch (err) {
    if (err instanceof InvalidS3NameError) throw valueError(err.message);
    throw err;
  }
}

/** s3_split's argument: it calls `s.startswith`, so a non-str fails with AttributeError. */
function s3Text(v: unknown): string {
  if (!isString(v)) throw new PyError("AttributeError", `'${typeName(v)}' object has no attribute 'startswith'`);
  return strValue(v);
}

function text(v: unknown, fname: string): string {
  if (!isString(v)) throw typeError(`${fname}: expected str, bytes or os.PathLike object, not ${typeName(v)}`);
  return strValue(v);
}

// ---------------------------------------------------------------------------------------------
// os.path (posixpath)

export function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

export function dirname(p: string): string {
  const i = p.lastIndexOf("/") + 1;
  const head = p.slice(0, i);
  return head && head !== "/".repeat(head.length) ? head.replace(/\/+$/, "") : head;
}

export function joinPath(a: string, ...rest: string[]): string {
  let path = a;
  for (const b of rest) {
    if (b.startsWith("/")) path = b;
    else if (path === "" || path.endsWith("/")) path += b;
    else path += `/${b}`;
  }
  return path;
}

export function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf("/");
  const dot = p.lastIndexOf(".");
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) if (p[i] !== ".") return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ""];
}

export function normpath(p: string): string {
  if (p === "") return ".";
  const initial = p.startsWith("/") ? (p.startsWith("//") && !p.startsWith("///") ? 2 : 1) : 0;
  const out: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c !== ".." || (!initial && !out.length) || (out.length && out[out.length - 1] === "..")) out.push(c);
    else if (out.length) out.pop();
  }
  const joined = "/".repeat(initial) + out.join("/");
  return joined || ".";
}

function abspath(p: string): string {
  return normpath(p.startsWith("/") ? p : joinPath(process.cwd(), p));
}

/** posixpath.relpath: relative to the process's working directory for relative arguments, as Python's is. */
export function relpath(path: string, start: string): string {
  if (!path) throw valueError("no path specified");
  const startParts = abspath(start).split("/").filter((x) => x);
  const pathParts = abspath(path).split("/").filter((x) => x);
  let i = 0;
  while (i < startParts.length && i < pathParts.length && startParts[i] === pathParts[i]) i++;
  const rel = [...Array<string>(startParts.length - i).fill(".."), ...pathParts.slice(i)];
  return rel.length ? rel.join("/") : ".";
}

/** posixpath.commonpath: the longest common sub-path, by whole components. */
export function commonpath(paths: string[]): string {
  if (!paths.length) throw valueError("commonpath() arg is an empty sequence");
  const absolute = new Set(paths.map((p) => p.startsWith("/")));
  if (absolute.size > 1) throw valueError("Can't mix absolute and relative paths");
  const split = paths.map((p) => p.split("/").filter((c) => c && c !== "."));
  const cmp = (a: string[], b: string[]): number => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as string) < (b[i] as string) ? -1 : 1;
    return a.length - b.length;
  };
  const s1 = split.reduce((a, b) => (cmp(a, b) <= 0 ? a : b));
  const s2 = split.reduce((a, b) => (cmp(a, b) >= 0 ? a : b));
  let common = s1;
  for (let i = 0; i < s1.length; i++) {
    if (s1[i] !== s2[i]) {
      common = s1.slice(0, i);
      break;
    }
  }
  return (absolute.has(true) ? "/" : "") + common.join("/");
}

const PATH_MODULE = new PyNamespace("module", "<module 'posixpath' (frozen)>", {
  sep: "/",
  extsep: ".",
  curdir: ".",
  pardir: "..",
  basename: pyfn("basename", [["p", REQUIRED]], (p) => basename(text(p, "basename"))),
  dirname: pyfn("dirname", [["p", REQUIRED]], (p) => dirname(text(p, "dirname"))),
  join: new PyFunction("join", (args) => {
    if (args.length === 0) throw typeError("join() missing 1 required positional argument: 'a'");
    const parts = args.map((a) => text(a, "join"));
    return joinPath(parts[0] as string, ...parts.slice(1));
  }),
  split: pyfn("split", [["p", REQUIRED]], (p) => {
    const s = text(p, "split");
    return tuple([dirname(s), basename(s)]);
  }),
  splitext: pyfn("splitext", [["p", REQUIRED]], (p) => tuple(splitext(text(p, "splitext")))),
  normpath: pyfn("normpath", [["path", REQUIRED]], (p) => normpath(text(p, "normpath"))),
  isabs: pyfn("isabs", [["s", REQUIRED]], (p) => text(p, "isabs").startsWith("/")),
  abspath: pyfn("abspath", [["path", REQUIRED]], (p) => abspath(text(p, "abspath"))),
  expanduser: pyfn("expanduser", [["path", REQUIRED]], (p) => {
    const s = text(p, "expanduser");
    const home = process.env.HOME ?? "";
    return s === "~" ? home : s.startsWith("~/") ? home + s.slice(1) : s;
  }),
  relpath: pyfn("relpath", [["path", REQUIRED], ["start", null]], (p, start) => relpath(text(p, "relpath"), start === null ? "." : text(start, "relpath"))),
  commonpath: pyfn("commonpath", [["paths", REQUIRED]], (m) => commonpath(iterate(m).map((x) => text(x, "commonpath")))),
  commonprefix: pyfn("commonprefix", [["m", REQUIRED]], (m) => {
    const items = (Array.isArray(m) ? m : []).map((x) => text(x, "commonprefix"));
    if (!items.length) return "";
    let prefix = items[0] as string;
    for (const s of items) while (!s.startsWith(prefix)) prefix = prefix.slice(0, -1);
    return prefix;
  }),
});

// posixpath's functions are Python functions (`<function join at 0x...>`), not built-ins.
for (const [name, fn] of Object.entries(PATH_MODULE.attrs)) {
  if (fn instanceof PyFunction) PATH_MODULE.attrs[name] = new PyFunction(fn.name, fn.fn, fn.attrs, "function");
}

// ---------------------------------------------------------------------------------------------
// uuid

class PyUUID extends PyObject {
  readonly pyType = "uuid.UUID";
  constructor(private readonly text: string) {
    super();
  }
  override str(): string {
    return this.text;
  }
  repr(): string {
    return `UUID('${this.text}')`;
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "hex":
        return this.text.replace(/-/g, "");
      case "urn":
        return `urn:uuid:${this.text}`;
      case "version":
        return 4;
    }
    return MISSING;
  }
  override eq(other: unknown): boolean {
    return other instanceof PyUUID && other.text === this.text;
  }
}

/** The `utils` object lava passes to every template. */
export function makeUtils(): Map<string, unknown> {
  return new Map<string, unknown>([
    ["timedelta", TIMEDELTA_CLASS],
    ["datetime", DATETIME_CLASS],
    ["date", DATE_CLASS],
    ["dateutil", DATEUTIL_MODULE],
    ["time", TIME_CLASS],
    ["parsedate", PARSER_MODULE],
    ["s3bucket", new PyFunction("<lambda>", (args, kw) => s3Split(s3Text(bindArgs("<lambda>", [["s", REQUIRED]], args, kw)[0]))[0], {}, "function")],
    ["s3key", new PyFunction("<lambda>", (args, kw) => s3Split(s3Text(bindArgs("<lambda>", [["s", REQUIRED]], args, kw)[0]))[1], {}, "function")],
    ["uuid", new PyFunction("uuid4", (args, kw) => (bindArgs("uuid4", [], args, kw), new PyUUID(crypto.randomUUID())), {}, "function")],
    ["path", PATH_MODULE],
    ["re", RE_MODULE],
  ]);
}
