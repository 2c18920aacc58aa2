/**
 * `lava ami` against moto: which AMIs are listed (own account, available, named lava-* and with --sak
 * sak-*, newest first, -n N of them), which CloudFormation stacks count as worker stacks (realm, worker
 * and a non-empty amiId or pre-7.1 sakAmiId), and update mode (-U) driven through stdin, which must
 * change only the AMI parameter of the chosen stack and keep every other parameter and the template.
 * The original has no non-interactive flag, so answers are piped to stdin as a user would type them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, GetTemplateCommand } from "@aws-sdk/client-cloudformation";
import { CreateTagsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { needs } from "../support/availability.ts";
import { type AwsEmulators, childEnv, emulatorsPresent, sdkConfig, startAwsEmulators } from "../support/emulators.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

/** A worker-like template: the named String parameters and one resource (CloudFormation needs one). */
function template(names: string[], amiParam: string): string {
  const params = Object.fromEntries(names.map((n) => [n, n === amiParam ? { Type: "String", Default: "" } : { Type: "String" }]));
  return JSON.stringify({
    Parameters: params,
    Resources: { AmiRecord: { Type: "AWS::SSM::Parameter", Properties: { Name: { "Fn::Sub": "/test/${AWS::StackName}/ami" }, Type: "String", Value: { "Fn::Sub": `ami:\${${amiParam}}` } } } },
  });
}

const OWN_ACCOUNT = "123456789012"; // moto's default account

/** name, architecture, creation date, other moto AMI fields, LavaVersion tag. */
const IMAGES: [string, string, string, Record<string, string>, string][] = [
  ["lava-8.0.0-amzn2023-py3.11-x86_64-20240101", "x86_64", "2024-01-01", {}, "8.0.0"],
  ["sak-2.0.0-amzn2023-py3.11-x86_64-20240201", "x86_64", "2024-02-01", {}, ""],
  ["lava-8.1.0-amzn2023-py3.11-arm64-20240301", "arm64", "2024-03-01", {}, "8.1.0"],
  ["other-image-20240401", "x86_64", "2024-04-01", {}, ""],
  ["lava-8.2.0-amzn2023-py3.11-x86_64-20240501", "x86_64", "2024-05-01", {}, "8.2.0"],
  ["lava-9.0.0-amzn2023-py3.11-x86_64-20240601", "x86_64", "2024-06-01", { owner_id: "999999999999" }, "9.0.0"], // not ours
  ["lava-9.1.0-amzn2023-py3.11-x86_64-20240701", "x86_64", "2024-07-01", { state: "pending" }, "9.1.0"], // not available
];

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

describe.if(needs("moto_server", emulatorsPresent.moto(), "pip install 'moto[server]'"))("lava ami (moto)", () => {
  let emu: AwsEmulators;
  let cfn: CloudFormationClient;
  const ami: Record<string, string> = {};
  let dir = "";

  async function lavaAmi(args: string[], stdin = ""): Promise<Run> {
    const proc = Bun.spawn([process.execPath, MAIN, "ami", ...args], {
      env: childEnv(emu, { AWS_ENDPOINT_URL_EC2: emu.endpoints.moto! }),
      stdin: new Blob([stdin]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { exitCode, stdout, stderr };
  }

  /** The rows of the table that follows `title` in the output, as arrays of trimmed cells. */
  function rows(out: string, title: string): string[][] {
    const lines = out.split("\n");
    const start = lines.indexOf(title);
    expect(start).toBeGreaterThanOrEqual(0);
    const body: string[][] = [];
    let headerDone = false;
    for (const line of lines.slice(start + 2)) {
      if (line.startsWith("╘")) break;
      if (line.startsWith("╞")) {
        headerDone = true;
        continue;
      }
      if (headerDone && line.startsWith("│")) body.push(line.split("│").slice(1, -1).map((c) => c.trim()));
    }
    return body;
  }

  const stackAmi = async (name: string) => {
    const s = (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0]!;
    return Object.fromEntries((s.Parameters ?? []).map((p) => [p.ParameterKey!, p.ParameterValue ?? ""]));
  };

  beforeAll(async () => {
    // moto's RegisterImage keeps neither the architecture nor a creation time finer than a second, so the
    // images are loaded at moto start-up from a file instead (MOTO_AMIS_PATH), which also allows images
    // of another account and images not yet available.
    dir = mkdtempSync(join(tmpdir(), "lava-ami-test-"));
    const amisFile = join(dir, "amis.json");
    writeFileSync(amisFile, JSON.stringify(IMAGES.map(([name, arch, date, extra], i) => ({
      ami_id: `ami-0${String(i + 1).padStart(16, "0")}`,
      name,
      architecture: arch,
      creation_date: `${date}T00:00:00.000Z`,
      owner_id: OWN_ACCOUNT,
      state: "available",
      virtualization_type: "hvm",
      root_device_type: "ebs",
      root_device_name: "/dev/xvda",
      ...extra,
    }))));
    process.env.MOTO_AMIS_PATH = amisFile;
    try {
      emu = await startAwsEmulators({ moto: true });
    } finally {
      delete process.env.MOTO_AMIS_PATH;
    }
    const cfg = sdkConfig(emu.endpoints.moto);
    const ec2 = new EC2Client(cfg);
    cfn = new CloudFormationClient(cfg);
    IMAGES.forEach(([name], i) => {
      ami[name.split("-").slice(0, 2).join("-")] = `ami-0${String(i + 1).padStart(16, "0")}`;
    });
    for (const [name, , , , lava] of IMAGES) {
      if (lava) await ec2.send(new CreateTagsCommand({ Resources: [ami[name.split("-").slice(0, 2).join("-")]!], Tags: [{ Key: "LavaVersion", Value: lava }, { Key: "PythonVersion", Value: "3.11" }] }));
    }
    const stacks: [string, string, Record<string, string>][] = [
      ["lava-dev-core", "amiId", { realm: "dev", worker: "core", amiId: ami["lava-8.0.0"]!, instanceType: "t3.small" }],
      ["lava-dev-old", "sakAmiId", { realm: "dev", worker: "old", sakAmiId: ami["sak-2.0.0"]! }],
      ["lava-dev-mid", "amiId", { realm: "dev", worker: "mid", amiId: "", sakAmiId: ami["lava-8.0.0"]! }], // both names, old one set
      ["lava-dev-parasite", "amiId", { realm: "dev", worker: "parasite", amiId: "" }], // no instance: not listed
      ["lava-prod-core", "amiId", { realm: "prod", worker: "core", amiId: ami["lava-8.1.0"]! }],
      ["not-a-worker", "amiId", { realm: "dev", amiId: ami["lava-8.0.0"]! }], // no worker parameter
    ];
    for (const [StackName, amiParam, params] of stacks) {
      const body = template(Object.keys(params), amiParam);
      await cfn.send(
        new CreateStackCommand({
          StackName,
          TemplateBody: body,
          Parameters: Object.entries(params).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await emu?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("lists own available lava-* AMIs newest first, and the worker stacks with their AMI", async () => {
    const run = await lavaAmi([]);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    const images = rows(run.stdout, "Lava Compatible AMIs");
    expect(images.map((r) => r[2])).toEqual([
      "lava-8.2.0-amzn2023-py3.11-x86_64-20240501",
      "lava-8.1.0-amzn2023-py3.11-arm64-20240301",
      "lava-8.0.0-amzn2023-py3.11-x86_64-20240101",
    ]);
    expect(images.map((r) => r[0])).toEqual(["0", "1", "2"]); // the index the update prompt asks for
    const newest = images[0]!;
    expect(newest[1]).toBe(ami["lava-8.2.0"]!);
    expect(newest.slice(3)).toEqual(["2024-05-01", "8.2.0", "3.11", "x86_64"]);
    expect(images[1]![6]).toBe("arm64");

    const stacks = rows(run.stdout, "Lava Worker Stacks");
    expect(stacks.map((r) => [r[0], r[1], r[2], r[4], r[5]])).toEqual([
      ["lava-dev-core", "dev", "core", ami["lava-8.0.0"]!, "lava-8.0.0-amzn2023-py3.11-x86_64-20240101"],
      ["lava-dev-mid", "dev", "mid", ami["lava-8.0.0"]!, "lava-8.0.0-amzn2023-py3.11-x86_64-20240101"],
      ["lava-dev-old", "dev", "old", ami["sak-2.0.0"]!, ""], // a SAK AMI has no name without --sak
      ["lava-prod-core", "prod", "core", ami["lava-8.1.0"]!, "lava-8.1.0-amzn2023-py3.11-arm64-20240301"],
    ]);
  }, 30_000);

  test("--sak adds sak-* AMIs; -n limits the AMI list; stack globs filter the stacks", async () => {
    const sak = await lavaAmi(["--sak", "lava-dev-*"]);
    expect(sak.exitCode).toBe(0);
    expect(rows(sak.stdout, "Lava Compatible AMIs").map((r) => r[2]!.split("-").slice(0, 2).join("-"))).toEqual(["lava-8.2.0", "lava-8.1.0", "sak-2.0.0", "lava-8.0.0"]);
    const stacks = rows(sak.stdout, "Lava Worker Stacks");
    expect(stacks.map((r) => r[0])).toEqual(["lava-dev-core", "lava-dev-mid", "lava-dev-old"]);
    expect(stacks[2]![5]).toBe("sak-2.0.0-amzn2023-py3.11-x86_64-20240201");

    const two = await lavaAmi(["-n", "2", "--sak", "*-prod-*"]);
    expect(two.exitCode).toBe(0);
    expect(rows(two.stdout, "Lava Compatible AMIs").map((r) => r[1])).toEqual([ami["lava-8.2.0"]!, ami["lava-8.1.0"]!]);
    expect(rows(two.stdout, "Lava Worker Stacks").map((r) => r[0])).toEqual(["lava-prod-core"]);

    const bad = await lavaAmi(["-n", "many"]);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain("-n");
  }, 30_000);

  test("-U refuses to run without stack patterns or with *", async () => {
    for (const args of [["-U"], ["-U", "*"], ["--update", "lava-dev-core", "*"]]) {
      const run = await lavaAmi(args);
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toContain("Update mode requires one or more stack patterns");
    }
  }, 30_000);

  test("-U: only an answer of 'yes' updates; the AMI parameter changes, nothing else does", async () => {
    const before = await stackAmi("lava-dev-core");
    const templateBefore = (await cfn.send(new GetTemplateCommand({ StackName: "lava-dev-core" }))).TemplateBody;

    // Choose AMI 0 (the newest) but answer "y": no update.
    const declined = await lavaAmi(["-U", "-W", "lava-dev-core"], "0\ny\n");
    expect(declined.exitCode).toBe(0);
    expect(declined.stdout).toContain("New AMI for lava-dev-core?");
    expect(declined.stdout).not.toContain("Update of lava-dev-core initiated");
    expect(await stackAmi("lava-dev-core")).toEqual(before);

    // A bad answer is asked again; then the newest AMI, confirmed.
    const run = await lavaAmi(["-U", "lava-dev-core"], "7\n0\nyes\n");
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("Bad response: 7");
    expect(run.stdout).toContain("Update of lava-dev-core initiated");
    expect(run.stdout).toMatch(/lava-dev-core: UPDATE_COMPLETE/);
    expect(await stackAmi("lava-dev-core")).toEqual({ ...before, amiId: ami["lava-8.2.0"]! });
    expect((await cfn.send(new GetTemplateCommand({ StackName: "lava-dev-core" }))).TemplateBody).toBe(templateBefore);
    // (moto does not re-apply resources on UpdateStack, so the SSM parameter of the template is not checked.)
    const listed = rows((await lavaAmi(["lava-dev-core"])).stdout, "Lava Worker Stacks")[0]!;
    expect([listed[4], listed[5]]).toEqual([ami["lava-8.2.0"]!, "lava-8.2.0-amzn2023-py3.11-x86_64-20240501"]); // (moto keeps no LastUpdatedTime)
    expect((await stackAmi("lava-prod-core")).amiId).toBe(ami["lava-8.1.0"]!);
  }, 30_000);

  test("-U on a pre-7.1 stack sets sakAmiId; choosing the current AMI, skipping and q change nothing", async () => {
    const same = await lavaAmi(["-U", "-W", "--sak", "lava-dev-old"], "2\n"); // index 2 with --sak is sak-2.0.0, its current AMI
    expect(same.stdout).toContain("Current AMI and requested AMI are the same -- skipping");
    expect((await stackAmi("lava-dev-old")).sakAmiId).toBe(ami["sak-2.0.0"]!);

    const quit = await lavaAmi(["-U", "-W", "lava-*-core"], "q\n");
    expect(quit.exitCode).toBe(0);
    expect(quit.stdout.match(/New AMI for/g)?.length).toBe(1);

    // Skip lava-dev-core (return), update lava-prod-core with AMI 2 (lava-8.0.0).
    const prodBefore = await stackAmi("lava-prod-core");
    const devBefore = await stackAmi("lava-dev-core");
    const run = await lavaAmi(["-U", "lava-*-core"], "\n2\nYES\n");
    expect(run.exitCode).toBe(0);
    expect(await stackAmi("lava-dev-core")).toEqual(devBefore);
    expect(await stackAmi("lava-prod-core")).toEqual({ ...prodBefore, amiId: ami["lava-8.0.0"]! });

    const old = await lavaAmi(["-U", "-W", "lava-dev-old"], "0\nyes\n");
    expect(old.exitCode).toBe(0);
    expect(await stackAmi("lava-dev-old")).toEqual({ realm: "dev", worker: "old", sakAmiId: ami["lava-8.2.0"]! });

    const mid = await lavaAmi(["-U", "-W", "lava-dev-mid"], "1\nyes\n");
    expect(mid.exitCode).toBe(0);
    expect(await stackAmi("lava-dev-mid")).toEqual({ realm: "dev", worker: "mid", amiId: ami["lava-8.1.0"]!, sakAmiId: ami["lava-8.1.0"]! });
  }, 30_000);
});
