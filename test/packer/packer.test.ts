/**
 * The AMI template: `packer validate` for both architectures (Debian's packer; the amazon-ebs builder's
 * validation runs offline), the AMI naming and tags of the installation chapter with the runtime slot
 * holding the bun version, the boot/ami files it installs, and shellcheck on the build scripts.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { commandWorks, needs } from "../support/availability.ts";

const ROOT = join(import.meta.dir, "..", "..");
const TEMPLATE = join(ROOT, "packer", "lava-ami.pkr.hcl");
const source = readFileSync(TEMPLATE, "utf8");

function validate(vars: Record<string, string>) {
  const args = Object.entries(vars).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
  return Bun.spawnSync(["packer", "validate", ...args, TEMPLATE], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    // Offline: no credentials of the developer, no instance metadata lookups.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x", AWS_EC2_METADATA_DISABLED: "true", CHECKPOINT_DISABLE: "1" },
  });
}

const required = { lava_version: "0.1.0", bun_version: "1.4.5", subnet: "subnet-0123", security_group_ids: '["sg-0123"]' };

describe.if(needs("packer", commandWorks(["packer", "version"]), "apt-get install packer"))("packer validate", () => {
  test.each(["x86_64", "arm64"])("the template is valid for %s", (arch) => {
    const run = validate({ ...required, arch });
    expect(`${run.exitCode} ${run.stdout.toString()}${run.stderr.toString()}`).toBe("0 ");
  });

  test("aarch64 is refused: AMI names always say arm64", () => {
    const run = validate({ ...required, arch: "aarch64" });
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout.toString() + run.stderr.toString()).toContain("The arch must be x86_64 or arm64");
  });

  test("missing required variables are reported", () => {
    const run = validate({ arch: "arm64" });
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout.toString() + run.stderr.toString()).toContain("lava_version");
  });
});

describe("AMI naming and contents", () => {
  test("name lava-<version>-<os>-bun<bun version>-<arch>-<time>, and the chapter's tags with BunVersion", () => {
    expect(source).toContain('ami_name      = "lava-${var.lava_version}-${local.os}-bun${var.bun_version}-${var.arch}-${local.timestamp}"');
    for (const tag of ["Name", "OS", "Repo", "SourceAmi", "LavaVersion", "BunVersion"]) expect(source).toMatch(new RegExp(`\\n\\s+${tag}\\s+=`));
    expect(source).not.toContain("PythonVersion");
    expect(source).toContain('formatdate("YYYY-MM-DD\'T\'hh-mm-ss\'Z\'", timestamp())');
  });

  test("installs what the chapter lists", () => {
    const scripts = readdirSync(join(ROOT, "packer", "conf.d")).map((f) => readFileSync(join(ROOT, "packer", "conf.d", f), "utf8")).join("\n");
    for (const thing of ["postgresql", "mariadb", "unixODBC", "freetds", "docker", "amazon-cloudwatch-agent", "amazon-ssm-agent", "rds-global-bundle", "redshift-ca-bundle", "instantclient", "rc.local"]) {
      expect(scripts).toContain(thing);
    }
  });

  test("the boot/ami machinery it copies exists", () => {
    expect(source).toContain('source      = "boot/ami/"');
    expect(existsSync(join(ROOT, "boot", "ami", "rc.local"))).toBe(true);
    expect(readdirSync(join(ROOT, "boot", "ami", "rc.d")).length).toBeGreaterThan(0);
  });

  test.if(commandWorks(["shellcheck", "--version"]))("build scripts pass shellcheck", () => {
    const dir = join(ROOT, "packer");
    const files = [join(dir, "ami-build.sh"), ...readdirSync(join(dir, "conf.d")).map((f) => join(dir, "conf.d", f))];
    const run = Bun.spawnSync(["shellcheck", "-S", "warning", ...files], { stdout: "pipe" });
    expect(run.stdout.toString()).toBe("");
  });
});
