/** Parsing dispatch messages at the boundary, with the original worker's rejection texts. */
import { describe, expect, test } from "bun:test";
import { MessageRejected, parseDispatchMessage } from "../../src/core/worker/message.ts";
import { parseIsoTimestamp } from "../../src/core/pyformat.ts";
import { goldenJson, goldenText, haveGolden } from "../support/shared.ts";

const withGolden = haveGolden();
const golden = await goldenJson<{ messages: { scenario: string; body: string }[] }>("sqs-dispatch-messages.json", { messages: [] });
const badLog = (await goldenText("worker-log/bad-messages.jsonl"))
  .trim()
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { message: string });

function reason(body: string, realm = "ref", worker = "core"): string {
  try {
    parseDispatchMessage(body, realm, worker);
  } catch (err) {
    expect(err).toBeInstanceOf(MessageRejected);
    return (err as MessageRejected).reason;
  }
  throw new Error("accepted");
}

describe("parseDispatchMessage", () => {
  test.if(withGolden)("accepts every message the Python dispatcher sent", () => {
    for (const m of golden.messages.filter((x) => x.scenario !== "raw error-path message (sent by golden.py, not the dispatcher)")) {
      const req = parseDispatchMessage(m.body, "ref", "core");
      expect(req.ts_dispatch_iso).toBe(JSON.parse(m.body).ts_dispatch);
    }
  });

  test.if(withGolden)("rejections use the original's log texts", () => {
    const texts = badLog.map((l) => l.message);
    expect(texts).toContain(reason('{"realm": "ref", "worker": "core", "job_id": "ref/log"}'));
    const mismatch = reason('{"realm": "ref", "worker": "other", "job_id": "ref/log", "run_id": "836862d5-2354-4748-a31b-201ce5b0d986", "ts_dispatch": "2026-11-27T17:42:16+00:00"}');
    expect(texts).toContain(mismatch);
  });

  test("unknown top-level fields, wrong types, bad JSON and bad timestamps are rejected", () => {
    const ok = { realm: "ref", worker: "core", job_id: "j", run_id: "r", ts_dispatch: "2026-11-27T17:42:16+00:00" };
    expect(reason(JSON.stringify({ ...ok, extra: 1 }))).toBe("Malformed dispatch message: Unexpected keys: extra");
    expect(reason(JSON.stringify({ ...ok, job_id: 5 }))).toMatch(/job_id must be a non-empty string/);
    expect(reason(JSON.stringify({ ...ok, parameters: [1] }))).toMatch(/parameters must be a map/);
    expect(reason(JSON.stringify({ ...ok, ts_dispatch: "yesterday" }))).toMatch(/^Bad timestamp in dispatch message/);
    expect(reason(JSON.stringify({ ...ok, realm: "x" }))).toBe("Bad dispatch for job j (r): Realm mismatch: Expected ref but got x");
    expect(reason("this is not json")).toMatch(/^Malformed dispatch message: not valid JSON/);
    // A broken body's content (here a would-be secret) never reaches the rejection text.
    expect(reason('{"parameters": {"password": hunter2-secret}}')).not.toContain("hunter2");
    expect(reason("[1,2]")).toBe("Malformed dispatch message: not a JSON object");
    expect(reason("null")).toBe("Malformed dispatch message: not a JSON object");
  });

  test("a rejected body's content never appears in the reason", () => {
    expect(reason('{"password": "hunter2"')).not.toContain("hunter2");
  });

  test("timestamps keep the sender's offset as Python's isoformat writes it back", () => {
    expect(parseIsoTimestamp("2026-11-27T17:42:16+10:00")!.iso).toBe("2026-11-27T17:42:16+10:00");
    expect(parseIsoTimestamp("2026-11-27T17:42:16Z")!.iso).toBe("2026-11-27T17:42:16+00:00");
    expect(parseIsoTimestamp("2026-11-27T17:42:16.5+00:00")!.iso).toBe("2026-11-27T17:42:16.500000+00:00");
    expect(parseIsoTimestamp("2026-11-27T17:42:16+10:00")!.date.toISOString()).toBe("2026-11-27T07:42:16.000Z");
    expect(parseIsoTimestamp("2026-13-27T17:42:16")).toBeUndefined();
  });
});
