/** Every shell script we ship passes `bash -n` and shellcheck. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { commandWorks, needs } from "../support/availability.ts";

const REPO = join(import.meta.dir, "..", "..");

function shellScripts(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...shellScripts(path));
    else if (name.endsWith(".sh") || /^#!.*\b(ba)?sh\b/.test(readFileSync(path, "utf8").split("\n", 1)[0]!)) found.push(path);
  }
  return found;
}

const scripts = [...shellScripts(join(REPO, "build")), ...shellScripts(join(REPO, "boot"))].sort();

describe("shell scripts", () => {
  test("the scripts we expect are found", () => {
    const names = scripts.map((p) => relative(REPO, p));
    for (const expected of ["build/install.sh", "build/install-lava.sh", "boot/root.boot.sh", "boot/root.boot0.sh", "boot/_boot_/50-lava.sh", "boot/ami/rc.d/20_swap.sh", "boot/ami/sbin/userdata-shell"]) {
      expect(names).toContain(expected);
    }
  });

  test.each(scripts.map((p) => [relative(REPO, p)]))("bash -n %s", (rel) => {
    const res = Bun.spawnSync(["bash", "-n", join(REPO, rel)], { stderr: "pipe" });
    expect(res.stderr.toString()).toBe("");
    expect(res.exitCode).toBe(0);
  });

  if (needs("shellcheck", commandWorks(["shellcheck", "--version"]), "apt-get install shellcheck")) {
    test("shellcheck is clean on all of them", () => {
      const res = Bun.spawnSync(["shellcheck", "--severity=style", ...scripts], { stdout: "pipe", stderr: "pipe" });
      expect(res.stdout.toString() + res.stderr.toString()).toBe("");
      expect(res.exitCode).toBe(0);
    });
  }
});
