/** build/deploy.ts against the S3 emulator (fauxqs) with moto's STS for the account check. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPONENTS, DeployError, deploy, loadEnv, resolveLocation } from "../../build/deploy.ts";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, startAwsEmulators, withEnv, type AwsEmulators } from "../support/emulators.ts";

const ready = needs("fauxqs", emulatorsPresent.fauxqs()) && needs("moto_server", emulatorsPresent.moto(), "python3 -m pip install moto[server]");

describe("deploy config", () => {
  test("relative locations use _.s3base and ${version}", () => {
    expect(resolveLocation("lava/_dist_/cfn/v${version}/", "bkt/pre", "1.2.3")).toEqual({ bucket: "bkt", prefix: "pre/lava/_dist_/cfn/v1.2.3/" });
    expect(resolveLocation("s3://other/x", "bkt", "1")).toEqual({ bucket: "other", prefix: "x/" });
    expect(() => resolveLocation("x/", undefined, "1")).toThrow(DeployError);
  });

  test("an environment without account_id is refused", () => {
    expect(() => loadEnv("dev:\n  pkg:\n    s3: x/\n", "dev")).toThrow(/Target account ID not specified/);
    expect(() => loadEnv("dev:\n  account_id: '1'\n", "prod")).toThrow(/prod: no such environment/);
  });

  test("components are the original's (framework dropped)", () => {
    expect(COMPONENTS.map((c) => c.name)).toEqual(["ami", "boot", "cfn", "lambda", "pkg"]);
  });
});

describe.if(ready)("deploy to the emulators", () => {
  let emu: AwsEmulators;
  let root: string;
  let s3: S3Client;
  const lines: string[] = [];

  beforeAll(async () => {
    emu = await startAwsEmulators({ moto: true });
    s3 = new S3Client({ region: "us-east-1", endpoint: emu.endpoints.fauxqs, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateBucketCommand({ Bucket: "code" }));
    root = mkdtempSync(join(tmpdir(), "lava-deploy-test-"));
    mkdirSync(join(root, "dist", "pkg", "linux"), { recursive: true });
    mkdirSync(join(root, "boot", "_boot_"), { recursive: true });
    writeFileSync(join(root, "dist", "pkg", "linux", "lava-1.0.0-linux-x64.tar.gz"), "bundle-1.0.0");
    writeFileSync(join(root, "dist", "pkg", "linux", "lava-1.0.0-linux-x64.tar.gz.sha256"), "abc  lava-1.0.0-linux-x64.tar.gz\n");
    writeFileSync(join(root, "dist", "pkg", "linux", "lava-0.9.0-linux-x64.tar.gz"), "old");
    writeFileSync(join(root, "boot", "_boot_", "50-lava.sh"), "#!/bin/bash\n");
    writeFileSync(join(root, "boot", "_boot_", "README.md"), "not deployed");
    writeFileSync(
      join(root, "deploy.yaml"),
      "dev:\n  _:\n    s3base: code/base\n  account_id: '123456789012'\n  pkg:\n    s3: lava/_dist_/pkg/\n  boot:\n    s3: lava/_boot_/\n" +
        "wrong:\n  _:\n    s3base: code/base\n  account_id: '999999999999'\n  pkg:\n    s3: lava/_dist_/pkg/\n",
    );
  }, 60_000);

  afterAll(async () => {
    if (root) rmSync(root, { recursive: true, force: true });
    await emu?.stop();
  });

  const run = (env: string, extra: Partial<Parameters<typeof deploy>[0]> = {}) =>
    withEnv({ ...emu.env, LAVA_S3_PATH_STYLE: "true" }, () =>
      deploy({ env, configFile: join(root, "deploy.yaml"), dryRun: false, version: "1.0.0", components: [], root, log: (l) => lines.push(l), ...extra }),
    );

  test("dry run uploads nothing", async () => {
    const report = await run("dev", { dryRun: true });
    expect(report.uploaded.sort()).toEqual([
      "s3://code/base/lava/_boot_/50-lava.sh",
      "s3://code/base/lava/_dist_/pkg/linux/lava-1.0.0-linux-x64.tar.gz",
      "s3://code/base/lava/_dist_/pkg/linux/lava-1.0.0-linux-x64.tar.gz.sha256",
    ]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "code", Key: "base/lava/_boot_/50-lava.sh" })).catch(() => undefined);
    expect(head).toBeUndefined();
  }, 30_000);

  test("deploys the version's files into the code layout, then skips them when unchanged", async () => {
    const first = await run("dev");
    expect(first.uploaded).toHaveLength(3);
    const body = await s3.send(new GetObjectCommand({ Bucket: "code", Key: "base/lava/_dist_/pkg/linux/lava-1.0.0-linux-x64.tar.gz" }));
    expect(await body.Body!.transformToString()).toBe("bundle-1.0.0");
    const second = await run("dev");
    expect(second.uploaded).toEqual([]);
    expect(second.skipped).toHaveLength(3);
    writeFileSync(join(root, "boot", "_boot_", "50-lava.sh"), "#!/bin/bash\n# changed\n");
    const third = await run("dev", { components: ["boot"] });
    expect(third.uploaded).toEqual(["s3://code/base/lava/_boot_/50-lava.sh"]);
  }, 30_000);

  test("the wrong account is refused before anything is uploaded", async () => {
    await expect(run("wrong")).rejects.toThrow(/wrong AWS account. Expected 999999999999 not 123456789012/);
  }, 30_000);

  test("an unknown component is refused", async () => {
    await expect(run("dev", { components: ["nope"] })).rejects.toThrow(/No such component: nope/);
  });
});
