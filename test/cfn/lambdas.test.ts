/** Pure parts of the realm lambdas: event parsing, the stop command, the backlog metric, the zip writer. */
import { describe, expect, test } from "bun:test";
import { inflateRawSync } from "node:zlib";
import {
  cliRequest,
  expandDottedPairs,
  jsonBody,
  jsonRequests,
  messageBodies,
  shellSplit,
} from "../../src/lambdas/dispatch-requests.ts";
import { backlogMetrics } from "../../src/lambdas/metrics.ts";
import { lambdaLog, realmFromLavaId } from "../../src/lambdas/shared.ts";
import { parseDetail, shellQuote, stopCommand } from "../../src/lambdas/stop.ts";
import { crc32, zip } from "../../src/lambdas/zip.ts";

describe("dispatch event parsing", () => {
  test("SNS and SQS records give their bodies", () => {
    const event = {
      Records: [
        { EventSource: "aws:sns", Sns: { Message: "job-a" } },
        { eventSource: "aws:sqs", body: '{"job_id": "job-b"}' },
      ],
    };
    expect(messageBodies(event)).toEqual(["job-a", '{"job_id": "job-b"}']);
  });

  test("a direct event with job_id is one request; other shapes are errors", () => {
    expect(messageBodies({ job_id: "j" })).toEqual([{ job_id: "j" }]);
    expect(() => messageBodies({ foo: 1 })).toThrow("Cannot determine event format");
    expect(() => messageBodies({ Records: [{ eventSource: "aws:s3" }] })).toThrow("Event source aws:s3 not supported");
  });

  test("JSON is sniffed: truthy JSON is the JSON form, anything else the CLI form", () => {
    expect(jsonBody('{"job_id":"j"}')).toEqual({ job_id: "j" });
    expect(jsonBody("job-a -p x=1")).toBeUndefined();
    expect(jsonBody("{}")).toBeUndefined();
    expect(jsonBody("0")).toBeUndefined();
  });

  test("JSON requests: object or list; x- keys ignored; unknown keys and missing job_id rejected", () => {
    expect(jsonRequests({ job_id: "j", delay: "1m", parameters: { a: 1 }, "x-note": "n" })).toEqual([
      { jobId: "j", parameters: { a: 1 }, delaySeconds: 60 },
    ]);
    expect(jsonRequests([{ job_id: "a" }, { job_id: "b", globals: { g: "v" } }])).toEqual([
      { jobId: "a", delaySeconds: 0 },
      { jobId: "b", globals: { g: "v" }, delaySeconds: 0 },
    ]);
    expect(() => jsonRequests({ job_id: "j", worker: "w" })).toThrow("Unexpected keys: worker");
    expect(() => jsonRequests({ parameters: {} })).toThrow("Missing keys: job_id");
    expect(() => jsonRequests(["x"])).toThrow("must be a dict");
    expect(() => jsonRequests("text")).toThrow("must be list or dict");
  });

  test("CLI lines: options, dotted names, quoting and comments", () => {
    expect(cliRequest("  # a comment", 15)).toBeUndefined();
    expect(cliRequest("", 15)).toBeUndefined();
    expect(cliRequest(`job/one -d 2m -p a.b=1 --param "c=two words" -g g=x --global=h=y -pz=9 # tail`, 15)).toEqual({
      jobId: "job/one",
      parameters: { a: { b: "1" }, c: "two words", z: "9" },
      globals: { g: "x", h: "y" },
      delaySeconds: 120,
    });
  });

  test("CLI delay is range-checked against SQS_MAX_DELAY_MINS", () => {
    expect(cliRequest("j -d 15m", 15)!.delaySeconds).toBe(900);
    expect(() => cliRequest("j -d 16m", 15)).toThrow("Must be between 0 and 15 minutes");
    expect(() => cliRequest("j --delay soon", 15)).toThrow("Bad -d, --delay value");
  });

  test("CLI errors: unknown options, missing values, bad pairs", () => {
    expect(() => cliRequest("j --worker w", 15)).toThrow("unrecognized arguments: --worker w");
    expect(() => cliRequest("j -p", 15)).toThrow("expected one argument");
    expect(() => cliRequest("j -p novalue", 15)).toThrow("expected name=value");
    expect(() => expandDottedPairs([["a", "1"], ["a.b", "2"]], "-p")).toThrow("conflicts");
  });

  test("shell splitting follows POSIX quoting", () => {
    expect(shellSplit(`a 'b c' "d \\"e\\"" f\\ g h#not-comment # comment`)).toEqual(["a", "b c", 'd "e"', "f g", "h#not-comment"]);
    expect(() => shellSplit("a 'open")).toThrow("No closing quotation");
  });
});

describe("stop lambda", () => {
  const settings = { realm: "ref", functionName: "lava-ref-stop", waitTime: "5m", heartbeat: "2m", level: "info" };

  test("the lifecycle detail becomes a background lava-stop with lifecycle arguments", () => {
    const detail = parseDetail({
      EC2InstanceId: "i-0abc",
      AutoScalingGroupName: "lava-ref-core",
      LifecycleActionToken: "tok-1",
      LifecycleHookName: "terminate",
      Origin: "AutoScalingGroup",
    });
    expect(stopCommand(detail, settings)).toBe(
      "nohup lava-stop --no-dispatch --signal SIGHUP --instance-id i-0abc --log @local0 --level info --wait 5m " +
        "--auto-scaling-group-name lava-ref-core --lifecycle-heartbeat 2m --lifecycle-action-token tok-1 " +
        "--lifecycle-hook-name terminate > /tmp/lava/__stop__ 2>&1 &",
    );
  });

  test("without a group only the instance is stopped", () => {
    expect(stopCommand(parseDetail({ EC2InstanceId: "i-1" }), settings)).not.toContain("--auto-scaling-group-name");
  });

  test("a group or function of another realm is refused", () => {
    expect(() => stopCommand(parseDetail({ EC2InstanceId: "i-1", AutoScalingGroupName: "lava-prod-core" }), settings)).toThrow(
      "realm name mismatch",
    );
    expect(() =>
      stopCommand(parseDetail({ EC2InstanceId: "i-1", AutoScalingGroupName: "lava-ref-core" }), { ...settings, functionName: "lava-x-stop" }),
    ).toThrow("realm name mismatch");
    expect(() => parseDetail({})).toThrow("Missing keys: EC2InstanceId");
  });

  test("shell quoting as Python's shlex.quote", () => {
    expect(shellQuote("")).toBe("''");
    expect(shellQuote("abc-1.2/x")).toBe("abc-1.2/x");
    expect(shellQuote("a b'c")).toBe(`'a b'"'"'c'`);
  });
});

describe("metrics lambda", () => {
  test("backlog per InService instance, rounded to 0.1; groups without instances are skipped", () => {
    const depths = new Map([
      ["lava-ref-core", 10],
      ["lava-ref-big", 7],
      ["lava-ref-idle", 4],
    ]);
    const inService = new Map([
      ["lava-ref-core", 3],
      ["lava-ref-big", 1],
      ["lava-ref-idle", 0],
    ]);
    expect(backlogMetrics("ref", depths, inService)).toEqual([
      { MetricName: "WorkerBacklog", Dimensions: [{ Name: "Realm", Value: "ref" }, { Name: "Worker", Value: "core" }], Value: 3.3 },
      { MetricName: "WorkerBacklog", Dimensions: [{ Name: "Realm", Value: "ref" }, { Name: "Worker", Value: "big" }], Value: 7 },
    ]);
  });

  test("realm names come from lava-<realm>-… identifiers", () => {
    expect(realmFromLavaId("lava-ref-metrics")).toBe("ref");
    expect(() => realmFromLavaId("other-ref")).toThrow("Bad lava identifier");
  });
});

describe("lambda log", () => {
  test("JSON lines above LOGLEVEL", () => {
    const lines: string[] = [];
    const log = lambdaLog("dispatch", { LOGLEVEL: "warning" }, (l) => lines.push(l));
    log.info("hidden");
    log.error("shown", { job_id: "j" });
    expect(lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "ERROR", event_source: "dispatch", message: "shown", job_id: "j" });
  });

  test("secret-named fields are redacted, as by the worker's logger", () => {
    const lines: string[] = [];
    const log = lambdaLog("s3trigger", {}, (l) => lines.push(l));
    log.info("connecting", { password: "hunter2-secret", webhook_url: "https://hooks.example/T0/B0/xyz", job_id: "j" });
    expect(lines.join("\n")).not.toContain("hunter2-secret");
    expect(lines.join("\n")).not.toContain("hooks.example");
    expect(JSON.parse(lines[0]!)).toMatchObject({ password: "********", webhook_url: "********", job_id: "j" });
  });
});

describe("zip writer", () => {
  test("entries round-trip and carry the right CRC", () => {
    const data = new TextEncoder().encode("exports.handler = async () => 1;\n".repeat(50));
    const archive = Buffer.from(zip([{ name: "dispatch.js", data }]));
    expect(archive.readUInt32LE(0)).toBe(0x04034b50);
    const nameLength = archive.readUInt16LE(26);
    const size = archive.readUInt32LE(18);
    expect(archive.subarray(30, 30 + nameLength).toString()).toBe("dispatch.js");
    const body = inflateRawSync(archive.subarray(30 + nameLength, 30 + nameLength + size));
    expect(new Uint8Array(body)).toEqual(data);
    expect(archive.readUInt32LE(14)).toBe(crc32(data));
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test("unzip accepts it", async () => {
    if (!Bun.which("unzip")) return console.warn("unzip not installed: archive check by unzip skipped");
    const dir = `${process.env.TMPDIR ?? "/tmp"}/lava-zip-${process.pid}`;
    Bun.spawnSync(["mkdir", "-p", dir]);
    await Bun.write(`${dir}/t.zip`, zip([{ name: "a.js", data: new TextEncoder().encode("x") }]));
    const run = Bun.spawnSync(["unzip", "-t", `${dir}/t.zip`], { stdout: "pipe" });
    expect(run.exitCode).toBe(0);
  });
});
