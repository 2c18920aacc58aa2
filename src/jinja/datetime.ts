/**
 * Python's datetime module: date, time, datetime and timedelta values with Python's printing,
 * arithmetic, comparison, strftime/strptime and isoformat rules.
 */
import { PyError, typeError, valueError } from "./errors.ts";
import {
  type BinOp,
  type Kwargs,
  MISSING,
  NOT_IMPL,
  PyFloat,
  PyFunction,
  PyObject,
  REQUIRED,
  bindArgs,
  isFloat,
  isInt,
  isNumber,
  isString,
  mkFloat,
  own,
  num,
  pyfn,
  strValue,
  tuple,
  typeName,
} from "./values.ts";
import { FixedTz, PyTzInfo, TZUTC, UTC, type Wall, installTzMethods, localZoneName, msToWall, offsetText, pyTimezone, wallToMs, zoneTz } from "./zones.ts";

const US_PER_DAY = 86400e6;

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, ordinal 1 = 0001-01-01, as Python)

export const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export const daysInMonth = (y: number, m: number): number => (m === 2 && isLeap(y) ? 29 : (DAYS_IN_MONTH[m] as number));

export function toOrdinal(y: number, m: number, d: number): number {
  const yy = y - 1;
  let days = yy * 365 + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400);
  for (let i = 1; i < m; i++) days += daysInMonth(y, i);
  return days + d;
}

export function fromOrdinal(n: number): [number, number, number] {
  const ms = (n - 719163) * 86400000;
  const w = msToWall(ms);
  return [w.y, w.mo, w.d];
}

const EPOCH_ORDINAL = 719163;

function checkDate(y: number, m: number, d: number): void {
  if (y < 1 || y > 9999) throw valueError(`year ${y} is out of range`);
  if (m < 1 || m > 12) throw valueError("month must be in 1..12");
  if (d < 1 || d > daysInMonth(y, m)) throw valueError("day is out of range for month");
}

function intArg(v: unknown, what: string): number {
  if (!isInt(v)) throw typeError(`'${typeName(v)}' object cannot be interpreted as an integer (${what})`);
  return num(v);
}

const pad2 = (n: number): string => String(n).padStart(2, "0");
const pad = (n: number, w: number): string => String(n).padStart(w, "0");

// ---------------------------------------------------------------------------------------------
// timedelta

export class PyTimedelta extends PyObject {
  readonly pyType = "datetime.timedelta";
  readonly days: number;
  readonly seconds: number;
  readonly us: number;
  constructor(days: number, seconds: number, us: number) {
    super();
    let s = seconds + Math.floor(us / 1e6);
    const u = us - Math.floor(us / 1e6) * 1e6;
    const d = days + Math.floor(s / 86400);
    s -= Math.floor(s / 86400) * 86400;
    if (Math.abs(d) > 999999999) throw new PyError("OverflowError", `days=${d}; must have magnitude <= 999999999`);
    this.days = d;
    this.seconds = s;
    this.us = u;
  }
  /** Builds from Python's keyword set, accepting floats and rounding microseconds half-even. */
  static of(p: { weeks?: number; days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number; us?: number }): PyTimedelta {
    const dTotal = (p.days ?? 0) + (p.weeks ?? 0) * 7;
    const dInt = Math.floor(dTotal);
    const sTotal = (dTotal - dInt) * 86400 + (p.seconds ?? 0) + (p.minutes ?? 0) * 60 + (p.hours ?? 0) * 3600;
    const sInt = Math.floor(sTotal);
    const usTotal = (sTotal - sInt) * 1e6 + (p.us ?? 0) + (p.ms ?? 0) * 1000;
    return new PyTimedelta(dInt, sInt, roundHalfEven(usTotal));
  }
  static fromUs(us: number): PyTimedelta {
    const days = Math.floor(us / US_PER_DAY);
    return new PyTimedelta(days, 0, us - days * US_PER_DAY);
  }
  /** Total microseconds (exact while |days| < ~104000). */
  totalUs(): number {
    return this.days * US_PER_DAY + this.seconds * 1e6 + this.us;
  }
  totalSeconds(): number {
    return this.days * 86400 + this.seconds + this.us / 1e6;
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "days":
        return this.days;
      case "seconds":
        return this.seconds;
      case "microseconds":
        return this.us;
      case "total_seconds":
        return new PyFunction(name, () => mkFloat(this.totalSeconds()));
    }
    return TIMEDELTA_CLASS.getAttr(name);
  }
  override str(): string {
    const h = Math.floor(this.seconds / 3600);
    const m = Math.floor((this.seconds % 3600) / 60);
    const s = this.seconds % 60;
    let out = `${h}:${pad2(m)}:${pad2(s)}`;
    if (this.us) out += `.${pad(this.us, 6)}`;
    if (this.days) out = `${this.days} day${Math.abs(this.days) === 1 ? "" : "s"}, ${out}`;
    return out;
  }
  repr(): string {
    const parts: string[] = [];
    if (this.days) parts.push(`days=${this.days}`);
    if (this.seconds) parts.push(`seconds=${this.seconds}`);
    if (this.us) parts.push(`microseconds=${this.us}`);
    return `datetime.timedelta(${parts.length ? parts.join(", ") : "0"})`;
  }
  override truthy(): boolean {
    return this.days !== 0 || this.seconds !== 0 || this.us !== 0;
  }
  override eq(other: unknown): boolean {
    return other instanceof PyTimedelta && other.days === this.days && other.seconds === this.seconds && other.us === this.us;
  }
  override cmp(other: unknown): number | undefined {
    if (!(other instanceof PyTimedelta)) return undefined;
    return this.days - other.days || this.seconds - other.seconds || this.us - other.us;
  }
  override hashKey(): string {
    return `td:${this.days}:${this.seconds}:${this.us}`;
  }
  override binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyTimedelta) {
      const [a, b] = reflected ? [other, this] : [this, other];
      switch (op) {
        case "+":
          return new PyTimedelta(a.days + b.days, a.seconds + b.seconds, a.us + b.us);
        case "-":
          return new PyTimedelta(a.days - b.days, a.seconds - b.seconds, a.us - b.us);
        case "/":
          if (!b.truthy()) throw new PyError("ZeroDivisionError", "division by zero");
          return mkFloat(a.totalUs() / b.totalUs());
        case "//":
          if (!b.truthy()) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
          return Math.floor(a.totalUs() / b.totalUs());
        case "%": {
          if (!b.truthy()) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
          const r = a.totalUs() - Math.floor(a.totalUs() / b.totalUs()) * b.totalUs();
          return PyTimedelta.fromUs(r);
        }
      }
      return NOT_IMPL;
    }
    if (isNumber(other) && typeof other !== "boolean") {
      const x = num(other);
      if (op === "*") return scaleTd(this, x, isFloat(other));
      if (!reflected && (op === "/" || op === "//")) {
        if (x === 0) throw new PyError("ZeroDivisionError", "division by zero");
        if (op === "//" && !isInt(other)) return NOT_IMPL;
        const us = this.totalUs() / x;
        return PyTimedelta.fromUs(op === "//" ? Math.floor(us) : roundHalfEven(us));
      }
    }
    return NOT_IMPL;
  }
}

function scaleTd(td: PyTimedelta, x: number, float: boolean): PyTimedelta {
  const us = td.totalUs() * x;
  return PyTimedelta.fromUs(float ? roundHalfEven(us) : us);
}

export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// ---------------------------------------------------------------------------------------------
// Shared field handling for date / datetime / time

/** Wall-clock fields with microseconds. */
interface Fields extends Wall {
  us: number;
}

const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

function isoCalendar(y: number, m: number, d: number): [number, number, number] {
  const ord = toOrdinal(y, m, d);
  const wd = (ord + 6) % 7;
  const thursday = ord - wd + 3;
  const [ty] = fromOrdinal(thursday);
  const week1Monday = toOrdinal(ty, 1, 4) - ((toOrdinal(ty, 1, 4) + 6) % 7);
  return [ty, Math.floor((ord - week1Monday) / 7) + 1, wd + 1];
}

interface StrftimeInfo {
  f: Fields;
  offset: number | null;
  tzname: string | null;
  /** Seconds since the epoch for %s (glibc reads the fields as local time). */
  epoch: () => number;
}

/** strftime with Python's own directives (%f %z %Z) and glibc's extensions (%-d, %e, %s, ...). */
export function strftime(fmt: string, info: StrftimeInfo): string {
  const { f } = info;
  const ord = toOrdinal(f.y, f.mo, f.d);
  const wd = (ord + 6) % 7;
  const yday = ord - toOrdinal(f.y, 1, 1) + 1;
  return fmt.replace(/%([-_0^#]?)([a-zA-Z%+])/g, (all, flag: string, c: string): string => {
    let v: string;
    let width = 2;
    let numeric = true;
    switch (c) {
      case "a":
        v = DAY_NAMES[wd]?.slice(0, 3) ?? "";
        numeric = false;
        break;
      case "A":
        v = DAY_NAMES[wd] ?? "";
        numeric = false;
        break;
      case "b":
      case "h":
        v = MONTH_NAMES[f.mo - 1]?.slice(0, 3) ?? "";
        numeric = false;
        break;
      case "B":
        v = MONTH_NAMES[f.mo - 1] ?? "";
        numeric = false;
        break;
      case "c":
        return strftime("%a %b %e %H:%M:%S %Y", info);
      case "C":
        v = String(Math.floor(f.y / 100));
        break;
      case "d":
        v = String(f.d);
        break;
      case "D":
        return strftime("%m/%d/%y", info);
      case "e":
        v = String(f.d);
        if (!flag) flag = "_";
        break;
      case "f":
        v = String(f.us);
        width = 6;
        break;
      case "F":
        return strftime("%Y-%m-%d", info);
      case "G":
        v = String(isoCalendar(f.y, f.mo, f.d)[0]);
        width = 1;
        break;
      case "g":
        v = String(isoCalendar(f.y, f.mo, f.d)[0] % 100);
        break;
      case "H":
        v = String(f.h);
        break;
      case "I":
        v = String(f.h % 12 === 0 ? 12 : f.h % 12);
        break;
      case "j":
        v = String(yday);
        width = 3;
        break;
      case "k":
        v = String(f.h);
        if (!flag) flag = "_";
        break;
      case "l":
        v = String(f.h % 12 === 0 ? 12 : f.h % 12);
        if (!flag) flag = "_";
        break;
      case "m":
        v = String(f.mo);
        break;
      case "M":
        v = String(f.mi);
        break;
      case "n":
        return "\n";
      case "p":
        v = f.h < 12 ? "AM" : "PM";
        numeric = false;
        break;
      case "P":
        v = f.h < 12 ? "am" : "pm";
        numeric = false;
        break;
      case "r":
        return strftime("%I:%M:%S %p", info);
      case "R":
        return strftime("%H:%M", info);
      case "s":
        v = String(info.epoch());
        width = 1;
        break;
      case "S":
        v = String(f.s);
        break;
      case "t":
        return "\t";
      case "T":
        return strftime("%H:%M:%S", info);
      case "u":
        v = String(wd + 1);
        width = 1;
        break;
      case "U":
        v = String(Math.floor((yday + 6 - ((wd + 1) % 7)) / 7));
        break;
      case "V":
        v = String(isoCalendar(f.y, f.mo, f.d)[1]);
        break;
      case "w":
        v = String((wd + 1) % 7);
        width = 1;
        break;
      case "W":
        v = String(Math.floor((yday + 6 - wd) / 7));
        break;
      case "x":
        return strftime("%m/%d/%y", info);
      case "X":
        return strftime("%H:%M:%S", info);
      case "y":
        v = String(f.y % 100);
        break;
      case "Y":
        v = String(f.y);
        width = 1;
        break;
      case "z":
        return info.offset === null ? "" : offsetText(info.offset, "");
      case "Z":
        return info.tzname ?? "";
      case "%":
        return "%";
      default:
        return all;
    }
    if (numeric) {
      if (flag === "-") return v;
      if (flag === "_") return v.padStart(width, " ");
      return v.padStart(width, "0");
    }
    return flag === "^" ? v.toUpperCase() : v;
  });
}

/** strptime: parses `text` with a Python format; returns fields and an optional fixed offset. */
export function strptime(text: string, fmt: string): { f: Fields; offset: number | null; tzname: string | null } {
  const groups: string[] = [];
  let re = "";
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i] as string;
    if (ch === "%" && i + 1 < fmt.length) {
      const c = fmt[++i] as string;
      const part = own(STRPTIME_PARTS, c);
      if (c === "%") re += "%";
      else if (!part) throw valueError(`'${c}' is a bad directive in format '${fmt}'`);
      else {
        re += `(${part})`;
        groups.push(c);
      }
    } else if (/\s/.test(ch)) re += "\\s+";
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const m = new RegExp(`^${re}$`, "i").exec(text);
  if (!m) throw valueError(`time data '${text}' does not match format '${fmt}'`);
  const f: Fields = { y: 1900, mo: 1, d: 1, h: 0, mi: 0, s: 0, us: 0 };
  let offset: number | null = null;
  let tzname: string | null = null;
  let pm: boolean | null = null;
  let yday: number | null = null;
  groups.forEach((c, idx) => {
    const v = m[idx + 1] as string;
    const n = Number(v);
    switch (c) {
      case "Y":
        f.y = n;
        break;
      case "y":
        f.y = n < 69 ? 2000 + n : 1900 + n;
        break;
      case "m":
        f.mo = n;
        break;
      case "d":
        f.d = n;
        break;
      case "H":
        f.h = n;
        break;
      case "I":
        f.h = n % 12;
        break;
      case "M":
        f.mi = n;
        break;
      case "S":
        f.s = n;
        break;
      case "f":
        f.us = Number(v.padEnd(6, "0"));
        break;
      case "j":
        yday = n;
        break;
      case "p":
        pm = v.toLowerCase() === "pm";
        break;
      case "b":
      case "B":
        f.mo = MONTH_NAMES.findIndex((x) => x.toLowerCase().startsWith(v.toLowerCase().slice(0, 3))) + 1;
        break;
      case "z":
        offset = parseOffset(v);
        break;
      case "Z":
        tzname = v;
        break;
    }
  });
  if (pm !== null && groups.includes("I")) f.h += pm ? 12 : 0;
  if (yday !== null) [f.y, f.mo, f.d] = fromOrdinal(toOrdinal(f.y, 1, 1) + (yday as number) - 1);
  checkDate(f.y, f.mo, f.d);
  return { f, offset, tzname };
}

const NAMES_RE = (names: string[]): string => names.flatMap((n) => [n, n.slice(0, 3)]).join("|");
const STRPTIME_PARTS: Record<string, string> = {
  Y: "\\d{4}",
  y: "\\d{2}",
  m: "\\d{1,2}",
  d: "\\d{1,2}",
  H: "\\d{1,2}",
  I: "\\d{1,2}",
  M: "\\d{1,2}",
  S: "\\d{1,2}",
  f: "\\d{1,6}",
  j: "\\d{1,3}",
  p: "AM|PM",
  b: NAMES_RE(MONTH_NAMES),
  B: NAMES_RE(MONTH_NAMES),
  a: NAMES_RE(DAY_NAMES),
  A: NAMES_RE(DAY_NAMES),
  w: "\\d",
  z: "Z|[+-]\\d\\d:?\\d\\d(?::?\\d\\d(?:\\.\\d{1,6})?)?",
  Z: "[A-Za-z]{3,5}",
};

export function parseOffset(v: string): number {
  if (v.toUpperCase() === "Z") return 0;
  const m = /^([+-])(\d\d):?(\d\d)(?::?(\d\d))?/.exec(v);
  if (!m) throw valueError(`invalid offset ${v}`);
  const secs = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === "-" ? -secs : secs;
}

// ---------------------------------------------------------------------------------------------
// date

export class PyDate extends PyObject {
  readonly pyType: string = "datetime.date";
  constructor(
    readonly y: number,
    readonly mo: number,
    readonly d: number,
  ) {
    super();
    checkDate(y, mo, d);
  }
  fields(): Fields {
    return { y: this.y, mo: this.mo, d: this.d, h: 0, mi: 0, s: 0, us: 0 };
  }
  ordinal(): number {
    return toOrdinal(this.y, this.mo, this.d);
  }
  isoDate(): string {
    return `${pad(this.y, 4)}-${pad2(this.mo)}-${pad2(this.d)}`;
  }
  override str(): string {
    return this.isoDate();
  }
  repr(): string {
    return `datetime.date(${this.y}, ${this.mo}, ${this.d})`;
  }
  override format(spec: string): string | undefined {
    return spec === "" ? this.str() : this.strftime(spec);
  }
  strftime(fmt: string): string {
    return strftime(fmt, { f: this.fields(), offset: null, tzname: null, epoch: () => localEpoch(this.fields()) });
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "year":
        return this.y;
      case "month":
        return this.mo;
      case "day":
        return this.d;
    }
    const m = own(DATE_METHODS, name);
    if (m) return new PyFunction(name, (args, kwargs) => m(this, args, kwargs)).boundTo(this);
    return DATE_CLASS.getAttr(name);
  }
  override eq(other: unknown): boolean {
    return other instanceof PyDate && !(other instanceof PyDateTime) && this.ordinal() === other.ordinal();
  }
  override cmp(other: unknown): number | undefined {
    if (!(other instanceof PyDate) || other instanceof PyDateTime) {
      if (other instanceof PyDateTime) throw typeError("can't compare datetime.datetime to datetime.date");
      return undefined;
    }
    return this.ordinal() - other.ordinal();
  }
  override hashKey(): string {
    return `date:${this.ordinal()}`;
  }
  override binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyTimedelta && (op === "+" || (op === "-" && !reflected))) {
      const days = op === "+" ? other.days : -other.days;
      return dateFromOrdinal(this.ordinal() + days);
    }
    if (op === "-" && other instanceof PyDate && !(other instanceof PyDateTime)) {
      const diff = this.ordinal() - other.ordinal();
      return new PyTimedelta(reflected ? -diff : diff, 0, 0);
    }
    return NOT_IMPL;
  }
}

function dateFromOrdinal(n: number): PyDate {
  const [y, m, d] = fromOrdinal(n);
  return new PyDate(y, m, d);
}

/** datetime.IsoCalendarDate: a named tuple (year, week, weekday). */
class IsoCalendarDate extends PyObject {
  readonly pyType = "datetime.IsoCalendarDate";
  constructor(private readonly parts: [number, number, number]) {
    super();
  }
  override iter(): unknown[] {
    return [...this.parts];
  }
  override len(): number {
    return 3;
  }
  override getItem(key: unknown): unknown {
    if (!isInt(key)) return MISSING;
    const i = num(key);
    return this.parts[i < 0 ? i + 3 : i] ?? MISSING;
  }
  override getAttr(name: string): unknown {
    const i = ["year", "week", "weekday"].indexOf(name);
    return i >= 0 ? this.parts[i] : MISSING;
  }
  override eq(other: unknown): boolean {
    return other instanceof IsoCalendarDate && other.parts.every((p, i) => p === this.parts[i]);
  }
  repr(): string {
    const [y, w, d] = this.parts;
    return `datetime.IsoCalendarDate(year=${y}, week=${w}, weekday=${d})`;
  }
}

type DateMethod = (self: PyDate, args: unknown[], kwargs: Kwargs) => unknown;
const DATE_METHODS: Record<string, DateMethod> = {
  isoformat: (self) => self.isoDate(),
  strftime: (self, args, kw) => self.strftime(strArg(bindArgs("strftime", [["format", REQUIRED]], args, kw)[0])),
  weekday: (self) => (self.ordinal() + 6) % 7,
  isoweekday: (self) => ((self.ordinal() + 6) % 7) + 1,
  toordinal: (self) => self.ordinal(),
  timetuple: (self) => new PyStructTime({ y: self.y, mo: self.mo, d: self.d, h: 0, mi: 0, s: 0, us: 0 }, -1),
  isocalendar: (self) => new IsoCalendarDate(isoCalendar(self.y, self.mo, self.d)),
  ctime: (self) => strftime("%a %b %e %H:%M:%S %Y", { f: self.fields(), offset: null, tzname: null, epoch: () => 0 }),
  replace: (self, args, kw) => {
    const [y, m, d] = bindArgs("replace", [["year", self.y], ["month", self.mo], ["day", self.d]], args, kw);
    return new PyDate(intArg(y, "year"), intArg(m, "month"), intArg(d, "day"));
  },
};

function strArg(v: unknown): string {
  if (!isString(v)) throw typeError(`strftime() argument 1 must be str, not ${typeName(v)}`);
  return strValue(v);
}

// ---------------------------------------------------------------------------------------------
// time

export class PyTime extends PyObject {
  readonly pyType = "datetime.time";
  constructor(
    readonly h: number,
    readonly mi: number,
    readonly s: number,
    readonly us: number,
    readonly tz: PyTzInfo | null,
    readonly fold = 0,
  ) {
    super();
    if (h < 0 || h > 23) throw valueError("hour must be in 0..23");
    if (mi < 0 || mi > 59) throw valueError("minute must be in 0..59");
    if (s < 0 || s > 59) throw valueError("second must be in 0..59");
  }
  /** dateutil zones give times no offset (they need a date); fixed offsets do. */
  offset(): number | null {
    return this.tz instanceof FixedTz ? this.tz.offset : null;
  }
  iso(timespec = "auto"): string {
    const off = this.offset();
    return timeText(this.h, this.mi, this.s, this.us, timespec) + (off === null ? "" : offsetText(off));
  }
  override str(): string {
    return this.iso();
  }
  repr(): string {
    const parts = [this.h, this.mi];
    if (this.s || this.us) parts.push(this.s);
    if (this.us) parts.push(this.us);
    return `datetime.time(${parts.join(", ")}${this.fold ? ", fold=1" : ""}${this.tz ? `, tzinfo=${this.tz.repr()}` : ""})`;
  }
  override format(spec: string): string | undefined {
    return spec === "" ? this.str() : this.strftime(spec);
  }
  strftime(fmt: string): string {
    const f = { y: 1900, mo: 1, d: 1, h: this.h, mi: this.mi, s: this.s, us: this.us };
    return strftime(fmt, { f, offset: this.offset(), tzname: this.tz ? this.tz.nameAtUtc(0) : null, epoch: () => localEpoch(f) });
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "hour":
        return this.h;
      case "minute":
        return this.mi;
      case "second":
        return this.s;
      case "microsecond":
        return this.us;
      case "tzinfo":
        return this.tz;
      case "fold":
        return this.fold;
      case "isoformat":
        return new PyFunction(name, (args, kw) => this.iso(String(bindArgs(name, [["timespec", "auto"]], args, kw)[0])));
      case "strftime":
        return new PyFunction(name, (args, kw) => this.strftime(strArg(bindArgs(name, [["format", REQUIRED]], args, kw)[0])));
      case "replace":
        return new PyFunction(name, (args, kw) => {
          const [h, mi, s, us, tz] = bindArgs(name, [["hour", this.h], ["minute", this.mi], ["second", this.s], ["microsecond", this.us], ["tzinfo", this.tz]], args, kw);
          return new PyTime(num(h), num(mi), num(s), num(us), tzArg(tz));
        });
    }
    return MISSING;
  }
  private key(): number {
    return ((this.h * 60 + this.mi) * 60 + this.s) * 1e6 + this.us - (this.offset() ?? 0) * 1e6;
  }
  override eq(other: unknown): boolean {
    return other instanceof PyTime && this.key() === other.key();
  }
  override cmp(other: unknown): number | undefined {
    return other instanceof PyTime ? this.key() - other.key() : undefined;
  }
  override truthy(): boolean {
    return true;
  }
}

function timeText(h: number, mi: number, s: number, us: number, timespec: string): string {
  const hms = `${pad2(h)}:${pad2(mi)}:${pad2(s)}`;
  switch (timespec) {
    case "auto":
      return us ? `${hms}.${pad(us, 6)}` : hms;
    case "hours":
      return pad2(h);
    case "minutes":
      return `${pad2(h)}:${pad2(mi)}`;
    case "seconds":
      return hms;
    case "milliseconds":
      return `${hms}.${pad(Math.floor(us / 1000), 3)}`;
    case "microseconds":
      return `${hms}.${pad(us, 6)}`;
  }
  throw valueError("Unknown timespec value");
}

function tzArg(v: unknown): PyTzInfo | null {
  if (v === null || v === undefined) return null;
  if (v instanceof PyTzInfo) return v;
  throw typeError(`tzinfo argument must be None or of a tzinfo subclass, not type '${typeName(v)}'`);
}

// ---------------------------------------------------------------------------------------------
// datetime

/** Seconds since the epoch of wall fields read in the process's local zone (Python's naive timestamp). */
function localEpoch(f: Fields): number {
  const local = zoneTz(localZoneName());
  const w: Wall = { y: f.y, mo: f.mo, d: f.d, h: f.h, mi: f.mi, s: f.s };
  return Math.floor(wallToMs(w) / 1000) - local.offsetAtWall(w);
}

export class PyDateTime extends PyDate {
  override readonly pyType = "datetime.datetime";
  private cachedOffset: number | null | undefined;
  constructor(
    y: number,
    mo: number,
    d: number,
    readonly h: number,
    readonly mi: number,
    readonly s: number,
    readonly us: number,
    readonly tz: PyTzInfo | null,
    readonly fold = 0,
  ) {
    super(y, mo, d);
    if (h < 0 || h > 23) throw valueError("hour must be in 0..23");
    if (mi < 0 || mi > 59) throw valueError("minute must be in 0..59");
    if (s < 0 || s > 59) throw valueError("second must be in 0..59");
    if (us < 0 || us > 999999) throw valueError("microsecond must be in 0..999999");
  }
  /** An aware datetime for the UTC instant `utcMs` (plus extra microseconds) in `tz`. */
  static fromUtc(utcMs: number, tz: PyTzInfo, extraUs = 0): PyDateTime {
    const sec = Math.floor(utcMs / 1000);
    const us = Math.round((utcMs - sec * 1000) * 1000) + extraUs;
    const off = tz.offsetAtUtc(sec * 1000);
    const w = msToWall((sec + off) * 1000);
    // The second of two instants with this wall time is fold=1, as Python's fromutc() marks it.
    return new PyDateTime(w.y, w.mo, w.d, w.h, w.mi, w.s, us, tz, tz.offsetAtWall(w, 0) === off ? 0 : 1);
  }
  static naiveFromWallMs(ms: number, us: number): PyDateTime {
    const w = msToWall(ms);
    return new PyDateTime(w.y, w.mo, w.d, w.h, w.mi, w.s, us, null);
  }
  override fields(): Fields {
    return { y: this.y, mo: this.mo, d: this.d, h: this.h, mi: this.mi, s: this.s, us: this.us };
  }
  wall(): Wall {
    return { y: this.y, mo: this.mo, d: this.d, h: this.h, mi: this.mi, s: this.s };
  }
  /** utcoffset() in seconds, or null when naive. */
  offset(): number | null {
    if (this.cachedOffset === undefined) this.cachedOffset = this.tz ? this.tz.offsetAtWall(this.wall(), this.fold) : null;
    return this.cachedOffset;
  }
  /** Milliseconds since the epoch of the wall time read as UTC (whole seconds). */
  wallMs(): number {
    return wallToMs(this.wall());
  }
  /** The UTC instant in ms (whole seconds; microseconds separate). Naive values read as local time. */
  utcMs(): number {
    const off = this.offset();
    if (off === null) return localEpoch(this.fields()) * 1000;
    return this.wallMs() - off * 1000;
  }
  iso(sep = "T", timespec = "auto"): string {
    const off = this.offset();
    return `${this.isoDate()}${sep}${timeText(this.h, this.mi, this.s, this.us, timespec)}${off === null ? "" : offsetText(off)}`;
  }
  override str(): string {
    return this.iso(" ");
  }
  override repr(): string {
    const parts = [this.y, this.mo, this.d, this.h, this.mi];
    if (this.s || this.us) parts.push(this.s);
    if (this.us) parts.push(this.us);
    return `datetime.datetime(${parts.join(", ")}${this.fold ? ", fold=1" : ""}${this.tz ? `, tzinfo=${this.tz.repr()}` : ""})`;
  }
  override strftime(fmt: string): string {
    const off = this.offset();
    return strftime(fmt, {
      f: this.fields(),
      offset: off,
      tzname: this.tz ? this.tz.nameAtUtc(this.utcMs()) : null,
      epoch: () => localEpoch(this.fields()),
    });
  }
  timestamp(): number {
    return this.utcMs() / 1000 + this.us / 1e6;
  }
  withTz(tz: PyTzInfo | null): PyDateTime {
    return new PyDateTime(this.y, this.mo, this.d, this.h, this.mi, this.s, this.us, tz);
  }
  astimezone(tz: PyTzInfo | null): PyDateTime {
    const utc = this.utcMs();
    const target = tz ?? localFixedTz(utc);
    return PyDateTime.fromUtc(utc, target, this.us);
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "hour":
        return this.h;
      case "minute":
        return this.mi;
      case "second":
        return this.s;
      case "microsecond":
        return this.us;
      case "tzinfo":
        return this.tz;
      case "fold":
        return this.fold;
    }
    const m = own(DATETIME_METHODS, name);
    if (m) return new PyFunction(name, (args, kwargs) => m(this, args, kwargs)).boundTo(this);
    if (name === "year" || name === "month" || name === "day" || Object.hasOwn(DATE_METHODS, name)) return super.getAttr(name);
    return DATETIME_CLASS.getAttr(name);
  }
  /** Microseconds since epoch split as [seconds, us] for exact comparison. */
  private instant(sameTz: boolean): [number, number] {
    return [(sameTz ? this.wallMs() : this.utcMs()) / 1000, this.us];
  }
  private comparable(other: PyDateTime, forEq: boolean): boolean | undefined {
    const aware = this.tz !== null;
    if (aware !== (other.tz !== null)) {
      if (forEq) return undefined;
      throw typeError("can't compare offset-naive and offset-aware datetimes");
    }
    return this.tz === other.tz || !aware;
  }
  override eq(other: unknown): boolean {
    if (!(other instanceof PyDateTime)) return false;
    const same = this.comparable(other, true);
    if (same === undefined) return false;
    const [a, au] = this.instant(same);
    const [b, bu] = other.instant(same);
    return a === b && au === bu;
  }
  override cmp(other: unknown): number | undefined {
    if (!(other instanceof PyDateTime)) {
      if (other instanceof PyDate) throw typeError("can't compare datetime.datetime to datetime.date");
      return undefined;
    }
    const same = this.comparable(other, false) as boolean;
    const [a, au] = this.instant(same);
    const [b, bu] = other.instant(same);
    return a - b || au - bu;
  }
  override hashKey(): string {
    return `dt:${this.tz ? this.utcMs() : this.wallMs()}:${this.us}`;
  }
  override binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyTimedelta && (op === "+" || (op === "-" && !reflected))) {
      const sign = op === "+" ? 1 : -1;
      return this.plus(sign * other.days, sign * other.seconds, sign * other.us);
    }
    if (op === "-" && other instanceof PyDateTime) {
      const [a, b] = reflected ? [other, this] : [this, other];
      if ((a.tz === null) !== (b.tz === null)) throw typeError("can't subtract offset-naive and offset-aware datetimes");
      const same = a.tz === b.tz || a.tz === null;
      const secs = ((same ? a.wallMs() : a.utcMs()) - (same ? b.wallMs() : b.utcMs())) / 1000;
      return new PyTimedelta(0, secs, a.us - b.us);
    }
    return NOT_IMPL;
  }
  /** Wall-clock addition, keeping tzinfo (Python's aware + timedelta). */
  plus(days: number, seconds: number, us: number): PyDateTime {
    let totalUs = this.us + us;
    const carry = Math.floor(totalUs / 1e6);
    totalUs -= carry * 1e6;
    const ms = this.wallMs() + (days * 86400 + seconds + carry) * 1000;
    const w = msToWall(ms);
    if (w.y < 1 || w.y > 9999) throw new PyError("OverflowError", "date value out of range");
    return new PyDateTime(w.y, w.mo, w.d, w.h, w.mi, w.s, totalUs, this.tz);
  }
}

/** Python's astimezone() target when none is given: a fixed offset named after the local zone. */
function localFixedTz(utcMs: number): FixedTz {
  const local = zoneTz(localZoneName());
  const off = local.offsetAtUtc(utcMs);
  return pyTimezone(off, local.nameAtUtc(utcMs));
}

type DtMethod = (self: PyDateTime, args: unknown[], kwargs: Kwargs) => unknown;
const DATETIME_METHODS: Record<string, DtMethod> = {
  isoformat: (self, args, kw) => {
    const [sep, timespec] = bindArgs("isoformat", [["sep", "T"], ["timespec", "auto"]], args, kw);
    return self.iso(String(sep), String(timespec));
  },
  date: (self) => new PyDate(self.y, self.mo, self.d),
  time: (self) => new PyTime(self.h, self.mi, self.s, self.us, null, self.fold),
  timetz: (self) => new PyTime(self.h, self.mi, self.s, self.us, self.tz, self.fold),
  timestamp: (self) => mkFloat(self.timestamp()),
  astimezone: (self, args, kw) => self.astimezone(tzArg(bindArgs("astimezone", [["tz", null]], args, kw)[0])),
  utcoffset: (self) => {
    const off = self.offset();
    return off === null ? null : new PyTimedelta(0, off, 0);
  },
  dst: (self) => {
    const dst = self.tz ? self.tz.dstAtUtc(self.utcMs()) : null;
    return dst === null ? null : new PyTimedelta(0, dst, 0);
  },
  tzname: (self) => (self.tz ? self.tz.nameAtUtc(self.utcMs()) : null),
  timetuple: (self) => {
    const dst = self.tz ? self.tz.dstAtUtc(self.utcMs()) : null;
    return new PyStructTime(self.fields(), dst === null ? -1 : dst ? 1 : 0);
  },
  utctimetuple: (self) => {
    const off = self.offset();
    const utc = off === null ? self : PyDateTime.naiveFromWallMs(self.wallMs() - off * 1000, self.us);
    return new PyStructTime(utc.fields(), 0);
  },
  ctime: (self) => self.strftime("%a %b %e %H:%M:%S %Y"),
  replace: (self, args, kw) => {
    const [y, mo, d, h, mi, s, us, tz, fold] = bindArgs(
      "replace",
      [
        ["year", self.y],
        ["month", self.mo],
        ["day", self.d],
        ["hour", self.h],
        ["minute", self.mi],
        ["second", self.s],
        ["microsecond", self.us],
        ["tzinfo", self.tz],
        ["fold", self.fold],
      ],
      args,
      kw,
    );
    return new PyDateTime(intArg(y, "year"), intArg(mo, "month"), intArg(d, "day"), intArg(h, "hour"), intArg(mi, "minute"), intArg(s, "second"), intArg(us, "microsecond"), tzArg(tz), foldArg(fold));
  },
};

// ---------------------------------------------------------------------------------------------
// Classes (callable, with class methods and constants)

function now(tz: PyTzInfo | null): PyDateTime {
  const ms = Date.now();
  if (tz) return PyDateTime.fromUtc(Math.floor(ms), tz);
  return fromTimestampLocal(ms / 1000);
}

function fromTimestampLocal(ts: number): PyDateTime {
  const sec = Math.floor(ts);
  const us = roundHalfEven((ts - sec) * 1e6);
  const local = zoneTz(localZoneName());
  const off = local.offsetAtUtc(sec * 1000);
  return PyDateTime.naiveFromWallMs((sec + off) * 1000, us);
}

function fromTimestamp(ts: unknown, tz: unknown): PyDateTime {
  if (!isNumber(ts)) throw typeError(`'${typeName(ts)}' object cannot be interpreted as a timestamp`);
  const t = num(ts);
  const zone = tzArg(tz);
  if (!zone) return fromTimestampLocal(t);
  const sec = Math.floor(t);
  return PyDateTime.fromUtc(sec * 1000, zone, roundHalfEven((t - sec) * 1e6));
}

const ISO_RE =
  /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?)?$/;

export function fromIsoFormat(s: string, dateOnly = false): PyDate {
  const m = ISO_RE.exec(s);
  if (!m) throw valueError(`Invalid isoformat string: '${s}'`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (dateOnly) {
    if (m[4] !== undefined) throw valueError(`Invalid isoformat string: '${s}'`);
    return new PyDate(y, mo, d);
  }
  const us = m[7] ? Number(m[7].padEnd(6, "0")) : 0;
  const tz = m[8] === undefined ? null : pyTimezone(parseOffset(m[8].length === 3 ? `${m[8]}00` : m[8]));
  return new PyDateTime(y, mo, d, Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), us, tz);
}

const DT_PARAMS = [
  ["year", REQUIRED],
  ["month", REQUIRED],
  ["day", REQUIRED],
  ["hour", 0],
  ["minute", 0],
  ["second", 0],
  ["microsecond", 0],
  ["tzinfo", null],
  ["fold", 0],
] as const;

function foldArg(v: unknown): number {
  const f = intArg(v, "fold");
  if (f !== 0 && f !== 1) throw valueError("fold must be either 0 or 1");
  return f;
}

function strRequired(v: unknown, fname: string): string {
  if (!isString(v)) throw typeError(`${fname}() argument 1 must be str, not ${typeName(v)}`);
  return strValue(v);
}

export const DATETIME_CLASS: PyFunction = new PyFunction(
  "datetime.datetime",
  (args, kwargs) => {
    const [y, mo, d, h, mi, s, us, tz, fold] = bindArgs("datetime", DT_PARAMS, args, kwargs);
    return new PyDateTime(intArg(y, "year"), intArg(mo, "month"), intArg(d, "day"), intArg(h, "hour"), intArg(mi, "minute"), intArg(s, "second"), intArg(us, "microsecond"), tzArg(tz), foldArg(fold));
  },
  {},
  "type",
);
Object.assign(DATETIME_CLASS.attrs, {
  now: pyfn("now", [["tz", null]], (tz) => now(tzArg(tz))),
  utcnow: pyfn("utcnow", [], () => now(UTC).withTz(null)),
  today: pyfn("today", [], () => now(null)),
  fromtimestamp: pyfn("fromtimestamp", [["timestamp", REQUIRED], ["tz", null]], fromTimestamp),
  utcfromtimestamp: pyfn("utcfromtimestamp", [["timestamp", REQUIRED]], (ts) => fromTimestamp(ts, UTC).withTz(null)),
  fromisoformat: pyfn("fromisoformat", [["date_string", REQUIRED]], (s) => fromIsoFormat(strRequired(s, "fromisoformat"))),
  strptime: pyfn("strptime", [["date_string", REQUIRED], ["format", REQUIRED]], (s, f) => {
    const r = strptime(strRequired(s, "strptime"), strRequired(f, "strptime"));
    const tz = r.offset === null ? null : pyTimezone(r.offset);
    return new PyDateTime(r.f.y, r.f.mo, r.f.d, r.f.h, r.f.mi, r.f.s, r.f.us, tz);
  }),
  combine: pyfn("combine", [["date", REQUIRED], ["time", REQUIRED], ["tzinfo", MISSING]], (d, t, tz) => {
    if (!(d instanceof PyDate) || !(t instanceof PyTime)) throw typeError("combine() argument types: (date, time)");
    return new PyDateTime(d.y, d.mo, d.d, t.h, t.mi, t.s, t.us, tz === MISSING ? t.tz : tzArg(tz));
  }),
  fromordinal: pyfn("fromordinal", [["ordinal", REQUIRED]], (n) => {
    const [y, m, d] = fromOrdinal(num(n));
    return new PyDateTime(y, m, d, 0, 0, 0, 0, null);
  }),
});

export const DATE_CLASS: PyFunction = new PyFunction(
  "datetime.date",
  (args, kwargs) => {
    const [y, m, d] = bindArgs("date", [["year", REQUIRED], ["month", REQUIRED], ["day", REQUIRED]], args, kwargs);
    return new PyDate(intArg(y, "year"), intArg(m, "month"), intArg(d, "day"));
  },
  {},
  "type",
);
Object.assign(DATE_CLASS.attrs, {
  today: pyfn("today", [], () => {
    const n = now(null);
    return new PyDate(n.y, n.mo, n.d);
  }),
  fromtimestamp: pyfn("fromtimestamp", [["timestamp", REQUIRED]], (ts) => {
    const n = fromTimestamp(ts, null);
    return new PyDate(n.y, n.mo, n.d);
  }),
  fromisoformat: pyfn("fromisoformat", [["date_string", REQUIRED]], (s) => fromIsoFormat(strRequired(s, "fromisoformat"), true)),
  fromordinal: pyfn("fromordinal", [["ordinal", REQUIRED]], (n) => dateFromOrdinal(num(n))),
});

export const TIME_CLASS = new PyFunction(
  "datetime.time",
  (args, kwargs) => {
    const [h, mi, s, us, tz, fold] = bindArgs("time", [["hour", 0], ["minute", 0], ["second", 0], ["microsecond", 0], ["tzinfo", null], ["fold", 0]], args, kwargs);
    return new PyTime(intArg(h, "hour"), intArg(mi, "minute"), intArg(s, "second"), intArg(us, "microsecond"), tzArg(tz), foldArg(fold));
  },
  {},
  "type",
);

export const TIMEDELTA_CLASS: PyFunction = new PyFunction(
  "datetime.timedelta",
  (args, kwargs) => {
    const v = bindArgs(
      "timedelta",
      [["days", 0], ["seconds", 0], ["microseconds", 0], ["milliseconds", 0], ["minutes", 0], ["hours", 0], ["weeks", 0]],
      args,
      kwargs,
    ).map((x) => {
      if (!isNumber(x)) throw typeError(`unsupported type for timedelta component: ${typeName(x)}`);
      return num(x);
    }) as number[];
    const [days, seconds, us, ms, minutes, hours, weeks] = v;
    return PyTimedelta.of({ days, seconds, us, ms, minutes, hours, weeks });
  },
  {},
  "type",
);
Object.assign(TIMEDELTA_CLASS.attrs, {
  min: new PyTimedelta(-999999999, 0, 0),
  max: new PyTimedelta(999999999, 86399, 999999),
  resolution: new PyTimedelta(0, 0, 1),
});
Object.assign(TIME_CLASS.attrs, {
  min: new PyTime(0, 0, 0, 0, null),
  max: new PyTime(23, 59, 59, 999999, null),
  resolution: new PyTimedelta(0, 0, 1),
});
Object.assign(DATETIME_CLASS.attrs, {
  min: new PyDateTime(1, 1, 1, 0, 0, 0, 0, null),
  max: new PyDateTime(9999, 12, 31, 23, 59, 59, 999999, null),
  resolution: new PyTimedelta(0, 0, 1),
});
Object.assign(DATE_CLASS.attrs, {
  min: new PyDate(1, 1, 1),
  max: new PyDate(9999, 12, 31),
  resolution: new PyTimedelta(1, 0, 0),
});

export const TIMEZONE_CLASS = new PyFunction(
  "datetime.timezone",
  (args, kwargs) => {
    const [offset, name] = bindArgs("timezone", [["offset", REQUIRED], ["name", MISSING]], args, kwargs);
    if (!(offset instanceof PyTimedelta)) throw typeError("timezone() argument 1 must be datetime.timedelta");
    return pyTimezone(offset.days * 86400 + offset.seconds, name === MISSING ? undefined : String(name));
  },
  { utc: UTC },
  "type",
);

/** time.struct_time, as timetuple() gives it. */
export class PyStructTime extends PyObject {
  readonly pyType = "time.struct_time";
  private readonly values: [string, number][];
  constructor(f: Fields, isdst: number) {
    super();
    const ord = toOrdinal(f.y, f.mo, f.d);
    this.values = [
      ["tm_year", f.y],
      ["tm_mon", f.mo],
      ["tm_mday", f.d],
      ["tm_hour", f.h],
      ["tm_min", f.mi],
      ["tm_sec", f.s],
      ["tm_wday", (ord + 6) % 7],
      ["tm_yday", ord - toOrdinal(f.y, 1, 1) + 1],
      ["tm_isdst", isdst],
    ];
  }
  repr(): string {
    return `time.struct_time(${this.values.map(([k, v]) => `${k}=${v}`).join(", ")})`;
  }
  override getAttr(name: string): unknown {
    return this.values.find(([k]) => k === name)?.[1] ?? MISSING;
  }
  override getItem(key: unknown): unknown {
    if (!isInt(key)) return MISSING;
    return this.values.at(num(key))?.[1] ?? MISSING;
  }
  override iter(): unknown[] {
    return this.values.map(([, v]) => v);
  }
  override len(): number {
    return this.values.length;
  }
}

/** tzinfo.utcoffset(dt), tzname(dt), dst(dt): `dt` read as a wall time in the zone. */
installTzMethods((tz, name) => {
  if (name !== "utcoffset" && name !== "tzname" && name !== "dst") return MISSING;
  return pyfn(name, [["dt", REQUIRED]], (dt) => {
    if (dt !== null && !(dt instanceof PyDateTime)) throw typeError(`${name}() argument 1 must be datetime.datetime or None, not ${typeName(dt)}`);
    if (dt === null) {
      if (!(tz instanceof FixedTz)) return null;
      if (name === "utcoffset") return new PyTimedelta(0, tz.offset, 0);
      return name === "tzname" ? tz.nameAtUtc() : tz.dstAtUtc() === null ? null : new PyTimedelta(0, 0, 0);
    }
    const utc = dt.wallMs() - tz.offsetAtWall(dt.wall()) * 1000;
    if (name === "utcoffset") return new PyTimedelta(0, tz.offsetAtUtc(utc), 0);
    if (name === "tzname") return tz.nameAtUtc(utc);
    const dst = tz.dstAtUtc(utc);
    return dst === null ? null : new PyTimedelta(0, dst, 0);
  });
});

/**
 * A Python aware datetime for a JS Date in an IANA zone (tzlocal()-labelled). `UTC` gives
 * datetime.timezone.utc (the template's `ustart`), `tzutc` dateutil's tzutc() (`job.ts_ustart`,
 * `globals.lava.*_ustart`: the original converts with dateutil.tz.UTC).
 */
export function pyDateTime(date: Date, tz: string): PyDateTime {
  const zone = tz === "UTC" ? UTC : tz === "tzutc" ? TZUTC : zoneTz(tz, "tzlocal");
  const ms = date.getTime();
  const sec = Math.floor(ms / 1000);
  return PyDateTime.fromUtc(sec * 1000, zone, (ms - sec * 1000) * 1000);
}

export { PyFloat, FixedTz };

// Class methods (`datetime.now`, `date.fromisoformat`) print as methods bound to their type.
for (const cls of [DATETIME_CLASS, DATE_CLASS, TIME_CLASS, TIMEDELTA_CLASS]) {
  for (const v of Object.values(cls.attrs)) if (v instanceof PyFunction && v.pyType !== "type") v.boundTo(cls);
}
