/**
 * A fake host for the boot scripts: a temporary root (LAVA_BOOT_ROOT) and a bin directory of stand-ins
 * for the commands that would change the real machine (systemctl, useradd, sudo, crontab, ...). Each
 * stand-in appends its arguments to `<root>/calls.log` so tests can see what the script asked for.
 * `aws` is a shim that sends each call to the emulator for its service.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "..", "..");

/** The real aws CLI: Debian's v2 when present, else whatever is on PATH. */
export function realAws(): string | undefined {
  for (const candidate of ["/usr/bin/aws", "/usr/local/bin/aws"]) {
    if (Bun.file(candidate).size > 0) return candidate;
  }
  return Bun.which("aws") ?? undefined;
}

export function awsWorks(): boolean {
  const aws = realAws();
  if (!aws) return false;
  try {
    return Bun.spawnSync([aws, "--version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  } catch {
    return false;
  }
}

const STANDINS: Record<string, string> = {
  // Records the call; the commands below that need more behaviour are defined after.
  systemctl: "",
  usermod: "",
  chown: "",
  chgrp: "",
  service: "",
  reboot: "",
  mkswap: "",
  swapon: "",
  sudo: 'echo "cwd=$PWD" >> "$LAVA_BOOT_ROOT/calls.log"',
  logger: 'if [ "$1" = -f ] || [[ " $* " == *" -f "* ]]; then for a; do [ -f "$a" ] && cat "$a" >> "$LAVA_BOOT_ROOT/syslog"; done; fi; echo "$*" >> "$LAVA_BOOT_ROOT/syslog"',
  getent: [
    'db="$LAVA_BOOT_ROOT/etc/$1"',
    '[ -f "$db" ] || exit 2',
    'grep -q "^$2:" "$db" || exit 2',
    'grep "^$2:" "$db"',
  ].join("\n"),
  groupadd: 'echo "$1:x:990:" >> "$LAVA_BOOT_ROOT/etc/group"',
  useradd: 'mkdir -p "$LAVA_BOOT_ROOT/home/$1"; echo "$1:x:991:990::$LAVA_BOOT_ROOT/home/$1:/bin/false" >> "$LAVA_BOOT_ROOT/etc/passwd"',
  crontab: 'cp "$3" "$LAVA_BOOT_ROOT/crontab.$2"',
  yum: 'exit "${BOOT_TEST_YUM_STATUS:-0}"',
  dd: 'for a; do case "$a" in of=*) : > "${a#of=}";; esac; done',
  uname: 'if [ "$1" = -m ] && [ -n "$BOOT_TEST_UNAME_M" ]; then echo "$BOOT_TEST_UNAME_M"; else exec /bin/uname "$@"; fi',
  "ec2-metadata": [
    'case "$1" in',
    '  --user-data) echo "user-data: ${BOOT_TEST_USERDATA:-}";;',
    '  --availability-zone) echo "placement: ${BOOT_TEST_AZ:-ap-southeast-2a}";;',
    "  *) exit 1;;",
    "esac",
  ].join("\n"),
  aws: [
    'case "$1" in',
    '  dynamodb) ep="$BOOT_TEST_DYNAMODB";;',
    '  s3|s3api) ep="$BOOT_TEST_S3";;',
    '  *) echo "fake aws: unexpected service $1" >&2; exit 99;;',
    "esac",
    'echo "aws $*" >> "$LAVA_BOOT_ROOT/calls.log"',
    'exec "$BOOT_TEST_REAL_AWS" --endpoint-url "$ep" "$@"',
  ].join("\n"),
};

export interface FakeHost {
  root: string;
  bin: string;
  env: Record<string, string>;
  calls(): string;
  syslog(): string;
  remove(): void;
}

export interface FakeHostOptions {
  endpoints?: { dynamodb: string; s3: string };
  /** cpuinfo flags line; include avx2 to look like a modern x86-64 CPU. */
  cpuFlags?: string;
  unameMachine?: string;
  osRelease?: string;
  extraEnv?: Record<string, string>;
}

export function fakeHost(opts: FakeHostOptions = {}): FakeHost {
  const root = mkdtempSync(join(tmpdir(), "lava-boot-root-"));
  const bin = join(root, "fakebin");
  for (const dir of [bin, "etc", "proc", "usr/local/etc", "usr/local/bin", "usr/local/sbin", "home", "tmp"]) {
    mkdirSync(dir.startsWith("/") ? dir : join(root, dir), { recursive: true });
  }
  for (const [name, body] of Object.entries(STANDINS)) {
    const record = name === "aws" || name === "logger" ? "" : `echo "${name} $*" >> "$LAVA_BOOT_ROOT/calls.log"\n`;
    writeFileSync(join(bin, name), `#!/bin/bash\n${record}${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(root, "etc", "passwd"), "root:x:0:0::/root:/bin/bash\n");
  writeFileSync(join(root, "etc", "group"), "docker:x:900:\n");
  writeFileSync(join(root, "usr/local/etc/ami-info"), "AMI_TYPE=lava\nAMI_OS=amzn2023\n");
  writeFileSync(join(root, "proc", "cpuinfo"), `processor\t: 0\nflags\t\t: ${opts.cpuFlags ?? "fpu sse2 avx avx2"}\n`);
  writeFileSync(join(root, "etc", "os-release"), opts.osRelease ?? 'ID="amzn"\nVERSION_ID="2023"\n');
  const env: Record<string, string> = {
    PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin`,
    HOME: root,
    TMPDIR: join(root, "tmp"),
    LAVA_BOOT_ROOT: root,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: join(root, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(root, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    BOOT_TEST_REAL_AWS: realAws() ?? "aws-not-installed",
    ...(opts.endpoints ? { BOOT_TEST_DYNAMODB: opts.endpoints.dynamodb, BOOT_TEST_S3: opts.endpoints.s3 } : {}),
    ...(opts.unameMachine ? { BOOT_TEST_UNAME_M: opts.unameMachine } : {}),
    ...opts.extraEnv,
  };
  const read = (name: string) => {
    try {
      return readFileSync(join(root, name), "utf8");
    } catch {
      return "";
    }
  };
  return {
    root,
    bin,
    env,
    calls: () => read("calls.log"),
    syslog: () => read("syslog"),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface ScriptResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function runScript(path: string, args: string[], env: Record<string, string>, cwd?: string): ScriptResult {
  const res = Bun.spawnSync(["bash", path, ...args], { env, cwd, stdout: "pipe", stderr: "pipe" });
  return { exitCode: res.exitCode ?? -1, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
}
