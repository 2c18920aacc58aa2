/**
 * The parts of python-dateutil that lava templates use: relativedelta (with month-end clamping),
 * parser.parse / parser.isoparse, and tz (gettz, tzutc, tzlocal, tzoffset, UTC).
 */
import { PyError, typeError, valueError } from "./errors.ts";
import { toGeneral } from "./format.ts";
import {
  DATETIME_CLASS,
  PyDate,
  PyDateTime,
  PyTimedelta,
  daysInMonth,
  fromOrdinal,
  isLeap,
  roundHalfEven,
  toOrdinal,
} from "./datetime.ts";
import {
  type BinOp,
  MISSING,
  NOT_IMPL,
  PyFunction,
  PyNamespace,
  PyObject,
  REQUIRED,
  bindArgs,
  isInt,
  isNumber,
  isString,
  num,
  pyfn,
  strValue,
  truthy,
  typeName,
} from "./values.ts";
import { PyTzInfo, TZUTC, isKnownZone, localZoneName, tzoffset, zoneAbbrev, zoneTz } from "./zones.ts";

// ---------------------------------------------------------------------------------------------
// weekday constants MO..SU

export class PyWeekday extends PyObject {
  readonly pyType = "weekday";
  constructor(
    readonly weekday: number,
    readonly n: number | null,
  ) {
    super();
  }
  repr(): string {
    const name = WEEKDAY_NAMES[this.weekday] as string;
    return this.n === null ? name : `${name}(${this.n > 0 ? "+" : ""}${this.n})`;
  }
  override getAttr(name: string): unknown {
    if (name === "weekday") return this.weekday;
    if (name === "n") return this.n;
    return MISSING;
  }
  override eq(other: unknown): boolean {
    return other instanceof PyWeekday && other.weekday === this.weekday && (other.n ?? 1) === (this.n ?? 1);
  }
}
const WEEKDAY_NAMES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

function weekdayFactory(wd: number): PyFunction {
  return new PyFunction(WEEKDAY_NAMES[wd] as string, (args, kw) => {
    const [n] = bindArgs(WEEKDAY_NAMES[wd] as string, [["n", REQUIRED]], args, kw);
    return new PyWeekday(wd, num(n));
  }, { weekday: wd, n: null });
}
const WEEKDAYS = WEEKDAY_NAMES.map((_, i) => new PyWeekday(i, null));

// ---------------------------------------------------------------------------------------------
// relativedelta

const REL_FIELDS = ["years", "months", "days", "leapdays", "hours", "minutes", "seconds", "microseconds"] as const;
const ABS_FIELDS = ["year", "month", "day", "weekday", "hour", "minute", "second", "microsecond"] as const;
type RelField = (typeof REL_FIELDS)[number];
type AbsField = Exclude<(typeof ABS_FIELDS)[number], "weekday">;

export class PyRelativedelta extends PyObject {
  readonly pyType = "relativedelta";
  rel: Record<RelField, number> = { years: 0, months: 0, days: 0, leapdays: 0, hours: 0, minutes: 0, seconds: 0, microseconds: 0 };
  abs: Record<AbsField, number | null> = { year: null, month: null, day: null, hour: null, minute: null, second: null, microsecond: null };
  weekday: PyWeekday | null = null;

  static build(rel: Partial<Record<RelField, number>>, abs: Partial<Record<AbsField, number | null>> = {}, weekday: PyWeekday | null = null): PyRelativedelta {
    const r = new PyRelativedelta();
    Object.assign(r.rel, rel);
    Object.assign(r.abs, abs);
    r.weekday = weekday;
    r.fix();
    return r;
  }

  /** Carries overflowing units upwards, keeping each unit's sign (dateutil's _fix). */
  fix(): void {
    const carry = (from: RelField, to: RelField, n: number): void => {
      const v = this.rel[from];
      if (Math.abs(v) > n - 1) {
        const s = Math.sign(v);
        const div = Math.floor((v * s) / n);
        this.rel[from] = ((v * s) % n) * s;
        this.rel[to] += div * s;
      }
    };
    carry("microseconds", "seconds", 1e6);
    carry("seconds", "minutes", 60);
    carry("minutes", "hours", 60);
    carry("hours", "days", 24);
    carry("months", "years", 12);
  }

  hasTime(): boolean {
    const r = this.rel;
    const a = this.abs;
    return !!(r.hours || r.minutes || r.seconds || r.microseconds || a.hour !== null || a.minute !== null || a.second !== null || a.microsecond !== null);
  }

  addTo(other: PyDate): PyDate {
    let base = other;
    if (!(base instanceof PyDateTime) && this.hasTime()) base = new PyDateTime(other.y, other.mo, other.d, 0, 0, 0, 0, null);
    let year = (this.abs.year ?? base.y) + this.rel.years;
    let month = this.abs.month ?? base.mo;
    if (this.rel.months) {
      month += this.rel.months;
      if (month > 12) {
        year += 1;
        month -= 12;
      } else if (month < 1) {
        year -= 1;
        month += 12;
      }
    }
    if (year < 1 || year > 9999) throw valueError(`year ${year} is out of range`);
    const day = Math.min(daysInMonth(year, month), this.abs.day ?? base.d);
    let days = this.rel.days;
    if (this.rel.leapdays && month > 2 && isLeap(year)) days += this.rel.leapdays;
    let result: PyDate;
    if (base instanceof PyDateTime) {
      const replaced = new PyDateTime(year, month, day, this.abs.hour ?? base.h, this.abs.minute ?? base.mi, this.abs.second ?? base.s, this.abs.microsecond ?? base.us, base.tz);
      const td = PyTimedelta.of({ days, hours: this.rel.hours, minutes: this.rel.minutes, seconds: this.rel.seconds, us: this.rel.microseconds });
      result = replaced.plus(td.days, td.seconds, td.us);
    } else {
      result = shiftDate(new PyDate(year, month, day), Math.floor(days));
    }
    if (this.weekday) {
      const wd = this.weekday.weekday;
      const nth = this.weekday.n || 1;
      const cur = (result.ordinal() + 6) % 7;
      let jump = (Math.abs(nth) - 1) * 7;
      if (nth > 0) jump += (7 - cur + wd) % 7;
      else jump = -(jump + ((cur - wd + 7) % 7));
      result = result instanceof PyDateTime ? result.plus(jump, 0, 0) : shiftDate(result, jump);
    }
    return result;
  }

  negate(): PyRelativedelta {
    const rel = Object.fromEntries(REL_FIELDS.map((f) => [f, -this.rel[f]]));
    return PyRelativedelta.build(rel, { ...this.abs }, this.weekday);
  }

  /** relativedelta.__neg__ keeps fractional fields (`*` truncates them, `-x` does not). */
  override unary(op: "-" | "+"): unknown {
    return op === "-" ? this.negate() : this;
  }

  /** dateutil's normalized(): fractional days and hours carried down into whole smaller units. */
  normalized(): PyRelativedelta {
    const r = this.rel;
    const round = (x: number, digits: number): number => Number(x.toFixed(digits));
    const days = Math.trunc(r.days);
    const hoursF = round(r.hours + 24 * (r.days - days), 11);
    const hours = Math.trunc(hoursF);
    const minutesF = round(r.minutes + 60 * (hoursF - hours), 10);
    const minutes = Math.trunc(minutesF);
    const secondsF = round(r.seconds + 60 * (minutesF - minutes), 8);
    const seconds = Math.trunc(secondsF);
    const microseconds = roundHalfEven(r.microseconds + 1e6 * (secondsF - seconds));
    return PyRelativedelta.build({ years: r.years, months: r.months, days, leapdays: r.leapdays, hours, minutes, seconds, microseconds }, { ...this.abs }, this.weekday);
  }

  override binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    if (other instanceof PyDate) {
      if (op === "+") return this.addTo(other);
      if (op === "-" && reflected) return this.negate().addTo(other);
      return NOT_IMPL;
    }
    if (other instanceof PyRelativedelta && (op === "+" || op === "-")) {
      const [a, b] = reflected ? [other, this] : [this, other];
      const s = op === "+" ? 1 : -1;
      const rel = Object.fromEntries(REL_FIELDS.map((f) => [f, a.rel[f] + s * b.rel[f]]));
      const abs = Object.fromEntries(Object.keys(a.abs).map((f) => [f, b.abs[f as AbsField] ?? a.abs[f as AbsField]]));
      return PyRelativedelta.build(rel, abs, b.weekday ?? a.weekday);
    }
    if (other instanceof PyTimedelta && (op === "+" || (op === "-" && !reflected))) {
      const s = op === "+" ? 1 : -1;
      return PyRelativedelta.build(
        { ...this.rel, days: this.rel.days + s * other.days, seconds: this.rel.seconds + s * other.seconds, microseconds: this.rel.microseconds + s * other.us },
        { ...this.abs },
        this.weekday,
      );
    }
    if (op === "*" && isNumber(other)) {
      const f = num(other);
      const rel = Object.fromEntries(REL_FIELDS.map((k) => [k, Math.trunc(this.rel[k] * f)]));
      return PyRelativedelta.build(rel, { ...this.abs }, this.weekday);
    }
    return NOT_IMPL;
  }

  override truthy(): boolean {
    return REL_FIELDS.some((f) => this.rel[f] !== 0) || Object.values(this.abs).some((v) => v !== null) || this.weekday !== null;
  }
  override eq(other: unknown): boolean {
    if (!(other instanceof PyRelativedelta)) return false;
    return (
      REL_FIELDS.every((f) => this.rel[f] === other.rel[f]) &&
      Object.keys(this.abs).every((f) => this.abs[f as AbsField] === other.abs[f as AbsField]) &&
      (this.weekday === other.weekday || (this.weekday !== null && this.weekday.eq(other.weekday)))
    );
  }
  override getAttr(name: string): unknown {
    if ((REL_FIELDS as readonly string[]).includes(name)) return this.rel[name as RelField];
    if (Object.hasOwn(this.abs, name)) return this.abs[name as AbsField];
    if (name === "weekday") return this.weekday;
    if (name === "weeks") return Math.trunc(this.rel.days / 7);
    if (name === "normalized") return new PyFunction(name, () => this.normalized());
    return MISSING;
  }
  repr(): string {
    const parts: string[] = [];
    for (const f of REL_FIELDS) {
      const v = this.rel[f];
      if (v) parts.push(`${f}=${v > 0 ? "+" : "-"}${toGeneral(Math.abs(v), 6)}`);
    }
    for (const f of ABS_FIELDS) {
      const v = f === "weekday" ? this.weekday : this.abs[f];
      if (v !== null) parts.push(`${f}=${v instanceof PyWeekday ? v.repr() : String(v)}`);
    }
    return `relativedelta(${parts.join(", ")})`;
  }
}

function shiftDate(d: PyDate, days: number): PyDate {
  const [y, m, dd] = fromOrdinal(toOrdinal(d.y, d.mo, d.d) + days);
  return new PyDate(y, m, dd);
}

const RD_PARAMS = [
  ["dt1", null],
  ["dt2", null],
  ["years", 0],
  ["months", 0],
  ["days", 0],
  ["leapdays", 0],
  ["weeks", 0],
  ["hours", 0],
  ["minutes", 0],
  ["seconds", 0],
  ["microseconds", 0],
  ["year", null],
  ["month", null],
  ["day", null],
  ["weekday", null],
  ["yearday", null],
  ["nlyearday", null],
  ["hour", null],
  ["minute", null],
  ["second", null],
  ["microsecond", null],
] as const;

function relativedeltaCtor(args: unknown[], kwargs: Record<string, unknown>): PyRelativedelta {
  const v = bindArgs("relativedelta", RD_PARAMS, args, kwargs);
  const [dt1, dt2] = v;
  if (dt1 !== null || dt2 !== null) {
    if (!(dt1 instanceof PyDate) || !(dt2 instanceof PyDate)) throw typeError("relativedelta only diffs datetime/date");
    return diff(dt1, dt2);
  }
  const numOrNull = (x: unknown, name: string): number | null => {
    if (x === null) return null;
    if (!isNumber(x)) throw typeError(`${name} must be a number, not ${typeName(x)}`);
    return num(x);
  };
  const n = (i: number, name: string): number => numOrNull(v[i], name) ?? 0;
  if (!isInt(v[2]) || !isInt(v[3])) throw valueError("Non-integer years and months are ambiguous and not currently supported.");
  let weekday: PyWeekday | null = null;
  if (v[14] !== null) {
    if (v[14] instanceof PyWeekday) weekday = v[14];
    else if (isInt(v[14])) weekday = WEEKDAYS[num(v[14])] ?? null;
  }
  const rd = PyRelativedelta.build(
        {
          years: n(2, "years"),
          months: n(3, "months"),
          days: n(4, "days") + n(6, "weeks") * 7,
          leapdays: n(5, "leapdays"),
          hours: n(7, "hours"),
          minutes: n(8, "minutes"),
          seconds: n(9, "seconds"),
          microseconds: n(10, "microseconds"),
        },
        {
          year: numOrNull(v[11], "year"),
          month: numOrNull(v[12], "month"),
          day: numOrNull(v[13], "day"),
          hour: numOrNull(v[17], "hour"),
          minute: numOrNull(v[18], "minute"),
          second: numOrNull(v[19], "second"),
          microsecond: numOrNull(v[20], "microsecond"),
        },
        weekday,
      );
  const yday = v[15] !== null ? num(v[15]) : v[16] !== null ? num(v[16]) : null;
  if (yday !== null) {
    const table = [31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 366];
    let ydays = yday;
    if (v[15] !== null && yday > 59) rd.rel.leapdays = -1;
    const idx = table.findIndex((t) => ydays <= t);
    if (idx < 0) throw valueError(`invalid year day (${yday})`);
    rd.abs.month = idx + 1;
    rd.abs.day = idx === 0 ? ydays : ydays - (table[idx - 1] as number);
    ydays = 0;
  }
  return rd;
}

/** relativedelta(dt1, dt2): whole months first, then the remaining time. */
function diff(dt1: PyDate, dt2: PyDate): PyRelativedelta {
  const a = dt1 instanceof PyDateTime ? dt1 : new PyDateTime(dt1.y, dt1.mo, dt1.d, 0, 0, 0, 0, null);
  const b = dt2 instanceof PyDateTime ? dt2 : new PyDateTime(dt2.y, dt2.mo, dt2.d, 0, 0, 0, 0, null);
  let months = (a.y - b.y) * 12 + (a.mo - b.mo);
  const at = (m: number): PyDateTime => PyRelativedelta.build({ months: m }).addTo(b) as PyDateTime;
  let dtm = at(months);
  const increment = a.cmp(b)! < 0 ? 1 : -1;
  const beyond = (x: PyDateTime): boolean => (increment === 1 ? a.cmp(x)! > 0 : a.cmp(x)! < 0);
  while (beyond(dtm)) {
    months += increment;
    dtm = at(months);
  }
  const delta = a.binop("-", dtm, false) as PyTimedelta;
  return PyRelativedelta.build({ months, seconds: delta.seconds + delta.days * 86400, microseconds: delta.us });
}

export const RELATIVEDELTA_CLASS = new PyFunction("dateutil.relativedelta.relativedelta", relativedeltaCtor, {}, "type");

// ---------------------------------------------------------------------------------------------
// tz

export const TZLOCAL = (): PyTzInfo => zoneTz(localZoneName(), "tzlocal");

function gettz(name: unknown): PyTzInfo | null {
  if (name === null || name === undefined || name === "") return TZLOCAL();
  const n = strValue(name as string);
  return isKnownZone(n) ? zoneTz(n) : null;
}

const TZ_MODULE = new PyNamespace("module", "<module 'dateutil.tz'>", {
  gettz: pyfn("gettz", [["name", null]], gettz),
  tzutc: new PyFunction("tzutc", () => TZUTC, {}, "type"),
  UTC: TZUTC,
  tzlocal: new PyFunction("tzlocal", () => TZLOCAL(), {}, "type"),
  tzoffset: pyfn("tzoffset", [["name", REQUIRED], ["offset", REQUIRED]], (name, offset) => {
    const secs = offset instanceof PyTimedelta ? offset.days * 86400 + offset.seconds : num(offset);
    return tzoffset(name === null ? null : String(name), secs);
  }),
});

// ---------------------------------------------------------------------------------------------
// parser

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const JUMP = new Set(["", " ", ".", ",", ";", "-", "/", "'", "at", "on", "and", "ad", "m", "t", "of", "st", "nd", "rd", "th"]);

function monthIndex(word: string): number {
  const w = word.toLowerCase();
  if (w === "sept") return 9;
  const i = MONTHS.findIndex((m) => w.length >= 3 && (m === w || (w.startsWith(m) && fullMonth(m).startsWith(w))));
  return i + 1;
}
function fullMonth(m: string): string {
  return ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"][MONTHS.indexOf(m)] as string;
}
function isWeekday(word: string): boolean {
  const w = word.toLowerCase();
  return DAYS.some((d) => w.startsWith(d)) && w.length >= 3 && w.length <= 9;
}

class ParserError extends PyError {
  constructor(msg: string) {
    super("ParserError", msg);
  }
}

interface Parsed {
  y?: number;
  mo?: number;
  d?: number;
  h?: number;
  mi?: number;
  s?: number;
  us?: number;
  offset?: number;
  tzname?: string;
  /** A weekday name given without a day: the result moves forward to it, as dateutil does. */
  weekday?: number;
}

function tokenize(s: string): string[] {
  // A run with two or more dots (`15.03.2024`) is a dotted date, as dateutil's lexer splits it.
  return (s.match(/\d+(?:\.\d+){2,}|\d+(?:[.,]\d+)?|[A-Za-z]+|\s+|./g) ?? []).flatMap((t) => (/^\d+(\.\d+){2,}$/.test(t) ? t.split(/(\.)/) : [t]));
}

/** A pragmatic port of dateutil.parser.parse's heuristics for the formats jobs use. */
function parseDateString(text: string, dayfirst: boolean, yearfirst: boolean, fuzzy = false): Parsed {
  const iso = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim());
  if (iso) {
    const p: Parsed = { y: +(iso[1] as string), mo: +(iso[2] as string), d: +(iso[3] as string) };
    if (iso[4] !== undefined) {
      p.h = +iso[4];
      p.mi = +(iso[5] as string);
      p.s = +(iso[6] ?? 0);
      p.us = iso[7] ? Number(iso[7].slice(0, 6).padEnd(6, "0")) : 0;
    }
    if (iso[8]) applyTz(p, iso[8]);
    return p;
  }
  const tokens = tokenize(text).filter((t) => !/^\s+$/.test(t));
  const p: Parsed = {};
  const ymd: { v: number; len: number; month?: boolean }[] = [];
  let ampm: boolean | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    if (/^\d/.test(t)) {
      const digits = t.replace(/[.,].*/, "");
      if (next === ":" && p.h === undefined) {
        p.h = +digits;
        p.mi = +(tokens[i + 2] ?? 0);
        i += 2;
        if (tokens[i + 1] === ":") {
          const sec = tokens[i + 2] ?? "0";
          p.s = Math.floor(Number(sec.replace(",", ".")));
          const frac = /[.,](\d+)/.exec(sec);
          p.us = frac ? Number((frac[1] as string).slice(0, 6).padEnd(6, "0")) : 0;
          i += 2;
        }
        continue;
      }
      if (ymd.length === 0 && (digits.length === 8 || digits.length === 14 || digits.length === 12) && !t.includes(".")) {
        p.y = +digits.slice(0, 4);
        p.mo = +digits.slice(4, 6);
        p.d = +digits.slice(6, 8);
        if (digits.length >= 12) {
          p.h = +digits.slice(8, 10);
          p.mi = +digits.slice(10, 12);
          p.s = digits.length === 14 ? +digits.slice(12, 14) : 0;
        }
        ymd.push({ v: -1, len: 0 });
        continue;
      }
      if (digits.length === 6 && p.y !== undefined && p.h === undefined) {
        p.h = +digits.slice(0, 2);
        p.mi = +digits.slice(2, 4);
        p.s = +digits.slice(4, 6);
        continue;
      }
      const lowerNext = (next ?? "").toLowerCase();
      if (lowerNext === "am" || lowerNext === "pm" || lowerNext === "a" || lowerNext === "p") {
        p.h = +digits;
        continue;
      }
      if ((tokens[i - 1] === "+" || tokens[i - 1] === "-") && p.h !== undefined && ymd.length >= 1) {
        continue;
      }
      ymd.push({ v: +digits, len: digits.length });
      continue;
    }
    if (/^[A-Za-z]+$/.test(t)) {
      const low = t.toLowerCase();
      const mon = monthIndex(t);
      if (mon) {
        ymd.push({ v: mon, len: 2, month: true });
        continue;
      }
      if (isWeekday(t)) {
        p.weekday = DAYS.findIndex((d) => low.startsWith(d));
        continue;
      }
      if (low === "am" || low === "pm" || low === "a" || low === "p") {
        ampm = low.startsWith("p");
        continue;
      }
      if (low === "z" || low === "utc" || low === "gmt") {
        applyTz(p, "Z");
        continue;
      }
      if (JUMP.has(low)) continue;
      if (/^[A-Z]{3,5}$/.test(t) && p.h !== undefined) {
        p.tzname = t;
        continue;
      }
      if (fuzzy) continue;
      throw new ParserError(`Unknown string format: ${text}`);
    }
    if ((t === "+" || t === "-") && p.h !== undefined && next && /^\d+$/.test(next)) {
      let off = next;
      if (tokens[i + 2] === ":" && tokens[i + 3]) {
        off = next + (tokens[i + 3] as string);
        i += 2;
      }
      applyTz(p, t + (off.length <= 2 ? `${off.padStart(2, "0")}00` : off.padStart(4, "0")));
      i += 1;
      continue;
    }
    if (!JUMP.has(t) && t !== ":" && t !== "+" && !fuzzy) throw new ParserError(`Unknown string format: ${text}`);
  }
  resolveYmd(
    ymd.filter((x) => x.v !== -1),
    p,
    dayfirst,
    yearfirst,
    text,
  );
  if (ampm !== null && p.h !== undefined) {
    if (ampm && p.h < 12) p.h += 12;
    else if (!ampm && p.h === 12) p.h = 0;
  }
  if (p.y === undefined && p.mo === undefined && p.d === undefined && p.h === undefined && p.weekday === undefined) {
    throw new ParserError(`String does not contain a date: ${text}`);
  }
  return p;
}

function resolveYmd(ymd: { v: number; len: number; month?: boolean }[], p: Parsed, dayfirst: boolean, yearfirst: boolean, text: string): void {
  if (ymd.length === 0) return;
  if (ymd.length > 3) throw new ParserError(`Unknown string format: ${text}`);
  const monthPos = ymd.findIndex((x) => x.month);
  const isYear = (x: { v: number; len: number }): boolean => x.len > 2 || x.v > 31;
  const vals = ymd.map((x) => x.v);
  const year2 = (v: number, len: number): number => (len <= 2 && v < 100 ? (v + 2000 > new Date().getFullYear() + 50 ? v + 1900 : v + 2000) : v);
  if (ymd.length === 1) {
    const x = ymd[0] as { v: number; len: number; month?: boolean };
    if (x.month) p.mo = x.v;
    else if (isYear(x)) p.y = x.v;
    else p.d = x.v;
    return;
  }
  if (ymd.length === 2) {
    const [a, b] = ymd as [{ v: number; len: number; month?: boolean }, { v: number; len: number; month?: boolean }];
    if (monthPos >= 0) {
      const other = monthPos === 0 ? b : a;
      p.mo = (monthPos === 0 ? a : b).v;
      if (isYear(other)) p.y = other.v;
      else p.d = other.v;
    } else if (isYear(a)) {
      p.y = a.v;
      p.mo = b.v;
    } else if (isYear(b)) {
      p.mo = a.v;
      p.y = b.v;
    } else if (dayfirst || a.v > 12) {
      p.d = a.v;
      p.mo = b.v;
    } else {
      p.mo = a.v;
      p.d = b.v;
    }
    return;
  }
  const [a, b, c] = ymd as [{ v: number; len: number }, { v: number; len: number }, { v: number; len: number }];
  let y: number;
  let m: number;
  let d: number;
  if (monthPos === 1) {
    m = b.v;
    if (isYear(a) || (yearfirst && !isYear(c))) [y, d] = [year2(a.v, a.len), c.v];
    else [d, y] = [a.v, year2(c.v, c.len)];
  } else if (monthPos === 0) {
    m = a.v;
    if (isYear(b)) [y, d] = [b.v, c.v];
    else [d, y] = [b.v, year2(c.v, c.len)];
  } else if (monthPos === 2) {
    m = c.v;
    if (isYear(a)) [y, d] = [a.v, b.v];
    else [d, y] = [a.v, year2(b.v, b.len)];
  } else if (isYear(a) || (yearfirst && vals[1]! <= 12 && c.v <= 31)) {
    y = year2(a.v, a.len);
    if (b.v > 12 || (dayfirst && c.v <= 12)) [d, m] = [b.v, c.v];
    else [m, d] = [b.v, c.v];
  } else if (a.v > 12 || (dayfirst && b.v <= 12)) {
    [d, m, y] = [a.v, b.v, year2(c.v, c.len)];
  } else {
    [m, d, y] = [a.v, b.v, year2(c.v, c.len)];
  }
  p.y = y;
  p.mo = m;
  p.d = d;
}

function applyTz(p: Parsed, tz: string): void {
  const up = tz.toUpperCase();
  if (up === "Z" || up === "UTC" || up === "GMT") {
    p.offset = 0;
    return;
  }
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(tz);
  if (!m) return;
  const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60;
  p.offset = m[1] === "-" ? -secs : secs;
}

/** Python's time.tzname: the local zone's January and July abbreviations. */
function localTzNames(): string[] {
  const zone = localZoneName();
  const y = new Date().getUTCFullYear();
  return [Date.UTC(y, 0, 1), Date.UTC(y, 6, 1)].map((ms) => zoneAbbrev(zone, ms, zoneTz(zone).offsetAtUtc(ms)));
}

function tzFor(p: Parsed, ignoretz: boolean): PyTzInfo | null {
  if (ignoretz) return null;
  // dateutil names a zero offset 'UTC' and prefers tzlocal() when time.tzname has that name.
  if (p.offset === 0) return localTzNames().includes("UTC") ? TZLOCAL() : TZUTC;
  if (p.offset !== undefined) return tzoffset(null, p.offset);
  if (p.tzname) {
    const local = TZLOCAL();
    const now = Date.now();
    if (p.tzname === zoneAbbrev(localZoneName(), now, local.offsetAtUtc(now))) return local;
  }
  return null;
}

function parse(args: unknown[], kwargs: Record<string, unknown>): PyDateTime {
  const [timestr, dflt, ignoretz, , dayfirst, yearfirst, fuzzy] = bindArgs(
    "parse",
    [["timestr", REQUIRED], ["default", null], ["ignoretz", false], ["tzinfos", null], ["dayfirst", false], ["yearfirst", false], ["fuzzy", false], ["fuzzy_with_tokens", false]],
    args,
    kwargs,
  );
  if (!isString(timestr)) throw typeError("Parser must be a string or character stream, not " + typeName(timestr));
  const text = strValue(timestr);
  const p = parseDateString(text, truthy(dayfirst), truthy(yearfirst), truthy(fuzzy));
  const base =
    dflt instanceof PyDateTime
      ? dflt
      : (() => {
          const now = DATETIME_CLASS.getAttr("now") as PyFunction;
          const n = now.call([], {}) as PyDateTime;
          return new PyDateTime(n.y, n.mo, n.d, 0, 0, 0, 0, null);
        })();
  const y = p.y ?? base.y;
  const mo = p.mo ?? base.mo;
  if (mo < 1 || mo > 12) throw new ParserError(`month must be in 1..12: ${text}`);
  const d = p.d ?? Math.min(base.d, daysInMonth(y, mo));
  try {
    const dt = new PyDateTime(y, mo, d, p.h ?? base.h, p.mi ?? base.mi, p.s ?? base.s, p.us ?? base.us, tzFor(p, truthy(ignoretz)) ?? (p.offset === undefined && !p.tzname ? base.tz : null));
    return p.weekday !== undefined && p.d === undefined ? dt.plus((p.weekday - ((dt.ordinal() + 6) % 7) + 7) % 7, 0, 0) : dt;
  } catch (e) {
    if (e instanceof PyError) throw new ParserError(`${e.message}: ${text}`);
    throw e;
  }
}

const ISOPARSE_RE =
  /^(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?|-?W(\d{2})-?(\d)?|-?(\d{3}))?(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

function isoparse(s: unknown): PyDateTime {
  if (!isString(s)) throw typeError(`isoparse() argument must be str, not ${typeName(s)}`);
  const text = strValue(s);
  const m = ISOPARSE_RE.exec(text);
  if (!m) throw valueError(`Invalid isoformat string: '${text}'`);
  let y = Number(m[1]);
  let mo = Number(m[2] ?? 1);
  let d = Number(m[3] ?? 1);
  if (m[4] !== undefined) {
    const jan4 = toOrdinal(y, 1, 4);
    const week1 = jan4 - ((jan4 + 6) % 7);
    [y, mo, d] = fromOrdinal(week1 + (Number(m[4]) - 1) * 7 + Number(m[5] ?? 1) - 1);
  } else if (m[6] !== undefined) {
    [y, mo, d] = fromOrdinal(toOrdinal(y, 1, 1) + Number(m[6]) - 1);
  }
  let h = Number(m[7] ?? 0);
  const us = m[10] ? Number(m[10].slice(0, 6).padEnd(6, "0")) : 0;
  let tz: PyTzInfo | null = null;
  if (m[11]) {
    const p: Parsed = {};
    applyTz(p, m[11].length === 3 ? `${m[11]}00` : m[11]);
    tz = p.offset === 0 ? TZUTC : tzoffset(null, p.offset ?? 0);
  }
  let extraDay = 0;
  if (h === 24) {
    h = 0;
    extraDay = 1;
  }
  const dt = new PyDateTime(y, mo, d, h, Number(m[8] ?? 0), Number(m[9] ?? 0), us, tz);
  return extraDay ? dt.plus(1, 0, 0) : dt;
}

const PARSER_MODULE = new PyNamespace("module", "<module 'dateutil.parser'>", {
  parse: new PyFunction("parse", parse),
  isoparse: new PyFunction("isoparse", (args, kw) => isoparse(bindArgs("isoparse", [["dt_str", REQUIRED]], args, kw)[0])),
  ParserError: new PyFunction("ParserError", () => null, {}, "type"),
});

const RELATIVEDELTA_MODULE = new PyNamespace("module", "<module 'dateutil.relativedelta'>", {
  relativedelta: RELATIVEDELTA_CLASS,
  ...Object.fromEntries(WEEKDAY_NAMES.map((n, i) => [n, weekdayFactoryWithConst(i)])),
});

/** MO, TU...: usable bare (`weekday=MO`) and called (`MO(-1)`). */
function weekdayFactoryWithConst(i: number): PyObject {
  const base = WEEKDAYS[i] as PyWeekday;
  const factory = weekdayFactory(i);
  return new (class extends PyWeekday {
    call(args: unknown[], kwargs: Record<string, unknown>): unknown {
      return factory.call(args, kwargs);
    }
  })(base.weekday, null);
}

export const DATEUTIL_MODULE = new PyNamespace("module", "<module 'dateutil'>", {
  relativedelta: RELATIVEDELTA_MODULE,
  parser: PARSER_MODULE,
  tz: TZ_MODULE,
});
export { PARSER_MODULE, TZ_MODULE };

/** dateutil.parser.parse(text), as the original's worker reads a dispatch message's `ts_dispatch`. */
export function dateutilParse(text: string): PyDateTime {
  return parse([text], {});
}
