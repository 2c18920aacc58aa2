/**
 * The AMI's user-data boot scripts (boot/ami: rc.local, rc.d/*, sbin/userdata-*), run for real in a
 * temporary root with stand-ins for the commands that would change the machine (dd, mkswap, swapon,
 * crontab, aws, ec2-metadata, logger: see support.ts). Each user-data key of the seed chapter's table
 * (swap, crontab, shell, shell0) must have its effect, and bad user data must fail the script that reads
 * it, loudly in syslog, without stopping the other rc.d scripts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commandWorks, needs } from "../support/availability.ts";
import { type FakeHost, REPO, fakeHost, runScript } from "./support.ts";

const AMI = join(REPO, "boot", "ami");
const RC_D = readdirSync(join(AMI, "rc.d")).sort();

/** `aws s3 cp SRC DEST` from `<root>/s3/<bucket>/<key>`; anything else fails, as a call we do not expect. */
const FAKE_AWS = `#!/bin/bash
echo "aws $*" >> "$LAVA_BOOT_ROOT/calls.log"
args=()
while [ $# -gt 0 ]; do
	case "$1" in
		--no-progress) ;;
		--region) region="$2"; shift;;
		*) args+=("$1");;
	esac
	shift
done
[ "\${args[0]} \${args[1]}" = "s3 cp" ] || { echo "fake aws: unexpected call" >&2; exit 99; }
[ -n "$region" ] || { echo "You must specify a region." >&2; exit 253; }
src="\${args[2]#s3://}"
[ -f "$LAVA_BOOT_ROOT/s3/$src" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"\${src#*/}\\" does not exist" >&2; exit 1; }
cp "$LAVA_BOOT_ROOT/s3/$src" "\${args[3]}"
`;

/** crontab -u USER FILE, refusing users the fake host does not have (as cron's crontab does). */
const FAKE_CRONTAB = `#!/bin/bash
echo "crontab $*" >> "$LAVA_BOOT_ROOT/calls.log"
grep -q "^$2:" "$LAVA_BOOT_ROOT/etc/passwd" || { echo "crontab: user '$2' unknown" >&2; exit 1; }
cp "$3" "$LAVA_BOOT_ROOT/crontab.$2"
`;

const hosts: FakeHost[] = [];

/** A fake instance with the AMI's boot scripts installed where the AMI build puts them. */
function instance(userData: unknown): FakeHost {
  const host = fakeHost({ extraEnv: { BOOT_TEST_USERDATA: typeof userData === "string" ? userData : JSON.stringify(userData) } });
  hosts.push(host);
  const install = (from: string, to: string) => {
    mkdirSync(join(host.root, to), { recursive: true });
    for (const f of readdirSync(join(AMI, from))) {
      copyFileSync(join(AMI, from, f), join(host.root, to, f));
      chmodSync(join(host.root, to, f), 0o755);
    }
  };
  install("rc.d", "usr/local/etc/rc.d");
  install("sbin", "usr/local/sbin");
  writeFileSync(join(host.bin, "aws"), FAKE_AWS, { mode: 0o755 });
  writeFileSync(join(host.bin, "crontab"), FAKE_CRONTAB, { mode: 0o755 });
  writeFileSync(join(host.root, "etc", "passwd"), "root:x:0:0::/root:/bin/bash\nec2-user:x:1000:1000::/home/ec2-user:/bin/bash\n");
  writeFileSync(join(host.root, "etc", "fstab"), "UUID=abc / xfs defaults 0 0\n");
  for (const [key, body] of Object.entries(S3)) {
    mkdirSync(join(host.root, "s3", key, ".."), { recursive: true });
    writeFileSync(join(host.root, "s3", key), body);
  }
  return host;
}

const S3: Record<string, string> = {
  "mybucket/ec2config/latest/ec2-user.cron": "*/5 * * * * /home/ec2-user/tick\n",
  "mybucket/ec2config/latest/root.cron": "0 3 * * * /usr/local/bin/cleanup\n",
};

/** Runs /etc/rc.local as the AMI installs it; returns the rc.local outcome line of each script. */
function boot(host: FakeHost): { exitCode: number; outcomes: Record<string, string> } {
  const res = runScript(join(AMI, "rc.local"), [], host.env);
  const outcomes: Record<string, string> = {};
  for (const m of host.syslog().matchAll(/^-t rc\.local -p local0\.\w+ (\S+): (.*)$/gm)) outcomes[m[1]!] = m[2]!;
  return { exitCode: res.exitCode, outcomes };
}

const read = (host: FakeHost, path: string) => (existsSync(join(host.root, path)) ? readFileSync(join(host.root, path), "utf8") : undefined);
const allOk = Object.fromEntries(RC_D.map((s) => [s, "OK"]));

afterEach(() => {
  for (const h of hosts.splice(0)) h.remove();
});

describe.if(needs("python3", commandWorks(["python3", "-c", "import json"]), "userdata-key parses the user data with python3"))("AMI user data", () => {
  test("the seed chapter's example: swap, crontabs for two users, shell commands; shell0 runs first", () => {
    const host = instance({
      swap: { size: 2, file: "/swap_till_you_drop" },
      crontab: { "ec2-user": "s3://mybucket/ec2config/latest/ec2-user.cron", root: "s3://mybucket/ec2config/latest/root.cron" },
      shell0: `echo "shell0 swap=$(test -f "$LAVA_BOOT_ROOT/swap_till_you_drop" && echo yes || echo no)" >> "$LAVA_BOOT_ROOT/order"`,
      shell: ["echo Hello world", `echo Resistance is futile > "$LAVA_BOOT_ROOT/tmp/borg"`, `echo "shell cron=$(ls "$LAVA_BOOT_ROOT" | grep -c '^crontab\\.')" >> "$LAVA_BOOT_ROOT/order"`],
    });
    const { exitCode, outcomes } = boot(host);
    expect(exitCode).toBe(0);
    expect(outcomes).toEqual(allOk);

    // swap: a 2 GiB file, made a swap area, switched on, and in fstab for later boots
    const calls = host.calls();
    expect(calls).toContain(`dd if=/dev/zero of=${host.root}/swap_till_you_drop bs=1M count=2048`);
    expect(calls).toContain(`mkswap ${host.root}/swap_till_you_drop`);
    expect(calls).toContain(`swapon ${host.root}/swap_till_you_drop`);
    expect(read(host, "etc/fstab")).toBe("UUID=abc / xfs defaults 0 0\n/swap_till_you_drop swap swap defaults 0 0\n");

    // crontab: each user's crontab is the S3 object named for them, fetched in the instance's region
    expect(read(host, "crontab.ec2-user")).toBe(S3["mybucket/ec2config/latest/ec2-user.cron"]);
    expect(read(host, "crontab.root")).toBe(S3["mybucket/ec2config/latest/root.cron"]);
    expect(calls).toMatch(/aws s3 .*--region ap-southeast-2.* s3:\/\/mybucket\/ec2config\/latest\/root\.cron /);

    // shell: every command ran (output to syslog), after the crontabs; shell0 before the swap
    expect(read(host, "tmp/borg")).toBe("Resistance is futile\n");
    expect(host.syslog()).toContain("Hello world");
    expect(read(host, "order")).toBe("shell0 swap=no\nshell cron=2\n");

    // and the region for the AWS CLI, from the availability zone
    expect(read(host, "usr/local/etc/aws/config")).toContain("region = ap-southeast-2");
  });

  test("swap: the file defaults to /swapfile; size 0 or absent means none; an existing swap file is kept", () => {
    const host = instance({ swap: { size: "1" } });
    expect(boot(host).outcomes["20_swap.sh"]).toBe("OK");
    expect(host.calls()).toContain(`dd if=/dev/zero of=${host.root}/swapfile bs=1M count=1024`);
    expect(read(host, "etc/fstab")).toContain("/swapfile swap swap defaults 0 0");

    // The next boot: already configured, nothing done again.
    writeFileSync(join(host.root, "calls.log"), "");
    expect(boot(host).outcomes["20_swap.sh"]).toBe("OK");
    expect(host.calls()).not.toMatch(/^(dd|mkswap|swapon) /m);
    expect(read(host, "etc/fstab")!.match(/swapfile/g)?.length).toBe(1);

    for (const userData of [{ swap: { size: 0 } }, { shell: "true" }, ""]) {
      const none = instance(userData);
      expect(boot(none).outcomes["20_swap.sh"]).toBe("OK");
      expect(none.calls()).not.toMatch(/^(dd|mkswap|swapon) /m);
      expect(none.syslog()).not.toMatch(/error/);
    }
  });

  test("a bad swap size or file fails 20_swap.sh only; the other scripts still do their work", () => {
    for (const [swap, message] of [
      [{ size: "lots" }, "Bad swap size: lots"],
      [{ size: -1 }, "Bad swap size: -1"],
      [{ size: 1, file: "/var/swap" }, "Bad swap file: /var/swap"],
      [{ size: 1, file: "swapfile" }, "Bad swap file: swapfile"],
    ] as const) {
      const host = instance({ swap, crontab: { root: "s3://mybucket/ec2config/latest/root.cron" }, shell: `touch "$LAVA_BOOT_ROOT/shell-ran"` });
      const { exitCode, outcomes } = boot(host);
      expect(exitCode).toBe(0);
      expect(outcomes).toEqual({ ...allOk, "20_swap.sh": "exit status 1" });
      expect(host.syslog()).toContain(`-t rclocal.swap -p local0.error ${message}`);
      expect(host.calls()).not.toMatch(/^(dd|mkswap|swapon) /m);
      expect(read(host, "crontab.root")).toBe(S3["mybucket/ec2config/latest/root.cron"]);
      expect(existsSync(join(host.root, "shell-ran"))).toBe(true);
    }
  });

  test("a failing mkswap is reported and the swap file is not put in fstab", () => {
    const host = instance({ swap: { size: 1 } });
    writeFileSync(join(host.bin, "mkswap"), `#!/bin/bash\necho "mkswap: $1: insecure permissions" >&2\nexit 1\n`, { mode: 0o755 });
    expect(boot(host).outcomes["20_swap.sh"]).toBe("exit status 1");
    expect(host.syslog()).toContain("mkswap /swapfile failed");
    expect(read(host, "etc/fstab")).not.toContain("swapfile");
    expect(host.calls()).not.toMatch(/^swapon /m);
  });

  test("crontab: a bad entry fails 60_crontab.sh but the good ones are still installed", () => {
    const host = instance({
      crontab: {
        nobody: "s3://mybucket/ec2config/latest/root.cron", // no such OS user
        "ec2-user": "/home/ec2-user/local.cron", // not an S3 object
        root: "s3://mybucket/ec2config/latest/root.cron",
        ghost: "s3://mybucket/missing.cron", // no such object
      },
    });
    const { exitCode, outcomes } = boot(host);
    expect(exitCode).toBe(0);
    expect(outcomes).toEqual({ ...allOk, "60_crontab.sh": "exit status 1" });
    expect(read(host, "crontab.root")).toBe(S3["mybucket/ec2config/latest/root.cron"]);
    expect(read(host, "crontab.ec2-user")).toBeUndefined();
    const syslog = host.syslog();
    expect(syslog).toContain("Crontab for user root installed");
    expect(syslog).toMatch(/local0\.error .*nobody.*unknown/);
    expect(syslog).toMatch(/local0\.error Crontab for ec2-user: \/home\/ec2-user\/local\.cron is not an s3:\/\/ object/);
    expect(syslog).toMatch(/local0\.error Cannot get s3:\/\/mybucket\/missing\.cron: .*does not exist/);
  });

  test("shell and shell0: a string or a list; a failing command is logged as an error with its output", () => {
    const host = instance({ shell0: `echo zero > "$LAVA_BOOT_ROOT/zero"`, shell: ["echo first", "echo 'it broke' >&2; exit 3", "echo never"] });
    const { exitCode, outcomes } = boot(host);
    expect(exitCode).toBe(0);
    expect(outcomes).toEqual({ ...allOk, "99_shell.sh": "exit status 3" });
    expect(read(host, "zero")).toBe("zero\n");
    const syslog = host.syslog();
    expect(syslog).toContain("-t userdata-shell -p local0.error -f");
    expect(syslog).toContain("first\nit broke\n");
    expect(syslog).not.toMatch(/^never$/m);
    expect(syslog).toContain("-t userdata-shell -p local0.error Run exit status: 3");
  });

  test("user data that is not JSON fails every script that reads a key, clearly, and the boot goes on", () => {
    const host = instance("#!/bin/bash\necho this is a shell script, not JSON");
    const { exitCode, outcomes } = boot(host);
    expect(exitCode).toBe(0);
    // Every script ran; the region and the user-data log do not need JSON.
    expect(Object.keys(outcomes)).toEqual(RC_D);
    expect(outcomes).toEqual({ ...allOk, "05_shell.sh": "exit status 1", "20_swap.sh": "exit status 1", "60_crontab.sh": "exit status 1", "99_shell.sh": "exit status 1" });
    const syslog = host.syslog();
    expect(syslog).toMatch(/rclocal\.swap -p local0\.error Bad user data: user data is not JSON/);
    expect(syslog).toMatch(/rclocal\.crontab -p local0\.error Bad user data: user data is not JSON/);
    expect(syslog).toMatch(/userdata-shell -p local0\.error user data is not JSON/);
    expect(host.calls()).not.toMatch(/^(dd|mkswap|swapon|crontab|aws) /m);
    expect(read(host, "usr/local/etc/aws/config")).toContain("region = ap-southeast-2");
  });

  test("userdata-key prints strings, lists one a line, objects as name=value, nothing for an absent key", () => {
    const host = instance({ a: { b: "text", n: 2, l: ["x", "y z"], o: { k: "v=w" } } });
    const key = (k: string) => runScript(join(AMI, "sbin", "userdata-key"), [k], host.env);
    expect(key("a.b").stdout).toBe("text\n");
    expect(key("a.n").stdout).toBe("2\n");
    expect(key("a.l").stdout).toBe("x\ny z\n");
    expect(key("a.o").stdout).toBe("k=v=w\n");
    expect(key("a.missing")).toEqual({ exitCode: 0, stdout: "", stderr: "" });
    expect(key("a.b.c")).toEqual({ exitCode: 0, stdout: "", stderr: "" });
  });
});
