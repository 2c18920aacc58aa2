/**
 * The EC2 boot chain against the S3 and DynamoDB emulators: 50-lava.sh bundle selection, install and
 * daemon start per `x-workers`, and root.boot.sh running every `_boot_` scriptlet.
 * The bundles hold a small stand-in executable (a shell script answering `lava version`), so these tests
 * check the boot scripts, not the compiled program (test/dist covers that).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeBundle } from "../../build/bundle.ts";
import { targetByName } from "../../build/targets.ts";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { REPO, awsWorks, fakeHost, runScript, type FakeHost } from "./support.ts";

const BUCKET = "lava-code";
const PREFIX = "lava";
const SOURCE = `s3://${BUCKET}/${PREFIX}`;
const LAVA_SH = join(REPO, "boot", "_boot_", "50-lava.sh");

const ready =
  needs("aws CLI", awsWorks(), "apt-get install awscli") &&
  needs("dynalite", emulatorsPresent.dynalite()) &&
  needs("fauxqs", emulatorsPresent.fauxqs());

/** Bundles in the bucket: name → stand-in version printed by `lava version`. */
const BUNDLES: [string, string, string][] = [
  // version, target, os dir
  ["1.2.0", "linux-x64", "linux"],
  ["1.9.0", "linux-x64", "linux"],
  ["1.10.0", "linux-x64", "linux"],
  ["1.10.0", "linux-x64-baseline", "linux"],
  ["1.11.0", "linux-arm64", "linux"],
  ["3.0.0", "darwin-arm64", "darwin"],
];

function standIn(version: string): Uint8Array {
  return new TextEncoder().encode(`#!/bin/sh\n# stand-in for the lava executable\necho ${version}\n`);
}

describe.if(ready)("boot: 50-lava.sh", () => {
  let emu: AwsEmulators;
  let dynamo: DynamoDBClient;
  const hosts: FakeHost[] = [];

  const putRealm = (realm: string, xWorkers: Record<string, unknown>) =>
    dynamo.send(new PutItemCommand({ TableName: "lava.realms", Item: marshall({ realm, "x-workers": xWorkers }) }));

  const host = (opts: Parameters<typeof fakeHost>[0] = {}) => {
    const h = fakeHost({ endpoints: { dynamodb: emu.endpoints.dynamodb, s3: emu.endpoints.fauxqs }, ...opts });
    hosts.push(h);
    return h;
  };

  const installed = (h: FakeHost) =>
    JSON.parse(readFileSync(join(h.root, "opt", "lava", "manifest.json"), "utf8")) as { version: string; target: string };

  beforeAll(async () => {
    emu = await startAwsEmulators();
    const cfg = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    dynamo = new DynamoDBClient({ ...cfg, endpoint: emu.endpoints.dynamodb });
    await dynamo.send(
      new CreateTableCommand({
        TableName: "lava.realms",
        KeySchema: [{ AttributeName: "realm", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "realm", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const s3 = new S3Client({ ...cfg, endpoint: emu.endpoints.fauxqs, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const [version, target, osDir] of BUNDLES) {
      const bundle = makeBundle(targetByName(target), standIn(version), version, Bun.version);
      const key = `${PREFIX}/_dist_/pkg/${osDir}/${bundle.fileName}`;
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bundle.bytes }));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${key}.sha256`, Body: `${bundle.sha256}  ${bundle.fileName}\n` }));
    }
    for (const name of readdirSync(join(REPO, "boot", "_boot_"))) {
      const body = readFileSync(join(REPO, "boot", "_boot_", name));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/_boot_/${name}`, Body: body }));
    }
    await putRealm("latest", {});
    await putRealm("pinned", { core: { version: "1.2.0" }, _: { version: "1.9.0" } });
    await putRealm("defaulted", { _: { version: "1.9.0" } });
    await putRealm("absent", { core: { version: "7.7.7" } });
    await putRealm("prod01", {
      core: { threads: 6, version: "1.9.0", workers: "core core-bulk" },
      "core-bulk": { daemons: 2, threads: 8, version: "1.2.0" },
      _: { env: { AWS_MAX_ATTEMPTS: 10, AWS_RETRY_MODE: "adaptive", "BAD-KEY": "x", QUOTED: "it's" } },
    });
    await putRealm("badthreads", { core: { threads: "6; rm -rf /" } });
  }, 30_000);

  afterAll(async () => {
    for (const h of hosts) h.remove();
    await emu?.stop();
  }, 30_000);

  test("no version: highest version for this OS and a compatible arch (x64 preferred with AVX2)", () => {
    const h = host();
    const res = runScript(LAVA_SH, [SOURCE, "latest", "core"], h.env);
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    // 1.10.0 sorts above 1.9.0 (version order), arm64 1.11.0 and darwin 3.0.0 are not for this host.
    expect(installed(h)).toMatchObject({ version: "1.10.0", target: "linux-x64" });
    expect(h.syslog()).toContain("Selected lava-1.10.0-linux-x64.tar.gz");
    expect(h.syslog()).toContain("Installed lava v1.10.0");
  }, 30_000);

  test("no version, x86-64 without AVX2: the baseline bundle", () => {
    const h = host({ cpuFlags: "fpu sse2 avx" });
    const res = runScript(LAVA_SH, [SOURCE, "latest", "core"], h.env);
    expect(res.exitCode).toBe(0);
    expect(installed(h)).toMatchObject({ version: "1.10.0", target: "linux-x64-baseline" });
  }, 30_000);

  test("no version, aarch64: the arm64 bundle", () => {
    const h = host({ unameMachine: "aarch64" });
    const res = runScript(LAVA_SH, [SOURCE, "latest", "core"], h.env);
    expect(res.exitCode).toBe(0);
    expect(installed(h)).toMatchObject({ version: "1.11.0", target: "linux-arm64" });
  }, 30_000);

  test("the worker's own version wins over _, and an older version is installed when asked for", () => {
    const h = host();
    expect(runScript(LAVA_SH, [SOURCE, "pinned", "core"], h.env).exitCode).toBe(0);
    expect(installed(h)).toMatchObject({ version: "1.2.0", target: "linux-x64" });
    const other = host();
    expect(runScript(LAVA_SH, [SOURCE, "defaulted", "core"], other.env).exitCode).toBe(0);
    expect(installed(other)).toMatchObject({ version: "1.9.0" });
  }, 30_000);

  test("a requested version with no bundle for this host fails clearly and installs nothing", () => {
    const h = host();
    const res = runScript(LAVA_SH, [SOURCE, "absent", "core"], h.env);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain("Cannot find lava v7.7.7 for linux (x64 x64-baseline)");
    expect(existsSync(join(h.root, "opt", "lava"))).toBe(false);
    // 1.2.0 exists for x64 only: a CPU without AVX2 cannot run it.
    const old = host({ cpuFlags: "fpu sse2" });
    const res2 = runScript(LAVA_SH, [SOURCE, "pinned", "core"], old.env);
    expect(res2.exitCode).toBe(1);
    expect(res2.stderr).toContain("Cannot find lava v1.2.0 for linux (x64-baseline)");
  }, 30_000);

  test("no such realm fails clearly", () => {
    const h = host();
    const res = runScript(LAVA_SH, [SOURCE, "nosuchrealm", "core"], h.env);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain("nosuchrealm: No such realm");
  }, 30_000);

  test("parasitic workers: one install, an account per worker, daemons, threads and env per x-workers", () => {
    const h = host();
    const res = runScript(LAVA_SH, [SOURCE, "prod01", "core"], h.env);
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    // One version per host: the host worker's; core-bulk's own version is ignored (as in the original).
    expect(installed(h).version).toBe("1.9.0");
    expect(lstatSync(join(h.root, "usr/local/bin/lava-worker")).isSymbolicLink()).toBe(true);

    const passwd = readFileSync(join(h.root, "etc", "passwd"), "utf8");
    expect(passwd).toContain("lava-core:");
    expect(passwd).toContain("lava-core-bulk:");

    const core = readFileSync(join(h.root, "home", "lava-core", "lava.start"), "utf8");
    const bulk = readFileSync(join(h.root, "home", "lava-core-bulk", "lava.start"), "utf8");
    expect(core).toContain('--worker "core"');
    expect(core).toContain("--threads 6");
    expect(bulk).toContain('--worker "core-bulk"');
    expect(bulk).toContain("--threads 8");
    for (const start of [core, bulk]) {
      expect(start).toContain('--realm "prod01"');
      expect(start).toContain("--daemon");
      expect(start).toContain("--log-json");
      expect(start).toContain("--heartbeat 60");
      expect(start).toContain("export AWS_MAX_ATTEMPTS='10'");
      expect(start).toContain("export AWS_RETRY_MODE='adaptive'");
      expect(start).not.toContain("BAD-KEY");
      expect(start).not.toContain("QUOTED");
    }
    expect(Bun.spawnSync(["bash", "-n", join(h.root, "home", "lava-core", "lava.start")]).exitCode).toBe(0);

    // Daemons start from each account's home (pidfiles and crontab stay per account).
    const calls = h.calls();
    expect(calls.match(/sudo -Hnu lava-core \.\/lava\.start/g)?.length).toBe(1);
    expect(calls.match(/sudo -Hnu lava-core-bulk \.\/lava\.start/g)?.length).toBe(2);
    expect(calls).toContain(`cwd=${join(h.root, "home", "lava-core-bulk")}`);
    expect(calls).toContain("systemctl start amazon-ssm-agent");
    expect(calls).toContain("usermod -aG docker lava-core-bulk");

    const tmp = statSync(join(h.root, "tmp", "lava", "prod01"));
    expect(tmp.mode & 0o7777).toBe(0o1770);
  }, 30_000);

  test("a thread count that is not a number aborts before starting anything", () => {
    const h = host();
    const res = runScript(LAVA_SH, [SOURCE, "badthreads", "core"], h.env);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain("Bad thread count");
    expect(h.calls()).not.toContain("sudo");
  }, 30_000);

  test("root.boot.sh runs every _boot_ scriptlet in order and the worker starts", () => {
    const h = host();
    const cwDir = join(h.root, "opt/aws/amazon-cloudwatch-agent");
    Bun.spawnSync(["mkdir", "-p", join(cwDir, "etc"), join(cwDir, "bin")]);
    Bun.write(join(cwDir, "etc", "config.json"), JSON.stringify({ agent: { run_as_user: "root" } }));
    Bun.write(join(cwDir, "bin", "amazon-cloudwatch-agent-ctl"), '#!/bin/bash\necho "cwctl $*" >> "$LAVA_BOOT_ROOT/calls.log"\n');
    Bun.spawnSync(["chmod", "+x", join(cwDir, "bin", "amazon-cloudwatch-agent-ctl")]);

    const res = runScript(join(REPO, "boot", "root.boot.sh"), [SOURCE, "latest", "core"], h.env);
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    const log = h.syslog();
    const order = ["10-secupdate.sh", "20-cloudwatch.sh", "50-lava.sh", "90-motd.sh"].map((s) => log.indexOf(`Boot script ${s}: OK`));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(log).not.toContain("README");

    const conf = JSON.parse(readFileSync(join(cwDir, "etc", "config.json"), "utf8"));
    expect(conf.logs.logs_collected.files.collect_list).toEqual([
      { file_path: "/var/log/lava", log_group_name: "/var/log/lava/latest", log_stream_name: "core/{instance_id}" },
    ]);
    expect(h.calls()).toContain("cwctl -a fetch-config -m ec2");
    expect(h.calls()).toContain("yum check-update --security");
    expect(installed(h).version).toBe("1.10.0");
  }, 30_000);

  test("root.boot.sh stops at a scriptlet exiting 1 and carries on after other failures", () => {
    const h = host({ extraEnv: { BOOT_TEST_YUM_STATUS: "1" } });
    // No CloudWatch agent config: 20-cloudwatch exits 2; yum failing makes 10-secupdate exit 2.
    const res = runScript(join(REPO, "boot", "root.boot.sh"), [SOURCE, "absent", "core"], h.env);
    expect(res.exitCode).toBe(1);
    const log = h.syslog();
    expect(log).toContain("Boot script 10-secupdate.sh failed with status 2 - continuing");
    expect(log).toContain("Boot script 20-cloudwatch.sh failed with status 2 - continuing");
    expect(log).toContain("ABORT Boot script 50-lava.sh failed");
    expect(log).not.toContain("Running boot script 90-motd.sh");
  }, 30_000);
});
