/**
 * Run with TZ set (test/unit/local-time.test.ts): compares src/core/local-time.ts with Bun's own (ICU)
 * local time over 1970-2100, every 6 hours and one second either side of every transition the zone file
 * gives, and prints one JSON line: whether the zone was decided without ICU, how many instants were
 * compared, and the first mismatches.
 */
import { decidedWithoutIcu, localFields } from "../../src/core/local-time.ts";

const decided = decidedWithoutIcu();
const instants: number[] = [];
const from = Date.UTC(1970, 0, 1);
const to = Date.UTC(2100, 0, 1);
for (let t = from; t < to; t += 6 * 3600_000) instants.push(t);
// The instants around every offset change our side sees, to the second.
let prev: number | undefined;
for (let t = from; t < to; t += 3600_000) {
  const off = localFields(new Date(t)).offsetMin;
  if (prev !== undefined && off !== prev) {
    let lo = t - 3600_000;
    let hi = t;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (localFields(new Date(mid)).offsetMin === prev) lo = mid;
      else hi = mid;
    }
    instants.push(hi - 1000, hi, hi + 1000, hi - 1);
  }
  prev = off;
}
const mismatches: string[] = [];
for (const t of instants) {
  const d = new Date(t);
  const ours = localFields(d);
  const icu = [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), -d.getTimezoneOffset()];
  const mine = [ours.year, ours.month, ours.day, ours.hour, ours.minute, ours.second, ours.offsetMin];
  if (mine.join() !== icu.join() && mismatches.length < 5) mismatches.push(`${d.toISOString()}: ours ${mine.join()} icu ${icu.join()}`);
}
console.log(JSON.stringify({ decided, compared: instants.length, mismatches }));
