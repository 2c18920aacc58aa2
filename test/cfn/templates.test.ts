/**
 * The built CloudFormation templates: cfn-lint clean, the parameters of the installation chapter (all of
 * them, same names), and the resources the platform relies on (table keys as the original's, the worker
 * policy's grants, the worker stack's auto scaling wiring).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAll } from "../../cfn/build.ts";
import type { Json, Template } from "../../cfn/lib.ts";
import { commandWorks, needs } from "../support/availability.ts";
import { realmSeedTables, seedAvailable, workerSeedTables } from "./seed-parameters.ts";
import { goldenJson, haveGolden } from "../support/shared.ts";

const VERSION = "8.2.0";
const out = mkdtempSync(join(tmpdir(), "lava-cfn-"));
buildAll(out, VERSION);
const load = (kind: string): Template => JSON.parse(readFileSync(join(out, `lava-${kind}.cfn.json`), "utf8")) as Template;
const common = load("common");
const realm = load("realm");
const worker = load("worker");

/** Parameters the original's realm template has beyond the chapter's table. */
const REALM_SOURCE_ONLY = ["lambdaArchitecture", "lambdaMemory", "lambdaRuntime", "lavaGroupTag"];

describe("build", () => {
  test("writes the three JSON templates and their markdown docs", () => {
    expect(readdirSync(out).sort()).toEqual([
      "lava-common.cfn.json",
      "lava-common.cfn.md",
      "lava-realm.cfn.json",
      "lava-realm.cfn.md",
      "lava-worker.cfn.json",
      "lava-worker.cfn.md",
    ]);
    const md = readFileSync(join(out, "lava-worker.cfn.md"), "utf8");
    for (const name of Object.keys(worker.Parameters)) expect(md).toContain(`| \`${name}\` |`);
    expect(md).toContain("### EC2 instance selection");
  });

  test("the version is the only allowed value of Version", () => {
    for (const t of [common, realm, worker]) {
      expect(t.Parameters.Version!.Default).toBe(VERSION);
      expect(t.Parameters.Version!.AllowedValues).toEqual([VERSION]);
    }
  });

  test("a malformed version is refused", () => {
    expect(() => buildAll(join(out, "bad"), "eight")).toThrow("not a version");
  });
});

describe.if(needs("cfn-lint", commandWorks(["cfn-lint", "--version"]), "pip install cfn-lint"))("cfn-lint", () => {
  test("all templates are clean", () => {
    const files = ["common", "realm", "worker"].map((k) => join(out, `lava-${k}.cfn.json`));
    const run = Bun.spawnSync(["cfn-lint", ...files], { stdout: "pipe", stderr: "pipe" });
    const report = run.stdout.toString() + run.stderr.toString();
    expect(report).toBe("");
    expect(run.exitCode).toBe(0);
  });
});

describe.if(needs("seed chapter", seedAvailable(), "shared/seed/lava-installation-and-operation.txt"))("parameters match the installation chapter", () => {
  test("realm: every parameter of the chapter, plus only the original's source-only ones", () => {
    const tables = realmSeedTables();
    expect(tables.length).toBe(1);
    const seed = tables[0]!;
    expect(seed.length).toBeGreaterThanOrEqual(20);
    expect(Object.keys(realm.Parameters).sort()).toEqual([...seed, ...REALM_SOURCE_ONLY].sort());
  });

  test("worker: the chapter's three tables are exactly the template's three parameter groups", () => {
    const tables = workerSeedTables();
    expect(tables.length).toBe(3);
    const groups = worker.Metadata["AWS::CloudFormation::Interface"]!.ParameterGroups;
    expect(groups.map((g) => g.Parameters.slice().sort())).toEqual(tables.map((t) => t.slice().sort()));
    expect(Object.keys(worker.Parameters).sort()).toEqual(tables.flat().sort());
  });

  test("common: only Version", () => {
    expect(Object.keys(common.Parameters)).toEqual(["Version"]);
  });
});

type Props = Record<string, Json>;
const props = (t: Template, id: string): Props => {
  const r = t.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r.Properties;
};
const sub = (v: Json | undefined): string => ((v as { "Fn::Sub": string })["Fn::Sub"] ?? v) as string;

const golden = await goldenJson<{ dynamodb_tables: Record<string, Props> }>("realm-setup.json", { dynamodb_tables: {} });

describe("realm resources", () => {
  test.if(haveGolden()).each([
    ["dynTableRealm", "lava.realms"],
    ["dynTableJobs", "lava.ref.jobs"],
    ["dynTableConnections", "lava.ref.connections"],
    ["dynTableEvents", "lava.ref.events"],
    ["dynTableState", "lava.ref.state"],
    ["dynTableS3Triggers", "lava.ref.s3triggers"],
  ])("%s has the original's keys and indexes (%s)", (id, goldenName) => {
    const p = props(realm, id);
    const g = golden.dynamodb_tables[goldenName]!;
    expect(sub(p.TableName).replace("${realm}", "ref")).toBe(goldenName);
    expect(p.KeySchema).toEqual(g.KeySchema!);
    expect(new Set(p.AttributeDefinitions as Json[])).toEqual(new Set(g.AttributeDefinitions as Json[]));
    const strip = (indexes: Json | undefined) =>
      ((indexes ?? []) as Props[]).map(({ ProvisionedThroughput: _, ...rest }) => rest);
    expect(strip(p.GlobalSecondaryIndexes)).toEqual(strip(g.GlobalSecondaryIndexes));
    expect(strip(p.LocalSecondaryIndexes)).toEqual(strip(g.LocalSecondaryIndexes));
  });

  test("TTL on events and state only; PITR on all but events", () => {
    const ttl = Object.entries(realm.Resources)
      .filter(([, r]) => r.Type === "AWS::DynamoDB::Table" && r.Properties.TimeToLiveSpecification)
      .map(([id]) => id);
    expect(ttl.sort()).toEqual(["dynTableEvents", "dynTableState"]);
    expect(props(realm, "dynTableEvents").PointInTimeRecoverySpecification).toBeUndefined();
    for (const id of ["dynTableRealm", "dynTableJobs", "dynTableConnections", "dynTableState", "dynTableS3Triggers"]) {
      expect(props(realm, id).PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
  });

  test("bucket expires tmp/ after tmpExpiryDays", () => {
    const rules = (props(realm, "s3LavaBucket").LifecycleConfiguration as Props).Rules as Props[];
    expect(rules).toContainEqual({ Id: "ExpireTmp", Status: "Enabled", Prefix: "tmp/", ExpirationInDays: { Ref: "tmpExpiryDays" } });
  });

  test("worker policy: the original's SQS grants plus ChangeMessageVisibility, scoped to the realm's queues", () => {
    const doc = props(realm, "iamLavaWorkerPolicy").PolicyDocument as { Statement: Props[] };
    const sqs = doc.Statement.find((s) => s.Sid === "AccessSqsQueues")!;
    expect(sqs.Action).toEqual([
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]);
    expect(sub(sqs.Resource)).toEndWith(":lava-${realm}-*");
  });

  test("the four lambdas run Node.js handlers from the versioned zips", () => {
    for (const [id, name] of [
      ["lambdaDispatch", "dispatch"],
      ["lambdaS3Trigger", "s3trigger"],
      ["lambdaLavaStop", "stop"],
      ["lambdaLavaMetrics", "metrics"],
    ] as const) {
      const p = props(realm, id);
      expect(p.Handler).toBe(`${name}.handler`);
      expect(sub((p.Code as Props).S3Key)).toBe(`\${s3CodePrefix}/_dist_/lambda/${name}-\${lambdaVersion}.zip`);
      expect(realm.Resources[id]!.Condition).toBe("ifCreateLambdas");
    }
    expect(realm.Parameters.lambdaRuntime!.AllowedValues!.every((r) => String(r).startsWith("nodejs"))).toBe(true);
  });
});

describe("worker resources", () => {
  test("explicit type → launch template names it; otherwise a mixed-instances policy", () => {
    const asg = props(worker, "asgLavaWorker");
    expect(asg.LaunchTemplate).toMatchObject({ "Fn::If": ["ifInstanceType", expect.anything(), { Ref: "AWS::NoValue" }] });
    const mixed = (asg.MixedInstancesPolicy as { "Fn::If": [string, Json, Props] })["Fn::If"];
    expect(mixed[0]).toBe("ifInstanceType");
    expect(JSON.stringify(mixed[2])).toContain('"AllowedInstanceTypes":{"Ref":"workerAllowedInstances"}');
  });

  test("terminate hook, backlog target tracking and the stop-lambda rule", () => {
    const asg = props(worker, "asgLavaWorker");
    expect(asg.LifecycleHookSpecificationList).toMatchObject([
      { LifecycleHookName: "terminate", LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", HeartbeatTimeout: 1800, DefaultResult: "CONTINUE" },
    ]);
    const tracking = props(worker, "asgWorkerScalingPolicy").TargetTrackingConfiguration as Props;
    expect(tracking.CustomizedMetricSpecification).toMatchObject({ Namespace: "Lava", MetricName: "WorkerBacklog", Statistic: "Average" });
    const rule = props(worker, "eventsWorkerTerminating");
    expect(rule.EventPattern).toMatchObject({ source: ["aws.autoscaling"], "detail-type": ["EC2 Instance-terminate Lifecycle Action"] });
    expect((rule.Targets as Props[])[0]).toMatchObject({ InputPath: "$.detail" });
  });

  test("user data runs the worker's boot scripts from the code bucket", () => {
    const lt = props(worker, "launchtemplateLavaWorker").LaunchTemplateData as Props;
    const [text] = ((lt.UserData as Props)["Fn::Base64"] as { "Fn::Sub": [string, Json] })["Fn::Sub"];
    const data = JSON.parse(text.replace("${swapSize}", "2")) as Record<string, unknown>;
    expect(data.shell0).toBe(
      "/usr/local/bin/s3run s3://${code}/${prefix}/${realm}/${worker}/root.boot0.sh s3://${code}/${prefix} ${realm} ${worker}",
    );
    expect(data.shell).toContain("/root.boot.sh ");
    expect(data.swap).toEqual({ size: 2 });
  });

  test("queue depth and heartbeat alarms", () => {
    expect(props(worker, "alarmQueueDepth")).toMatchObject({ MetricName: "ApproximateNumberOfMessagesVisible", Namespace: "AWS/SQS" });
    expect(sub(props(worker, "logFilterWorkerHeartbeat").FilterPattern)).toContain('$.event_type = "heartbeat"');
    expect(props(worker, "alarmLavaHeartbeat")).toMatchObject({ TreatMissingData: "breaching", Statistic: "SampleCount" });
  });
});
