/**
 * The run's times as the original's templates see them: `start` is the job spec's `ts_start` object
 * (tzlocal()), `job.ts_ustart` and `globals.lava.*_ustart` are `astimezone(dateutil.tz.UTC)` (tzutc()),
 * the top-level `ustart` is in datetime.timezone.utc, and `job.ts_dispatch` is dateutil's parse of the
 * message text, keeping its offset as a nameless tzoffset. Runs the real worker on the local backend.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { buildDispatchMessage, dispatchMessageBody } from "../../src/core/dispatch.ts";
import type { Item } from "../../src/ports/index.ts";
import { eventsOf, localRealm, makeWorker, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const base = { worker: "core", payload: null, enabled: true, owner: "me", description: "times", type: "log" };

async function runWith(jobId: string, eventLog: string, tsDispatch?: string): Promise<unknown> {
  await realm.putJob({ ...base, job_id: jobId, event_log: eventLog });
  const msg = buildDispatchMessage({ realm: "ref", worker: "core", jobId });
  if (tsDispatch) msg.ts_dispatch = tsDispatch;
  await realm.ports.queues.send("lava-ref-core", dispatchMessageBody(msg));
  const { worker } = makeWorker(realm.ports, realm.tmp);
  await worker.start();
  await worker.run();
  await worker.cleanup();
  const [item] = await eventsOf(realm.ports, jobId);
  return (item!.log as Item[]).find((e) => e.status === "logging")?.info;
}

describe("run times in templates", () => {
  test("job.ts_ustart and globals.lava.*_ustart carry tzutc(); ustart keeps datetime.timezone.utc", async () => {
    const info = await runWith(
      "ref/utc",
      "{{ job.ts_ustart.tzinfo }}|{{ job.ts_ustart.tzname() }}|{{ globals.lava.master_ustart.tzinfo }}|{{ globals.lava.parent_ustart.tzinfo }}|{{ ustart.tzinfo }}",
    );
    expect(info).toBe("tzutc()|UTC|tzutc()|tzutc()|UTC");
  });

  test("start is the job's ts_start object; the *_ustart values are one object", async () => {
    const info = await runWith(
      "ref/same",
      "{{ start is sameas job.ts_start }} {{ globals.lava.master_start is sameas start }} {{ job.ts_ustart is sameas globals.lava.master_ustart }} {{ ustart is sameas job.ts_ustart }}",
    );
    expect(info).toBe("True True True False");
  });

  test("job.ts_dispatch keeps the message's offset as a nameless fixed offset", async () => {
    const info = await runWith(
      "ref/disp",
      "{{ job.ts_dispatch }}|{{ job.ts_dispatch.tzinfo }}|{{ job.ts_dispatch.tzname() }}|{{ job.ts_dispatch.utcoffset() }}",
      "2024-03-15T09:30:00+11:00",
    );
    expect(info).toBe("2024-03-15 09:30:00+11:00|tzoffset(None, 39600)|None|11:00:00");
  });

  test("a negative dispatch offset prints as Python's timedelta", async () => {
    const info = await runWith("ref/neg", "{{ job.ts_dispatch.isoformat() }} {{ job.ts_dispatch.tzinfo }}", "2024-03-15T09:30:00-05:30");
    expect(info).toBe("2024-03-15T09:30:00-05:30 tzoffset(None, -19800)");
  });
});
