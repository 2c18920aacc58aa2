/**
 * Time zone objects (tzinfo): fixed offsets (datetime.timezone, dateutil tzoffset/tzutc) and IANA
 * zones whose offsets come from the Intl API (dateutil tzfile/tzlocal).
 */
import { MISSING, PyObject } from "./values.ts";

/** Wall-clock fields, months 1-12. */
export interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** Milliseconds since the epoch of a wall time read as if it were UTC (valid for any year). */
export function wallToMs(w: Wall): number {
  const date = new Date(0);
  date.setUTCFullYear(w.y, w.mo - 1, w.d);
  date.setUTCHours(w.h, w.mi, w.s, 0);
  return date.getTime();
}

export function msToWall(ms: number): Wall {
  const d = new Date(ms);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
  };
}

/** tzinfo methods (utcoffset, tzname, dst), installed by datetime.ts, which owns timedelta and datetime. */
let tzMethods: ((tz: PyTzInfo, name: string) => unknown) | undefined;
export function installTzMethods(fn: (tz: PyTzInfo, name: string) => unknown): void {
  tzMethods = fn;
}

export abstract class PyTzInfo extends PyObject {
  /** Offset from UTC in seconds at the UTC instant `utcMs`. */
  abstract offsetAtUtc(utcMs: number): number;
  /** Offset in seconds for a wall time (fold=0: the earlier of two, the pre-transition one in a gap; fold=1 the others). */
  abstract offsetAtWall(w: Wall, fold?: number): number;
  abstract nameAtUtc(utcMs: number): string | null;
  /** dst() in seconds at the UTC instant, or null where Python's tzinfo returns None (datetime.timezone). */
  abstract dstAtUtc(utcMs: number): number | null;
  override str(): string {
    return this.repr();
  }
  override getAttr(name: string): unknown {
    return tzMethods ? tzMethods(this, name) : MISSING;
  }
}

export class FixedTz extends PyTzInfo {
  readonly pyType: string;
  constructor(
    readonly offset: number,
    readonly label: string,
    readonly name: string | null,
    pyType = "datetime.timezone",
    private readonly strForm?: string,
  ) {
    super();
    this.pyType = pyType;
  }
  offsetAtUtc(): number {
    return this.offset;
  }
  offsetAtWall(): number {
    return this.offset;
  }
  nameAtUtc(): string | null {
    return this.name;
  }
  dstAtUtc(): number | null {
    return this.pyType === "datetime.timezone" ? null : 0;
  }
  override str(): string {
    return this.strForm ?? this.repr();
  }
  repr(): string {
    return this.label;
  }
  override eq(other: unknown): boolean {
    return other instanceof FixedTz && other.offset === this.offset && other.pyType === this.pyType;
  }
}

/** Python's `±HH:MM[:SS]` rendering of an offset in seconds. */
export function offsetText(seconds: number, sep = ":"): string {
  const sign = seconds < 0 ? "-" : "+";
  const a = Math.abs(seconds);
  const hh = String(Math.floor(a / 3600)).padStart(2, "0");
  const mm = String(Math.floor((a % 3600) / 60)).padStart(2, "0");
  const ss = a % 60;
  return `${sign}${hh}${sep}${mm}${ss ? `${sep}${String(ss).padStart(2, "0")}` : ""}`;
}

/** datetime.timezone.utc */
export const UTC = new FixedTz(0, "datetime.timezone.utc", "UTC", "datetime.timezone", "UTC");
/** dateutil.tz.tzutc() / dateutil.tz.UTC */
export const TZUTC = new FixedTz(0, "tzutc()", "UTC", "tzutc");

/** datetime.timezone(timedelta(seconds=offset), name) */
export function pyTimezone(offset: number, name?: string): FixedTz {
  if (offset === 0 && name === undefined) return UTC;
  const text = `UTC${offsetText(offset)}`;
  const label = `datetime.timezone(datetime.timedelta(${offset < 0 ? "days=-1, seconds=" + (86400 + offset) : "seconds=" + offset})${name !== undefined ? `, '${name}'` : ""})`;
  return new FixedTz(offset, label, name ?? text, "datetime.timezone", name ?? text);
}

/** dateutil.tz.tzoffset(name, offset) */
export function tzoffset(name: string | null, offset: number): FixedTz {
  return new FixedTz(offset, `tzoffset(${name === null ? "None" : `'${name}'`}, ${offset})`, name, "tzoffset");
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      era: "short",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is a time zone name the Intl API knows. */
export function isKnownZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

const offsetCache = new Map<string, number>();

/** Offset in seconds of `zone` at the UTC instant `utcMs` (whole seconds). */
export function zoneOffset(zone: string, utcMs: number): number {
  const sec = Math.floor(utcMs / 1000);
  const key = `${zone}@${sec}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const parts = formatter(zone).formatToParts(new Date(sec * 1000));
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  let y = get("year");
  if (parts.find((p) => p.type === "era")?.value === "BC") y = 1 - y;
  const wall = wallToMs({ y, mo: get("month"), d: get("day"), h: get("hour"), mi: get("minute"), s: get("second") });
  const off = Math.round((wall - sec * 1000) / 1000);
  if (offsetCache.size > 5000) offsetCache.clear();
  offsetCache.set(key, off);
  return off;
}

const abbrevCache = new Map<string, string>();
/** Short zone name (tzname) like `AEDT`; falls back to the numeric form tzdata uses, e.g. `+0530`. */
export function zoneAbbrev(zone: string, utcMs: number, offset: number): string {
  const key = `${zone}@${offset}`;
  const hit = abbrevCache.get(key);
  if (hit) return hit;
  let name = "";
  for (const locale of ["en-US", "en-AU", "en-GB", "en-IN", "en-NZ", "en-ZA", "en-CA", "en-IE"]) {
    const f = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: "short" });
    const v = f.formatToParts(new Date(utcMs)).find((p) => p.type === "timeZoneName")?.value ?? "";
    if (v && !/^(GMT|UTC)[+-]/.test(v)) {
      name = v;
      break;
    }
  }
  if (!name || (name === "GMT" && offset !== 0)) name = offsetText(offset, "").replace(/00$/, "");
  if (zone === "UTC" || zone === "Etc/UTC") name = "UTC";
  abbrevCache.set(key, name);
  return name;
}

/** An IANA zone: dateutil's tzfile (from gettz) or tzlocal() (lava's start times). */
export class ZoneTz extends PyTzInfo {
  readonly pyType: string;
  constructor(
    readonly zone: string,
    readonly label: string,
    pyType = "tzfile",
  ) {
    super();
    this.pyType = pyType;
  }
  offsetAtUtc(utcMs: number): number {
    return zoneOffset(this.zone, utcMs);
  }
  offsetAtWall(w: Wall, fold = 0): number {
    const wallMs = wallToMs(w);
    const before = this.offsetAtUtc(wallMs - 86400000);
    const after = this.offsetAtUtc(wallMs + 86400000);
    const valid = [before, after].filter((o) => this.offsetAtUtc(wallMs - o * 1000) === o);
    if (valid.length === 0) return fold ? after : before;
    // Ambiguous wall time: fold=0 picks the earlier instant, i.e. the larger offset.
    return fold ? Math.min(...valid) : Math.max(...valid);
  }
  nameAtUtc(utcMs: number): string {
    return zoneAbbrev(this.zone, utcMs, this.offsetAtUtc(utcMs));
  }
  /** The offset beyond the year's standard offset (the smaller of January's and July's). */
  dstAtUtc(utcMs: number): number {
    const y = new Date(utcMs).getUTCFullYear();
    const jan = new Date(0).setUTCFullYear(y, 0, 1);
    const jul = new Date(0).setUTCFullYear(y, 6, 1);
    return this.offsetAtUtc(utcMs) - Math.min(this.offsetAtUtc(jan), this.offsetAtUtc(jul));
  }
  repr(): string {
    return this.label;
  }
  override eq(other: unknown): boolean {
    return other instanceof ZoneTz && other.zone === this.zone && other.pyType === this.pyType;
  }
}

const zoneCache = new Map<string, ZoneTz>();
/** The shared tzinfo object for a zone (Python compares same-tzinfo datetimes by wall clock). */
export function zoneTz(zone: string, kind: "tzfile" | "tzlocal" = "tzfile"): ZoneTz {
  const key = `${kind}:${zone}`;
  let z = zoneCache.get(key);
  if (!z) {
    z = new ZoneTz(zone, kind === "tzlocal" ? "tzlocal()" : `tzfile('/usr/share/zoneinfo/${zone}')`, kind);
    zoneCache.set(key, z);
  }
  return z;
}

/** The process's local zone name (TZ), as Python's time functions see it. */
export function localZoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
