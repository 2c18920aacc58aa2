/**
 * Deploys the built common, realm and worker stacks into moto_server's CloudFormation with realistic
 * parameters, checks the resources they created (tables, queue, bucket, topics, roles, launch template,
 * auto scaling group), then runs a job through the deployed realm: `lava dispatcher` sends it, `lava
 * worker --batch` runs it, with the aws backend pointed at moto for every service.
 *
 * moto does not implement every resource type in CloudFormation; it skips those silently (IAM groups,
 * SNS subscriptions, CloudWatch alarms, log metric filters, scaling policies — see docs/DEPLOYMENT.md).
 * The test asserts on what moto does create and lists the skipped types so a moto upgrade shows up.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackResourceSummary,
} from "@aws-sdk/client-cloudformation";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { CreateBucketCommand, GetBucketEncryptionCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetPolicyCommand, GetPolicyVersionCommand, GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { DescribeImagesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { buildAll } from "../../cfn/build.ts";
import { LAMBDAS, bundleLambda } from "../../src/lambdas/build.ts";
import { zip } from "../../src/lambdas/zip.ts";
import { needs } from "../support/availability.ts";
import { type AwsEmulators, emulatorsPresent, sdkConfig, startAwsEmulators } from "../support/emulators.ts";

const VERSION = "8.2.0";
const REALM = "ref";
const WORKER = "core";
const ROOT = join(import.meta.dir, "..", "..");

describe.if(needs("moto_server", emulatorsPresent.moto(), "pip install 'moto[server]'"))("deploy into moto", () => {
  let emu: AwsEmulators;
  let moto: string;
  let cfn: CloudFormationClient;
  const resources = new Map<string, StackResourceSummary[]>();
  const bundleFailures: string[] = [];
  const cfg = () => sdkConfig(moto);

  /** Every AWS service of the lava processes goes to moto: the realm lives there. */
  const motoEnv = (): Record<string, string> => {
    const env: Record<string, string> = { ...emu.env };
    for (const k of Object.keys(env)) if (k.startsWith("AWS_ENDPOINT_URL")) env[k] = moto;
    return env;
  };

  async function deploy(name: string, kind: string, params: Record<string, string>): Promise<void> {
    const body = readFileSync(join(out, `lava-${kind}.cfn.json`), "utf8");
    await cfn.send(
      new CreateStackCommand({
        StackName: name,
        TemplateBody: body,
        Capabilities: ["CAPABILITY_NAMED_IAM"],
        Parameters: Object.entries(params).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
      }),
    );
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0]!;
    expect(`${name}: ${stack.StackStatus} ${stack.StackStatusReason ?? ""}`.trim()).toBe(`${name}: CREATE_COMPLETE`);
    const list = (await cfn.send(new ListStackResourcesCommand({ StackName: name }))).StackResourceSummaries ?? [];
    resources.set(name, list);
  }

  const out = mkdtempSync(join(tmpdir(), "lava-cfn-moto-"));

  beforeAll(async () => {
    buildAll(out, VERSION);
    emu = await startAwsEmulators({ moto: true });
    moto = emu.endpoints.moto!;
    cfn = new CloudFormationClient(cfg());
    const s3 = new S3Client(cfg());
    for (const Bucket of ["lava-code", "lava-logs"]) await s3.send(new CreateBucketCommand({ Bucket }));
    for (const name of LAMBDAS) {
      // A lambda that does not bundle still gets a zip so the stacks deploy; the bundle test below fails.
      const code = await bundleLambda(name).catch((err: unknown) => {
        bundleFailures.push(`${name}: ${(err as Error).message.slice(0, 300)}`);
        return new TextEncoder().encode("exports.handler = async () => { throw new Error('not built'); };");
      });
      const body = zip([{ name: `${name}.js`, data: code }]);
      await s3.send(new PutObjectCommand({ Bucket: "lava-code", Key: `lava/_dist_/lambda/${name}-${VERSION}.zip`, Body: body }));
    }
    await deploy("lava-common", "common", {});
    await deploy(`lava-${REALM}`, "realm", {
      realm: REALM,
      createRealmsTable: "Yes",
      kmsKeyAdmin: "keyadmin",
      lavaBucketName: "lava-ref",
      logBucketName: "lava-logs",
      s3CodeBucket: "lava-code",
      s3CodePrefix: "lava",
      lambdaVersion: VERSION,
      lavaGroupTag: "test",
    });
    const ec2 = new EC2Client(cfg());
    const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.map((s) => s.SubnetId!).slice(0, 2);
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupId!).slice(0, 1);
    const ami = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    await deploy(`lava-${REALM}-${WORKER}`, "worker", {
      realm: REALM,
      worker: WORKER,
      alarmTopic: "lava-alarms",
      maxAllowedQueueDepth: "20",
      createHeartBeatAlarm: "Yes",
      amiId: ami,
      subnets: subnets.join(","),
      secGroups: groups.join(","),
      swapSize: "2",
      workerInstanceType: "t3.micro",
      workerAllowedInstances: "*",
      workerInstancesMax: "2",
      workerBacklogScalingTarget: "5",
    });
  }, 120_000);

  afterAll(async () => {
    cfn?.destroy();
    await emu?.stop();
  });

  test("all four lambdas bundle for Node.js", () => {
    expect(bundleFailures).toEqual([]);
  });

  test("realm tables have the original's keys and indexes", async () => {
    const dynamo = new DynamoDBClient(cfg());
    const describe = async (TableName: string) => (await dynamo.send(new DescribeTableCommand({ TableName }))).Table!;
    const jobs = await describe("lava.ref.jobs");
    expect(jobs.KeySchema).toEqual([{ AttributeName: "job_id", KeyType: "HASH" }]);
    expect(jobs.GlobalSecondaryIndexes![0]).toMatchObject({
      IndexName: "dispatcher-index",
      Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["worker", "schedule"] },
    });
    const events = await describe("lava.ref.events");
    expect(events.KeySchema!.map((k) => k.AttributeName)).toEqual(["job_id", "run_id"]);
    expect(events.LocalSecondaryIndexes![0]!.IndexName).toBe("job_id-tu_event-index");
    expect((await describe("lava.ref.s3triggers")).GlobalSecondaryIndexes![0]!.IndexName).toBe("s3trigger-index");
    expect((await describe("lava.realms")).KeySchema).toEqual([{ AttributeName: "realm", KeyType: "HASH" }]);
    // moto's CloudFormation ignores TimeToLiveSpecification and PointInTimeRecoverySpecification (TTL and
    // PITR are asserted on the template in templates.test.ts); the key schemas above are what it applies.
    dynamo.destroy();
  });

  test("worker queue, realm bucket encryption and topics", async () => {
    const sqs = new SQSClient(cfg());
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "lava-ref-core" }));
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }))).Attributes!;
    expect(attrs).toMatchObject({ VisibilityTimeout: "3600", MessageRetentionPeriod: "86400" });
    const s3 = new S3Client(cfg());
    // moto applies the bucket's encryption but not its lifecycle rules (asserted on the template instead).
    const sse = await s3.send(new GetBucketEncryptionCommand({ Bucket: "lava-ref" }));
    expect(sse.ServerSideEncryptionConfiguration!.Rules![0]!.ApplyServerSideEncryptionByDefault!.SSEAlgorithm).toBe("aws:kms");
    const topics = (await new SNSClient(cfg()).send(new ListTopicsCommand({}))).Topics!.map((t) => t.TopicArn!.split(":").pop());
    expect(topics).toEqual(expect.arrayContaining(["lava-ref-notices", "lava-ref-dispatch"]));
    sqs.destroy();
    s3.destroy();
  });

  test("roles and the worker policy (with ChangeMessageVisibility)", async () => {
    const iam = new IAMClient(cfg());
    for (const RoleName of ["lava-ref-dispatch-lambda", "lava-ref-stop-lambda", "lava-ref-metrics-lambda", "lava-ref-worker-core"]) {
      expect((await iam.send(new GetRoleCommand({ RoleName }))).Role!.RoleName).toBe(RoleName);
    }
    const policyArn = resources.get("lava-ref")!.find((r) => r.LogicalResourceId === "iamLavaWorkerPolicy")!.PhysicalResourceId!;
    const policy = (await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }))).Policy!;
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.DefaultVersionId! }));
    expect(decodeURIComponent(version.PolicyVersion!.Document!)).toContain("sqs:ChangeMessageVisibility");
    iam.destroy();
  });

  test("auto scaling group with the terminate lifecycle hook", async () => {
    const asg = new AutoScalingClient(cfg());
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ["lava-ref-core"] }))).AutoScalingGroups![0]!;
    expect(group).toMatchObject({ MinSize: 0, MaxSize: 2 });
    expect(group.Tags!.map((t) => t.Key)).toEqual(expect.arrayContaining(["LavaRealm", "LavaWorker", "Name"]));
    asg.destroy();
  });

  test("resource types moto skips are the known ones", () => {
    const created = new Set([...resources.values()].flat().map((r) => r.ResourceType!));
    const declared = new Set(
      ["common", "realm", "worker"].flatMap((k) =>
        Object.values((JSON.parse(readFileSync(join(out, `lava-${k}.cfn.json`), "utf8")) as { Resources: Record<string, { Type: string }> }).Resources).map((r) => r.Type),
      ),
    );
    const skipped = [...declared].filter((t) => !created.has(t)).sort();
    console.log(`moto CloudFormation skipped: ${skipped.join(", ") || "nothing"}`);
    expect(created.has("AWS::Lambda::Function")).toBe(true);
    expect(created.has("AWS::AutoScaling::AutoScalingGroup")).toBe(true);
    expect(created.has("AWS::EC2::LaunchTemplate")).toBe(true);
  });

  test("a job dispatched with lava dispatcher runs on lava worker --batch in the deployed realm", async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(cfg()));
    await doc.send(
      new PutCommand({
        TableName: "lava.realms",
        Item: { realm: REALM, s3_payloads: "s3://lava-ref/payloads", s3_temp: "s3://lava-ref/tmp", s3_key: "alias/lava-ref-user" },
      }),
    );
    await doc.send(
      new PutCommand({
        TableName: "lava.ref.jobs",
        Item: { job_id: "hello", type: "cmd", worker: WORKER, enabled: true, payload: "echo hello from moto", owner: "test", description: "cfn test" },
      }),
    );
    const env = { ...process.env, ...motoEnv(), LAVA_REALM: REALM, LAVA_HOME: mkdtempSync(join(tmpdir(), "lava-home-")) };
    const run = (args: string[]) =>
      Bun.spawn([process.execPath, join(ROOT, "src", "main.ts"), ...args], { env, stdout: "pipe", stderr: "pipe", cwd: ROOT });
    const dispatcher = run(["dispatcher", "--realm", REALM, "hello"]);
    const dispatched = await dispatcher.exited;
    expect(`${dispatched} ${await new Response(dispatcher.stderr).text()}`).toStartWith("0 ");
    const worker = run(["worker", "--realm", REALM, "--worker", WORKER, "--batch", "--root", "--wait", "1", "--sleep", "0"]);
    const workerExit = await worker.exited;
    const workerLog = await new Response(worker.stderr).text();
    expect(`${workerExit} ${workerLog.slice(-2000)}`).toStartWith("0 ");
    const events = await doc.send(new QueryCommand({ TableName: "lava.ref.events", KeyConditionExpression: "job_id = :j", ExpressionAttributeValues: { ":j": "hello" } }));
    expect(events.Items!.length).toBe(1);
    expect(`${events.Items![0]!.status} ${JSON.stringify(events.Items![0]!.log)}`).toStartWith("complete ");
    const realm = await doc.send(new GetCommand({ TableName: "lava.realms", Key: { realm: REALM } }));
    expect(realm.Item!.s3_temp).toBe("s3://lava-ref/tmp");
    doc.destroy();
  }, 60_000);
});
