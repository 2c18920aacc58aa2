/**
 * The host's local time (offset and wall clock) without ICU where that can be decided exactly.
 *
 * Why hand-written: Bun's first `Date#getTimezoneOffset` (or any local-time getter) initialises ICU's time
 * zone, 15–25 ms of a dispatcher whose whole run is ~55 ms (docs/BENCHMARKS.md), even with TZ=UTC. Reading
 * the zone's TZif file (RFC 8536) and its POSIX TZ footer costs well under a millisecond.
 *
 * The zone is chosen as Bun chooses it, checked against Bun in test/unit/local-time.test.ts: TZ, with a
 * leading `:` and a `posix/` or `right/` prefix dropped, names a zone (an unknown name is UTC); TZ empty is
 * UTC; TZ unset is the zone `/etc/localtime` links to (`…/zoneinfo/<name>`). The offsets then come from
 * the system's zone files: the data the original prints (Python's local time is libc's) and the host's
 * `date` shows. Bun's came from ICU's own copy of the tz database, and the two agree wherever the copies
 * do. Checked over 1970–2100 to the second for all 598 zone names (zones and links) of Debian's tzdata
 * 2025b against Bun 1.4.5's ICU (tz 2026a): 12 are left to ICU (below), 572 agree, and the 14 others (9
 * zones and their links) are changes between the two releases (Chisinau's switch hour since 2022, Gaza's
 * predicted DST after 2040) or old entries ICU renders unlike its source (Brazil and Cambridge Bay 2000,
 * Tijuana 1970, El Aaiun 1976); there this module gives what Python and `date` give.
 *
 * Everything this module cannot decide goes to ICU, as before: a name with no zone file, a POSIX rule in
 * TZ, /etc/localtime not a symlink into a zoneinfo directory, the legacy names (CET, EST5EDT, ...) that
 * ICU treats as links to a city with a different history, instants before 1970 (where the system's data
 * may carry `backzone` history that ICU's does not), and offsets that are not whole minutes.
 */
import { readFileSync, readlinkSync } from "node:fs";

/** A date's local wall-clock fields and its offset east of UTC in minutes (month 1-12). */
export interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  offsetMin: number;
}

const ZONEINFO = "/usr/share/zoneinfo";

/**
 * Names whose system zone file may differ from ICU's zone of that name after 1970: tzdata 2024b made
 * these links to cities (CET to Europe/Brussels, WET to Europe/Lisbon, ...), which ICU follows, while a
 * system may still ship the old rule-based zones. `localtime` and `posixrules` are not zone names to ICU.
 */
const UNDECIDED_NAMES = new Set(["CET", "CST6CDT", "EET", "EST", "EST5EDT", "HST", "MET", "MST", "MST7MDT", "PST8PDT", "WET", "localtime", "posixrules", "Factory"]);
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** A POSIX TZ rule (RFC 8536 §3.3): offsets east of UTC in seconds; DST switches when `dst` is present. */
interface Rule {
  std: number;
  dst?: { offset: number; start: RulePoint; end: RulePoint };
}

type RulePoint = { kind: "J" | "n"; day: number; time: number } | { kind: "M"; month: number; week: number; weekday: number; time: number };

interface Zone {
  /** Transition times, seconds after the epoch, ascending. */
  times: number[];
  /** Offset east of UTC in seconds in force from each transition on. */
  offsets: number[];
  /** Offset before the first transition (time type 0). */
  initial: number;
  /** The footer's rule for instants after the last transition; absent when the file has none. */
  rule?: Rule;
}

let cachedFor: string | undefined | null = null;
let cachedZone: Zone | undefined;

/** The local zone as the current TZ selects it; `undefined` when only ICU can say. Re-read when TZ changes. */
function currentZone(): Zone | undefined {
  const tz = process.env.TZ;
  if (tz !== cachedFor) {
    cachedZone = loadZone(tz);
    cachedFor = tz;
  }
  return cachedZone;
}

const UTC_ZONE: Zone = { times: [], offsets: [], initial: 0, rule: { std: 0 } };

function loadZone(tz: string | undefined): Zone | undefined {
  if (tz === "") return UTC_ZONE;
  let name: string;
  if (tz === undefined) {
    let target: string;
    try {
      target = readlinkSync("/etc/localtime");
    } catch {
      return undefined; // missing or not a symlink: ICU's own detection decides
    }
    const at = target.indexOf("/zoneinfo/");
    if (at < 0) return undefined;
    name = target.slice(at + "/zoneinfo/".length);
  } else {
    name = tz.startsWith(":") ? tz.slice(1) : tz;
  }
  const prefix = name.startsWith("posix/") ? 6 : name.startsWith("right/") ? 6 : 0;
  name = name.slice(prefix);
  if (!ZONE_NAME.test(name) || UNDECIDED_NAMES.has(name)) return undefined;
  let data: Uint8Array;
  try {
    data = readFileSync(`${ZONEINFO}/${name}`);
  } catch {
    return undefined; // no such zone file: ICU decides (it takes an unknown name as UTC)
  }
  return parseTzif(data);
}

/** RFC 8536 version 2+ data (the 64-bit block and the footer); `undefined` for anything else. */
export function parseTzif(data: Uint8Array): Zone | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = (at: number) => at + 44 <= data.length && data[at] === 0x54 && data[at + 1] === 0x5a && data[at + 2] === 0x69 && data[at + 3] === 0x66;
  if (!magic(0) || data[4]! < 0x32) return undefined; // version 1 files have no 64-bit block
  const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => view.getUint32(at + 20 + 4 * i));
  const [isut1, isstd1, leap1, time1, type1, char1] = counts(0) as [number, number, number, number, number, number];
  const second = 44 + time1 * 5 + type1 * 6 + char1 + leap1 * 8 + isstd1 + isut1;
  if (!magic(second)) return undefined;
  const [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(second) as [number, number, number, number, number, number];
  // Leap-second ("right/") data counts TAI-like seconds: ICU ignores them, so such a file is not used.
  if (leap !== 0 || typecnt === 0) return undefined;
  let at = second + 44;
  const end = at + timecnt * 9 + typecnt * 6 + charcnt + isstd + isut;
  if (end > data.length) return undefined;
  const times: number[] = [];
  for (let i = 0; i < timecnt; i++, at += 8) times.push(Number(view.getBigInt64(at)));
  const typeOf: number[] = [];
  for (let i = 0; i < timecnt; i++, at++) typeOf.push(data[at]!);
  const typeOffsets: number[] = [];
  for (let i = 0; i < typecnt; i++, at += 6) typeOffsets.push(view.getInt32(at));
  if (typeOf.some((t) => t >= typecnt)) return undefined;
  const zone: Zone = { times, offsets: typeOf.map((t) => typeOffsets[t]!), initial: typeOffsets[0]! };
  if (data[end] === 0x0a) {
    const close = data.indexOf(0x0a, end + 1);
    if (close < 0) return undefined;
    const footer = new TextDecoder().decode(data.subarray(end + 1, close));
    if (footer !== "") {
      const rule = parseRule(footer);
      if (!rule) return undefined;
      zone.rule = rule;
    }
  }
  return zone;
}

/** A POSIX TZ string with the RFC 8536 extensions (hours up to 167, negative rule times). */
export function parseRule(text: string): Rule | undefined {
  let pos = 0;
  const name = (): boolean => {
    if (text[pos] === "<") {
      const close = text.indexOf(">", pos);
      if (close < 0) return false;
      pos = close + 1;
      return true;
    }
    const start = pos;
    while (pos < text.length && /[A-Za-z]/.test(text[pos]!)) pos++;
    return pos - start >= 3;
  };
  /** `[+-]hh[:mm[:ss]]` in seconds, or undefined when none is there. */
  const clock = (): number | undefined => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{2})(?::(\d{2}))?)?/.exec(text.slice(pos));
    if (!m) return undefined;
    pos += m[0].length;
    const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === "-" ? -secs : secs;
  };
  const point = (): RulePoint | undefined => {
    let p: RulePoint;
    let m: RegExpExecArray | null;
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(text.slice(pos)))) {
      p = { kind: "M", month: Number(m[1]), week: Number(m[2]), weekday: Number(m[3]), time: 7200 };
      if (p.month < 1 || p.month > 12 || p.week < 1 || p.week > 5 || p.weekday > 6) return undefined;
    } else if ((m = /^(J?)(\d{1,3})/.exec(text.slice(pos)))) {
      p = { kind: m[1] ? "J" : "n", day: Number(m[2]), time: 7200 };
      if (p.kind === "J" ? p.day < 1 || p.day > 365 : p.day > 365) return undefined;
    } else {
      return undefined;
    }
    pos += m[0].length;
    if (text[pos] === "/") {
      pos++;
      const t = clock();
      if (t === undefined) return undefined;
      p.time = t;
    }
    return p;
  };
  if (!name()) return undefined;
  const stdWest = clock();
  if (stdWest === undefined) return undefined;
  const std = 0 - stdWest; // not -stdWest: UTC0 would be -0
  if (pos === text.length) return { std };
  if (!name()) return undefined;
  const dstWest = text[pos] === "," ? undefined : clock();
  const offset = dstWest === undefined ? std + 3600 : 0 - dstWest;
  // A DST name with no rule leaves the switch dates to the implementation: not decidable here.
  if (text[pos] !== ",") return undefined;
  pos++;
  const start = point();
  if (!start || text[pos] !== ",") return undefined;
  pos++;
  const end = point();
  if (!end || pos !== text.length) return undefined;
  return { std, dst: { offset, start, end } };
}

const DAY = 86400;

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days after the epoch of the local date a rule point names in `year`. */
function ruleDay(p: RulePoint, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000 / DAY;
  if (p.kind !== "M") return p.kind === "n" ? jan1 + p.day : jan1 + p.day - 1 + (isLeap(year) && p.day >= 60 ? 1 : 0);
  const first = Date.UTC(year, p.month - 1, 1) / 1000 / DAY;
  const length = new Date(Date.UTC(year, p.month, 0)).getUTCDate();
  const firstWeekday = (((first + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  let day = 1 + ((p.weekday - firstWeekday + 7) % 7) + 7 * (p.week - 1);
  while (day > length) day -= 7; // week 5 is "the last"
  return first + day - 1;
}

/** The rule's offset at `t` (seconds): the last switch at or before `t`, over the years around it. */
function ruleOffset(rule: Rule, t: number): number {
  const dst = rule.dst;
  if (!dst) return rule.std;
  const year = new Date(t * 1000).getUTCFullYear();
  let bestAt = -Infinity;
  let bestIsStart = false;
  let offset = rule.std;
  const consider = (at: number, isStart: boolean, value: number) => {
    // At equal instants the start wins: all-year DST is written as an end that meets the next start.
    if (at <= t && (at > bestAt || (at === bestAt && isStart && !bestIsStart))) [bestAt, bestIsStart, offset] = [at, isStart, value];
  };
  for (let y = year - 1; y <= year + 1; y++) {
    // The start is given in standard local time, the end in daylight local time (POSIX).
    consider(ruleDay(dst.start, y) * DAY + dst.start.time - rule.std, true, dst.offset);
    consider(ruleDay(dst.end, y) * DAY + dst.end.time - dst.offset, false, rule.std);
  }
  return offset;
}

/** Offset east of UTC in seconds at `t` (seconds after the epoch). */
function zoneOffset(zone: Zone, t: number): number {
  const { times } = zone;
  if (times.length === 0) return zone.rule ? ruleOffset(zone.rule, t) : zone.initial;
  if (t < times[0]!) return zone.initial;
  if (t >= times.at(-1)! && zone.rule) return ruleOffset(zone.rule, t);
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return zone.offsets[lo]!;
}

/** The local wall clock and offset of `date`, as Date's local getters give them. */
export function localFields(date: Date): LocalFields {
  const ms = date.getTime();
  const zone = ms >= 0 ? currentZone() : undefined;
  if (zone) {
    const offset = zoneOffset(zone, Math.floor(ms / 1000));
    if (offset % 60 === 0) {
      const wall = new Date(ms + offset * 1000);
      return {
        year: wall.getUTCFullYear(),
        month: wall.getUTCMonth() + 1,
        day: wall.getUTCDate(),
        hour: wall.getUTCHours(),
        minute: wall.getUTCMinutes(),
        second: wall.getUTCSeconds(),
        offsetMin: offset / 60,
      };
    }
  }
  return {
    year: date.getFullYear(),
    month: date.getMonth() + 1,
    day: date.getDate(),
    hour: date.getHours(),
    minute: date.getMinutes(),
    second: date.getSeconds(),
    offsetMin: -date.getTimezoneOffset(),
  };
}

/** Whether the current TZ is answered from the zone files (for the tests: a silent fall back to ICU would pass them). */
export function decidedWithoutIcu(): boolean {
  return currentZone() !== undefined;
}
