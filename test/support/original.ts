/**
 * The ORIGINAL lava (Python), run unchanged for mixed-fleet tests and side-by-side benches: its source
 * (a checkout, or the HEAD of a bare git mirror extracted into a temporary directory; nothing of it is
 * kept in this repository) and its programs started under this machine's `python3` through a small
 * launcher that
 *  - appends LAVA_ORIGINAL_EXTRA_PATH [/usr/lib/python3/dist-packages] to sys.path, *after* the
 *    interpreter's own directories, so Debian's packages fill the gaps (python3-psutil, python3-cachetools,
 *    python3-sqlalchemy, ...) while the interpreter's newer boto3 stays first;
 *  - serves empty stand-ins for the few modules the original imports at start-up for connectors never used
 *    here that Debian does not package (smbclient, smbprotocol, smb, cx_Oracle).
 * Used by bench/compare.ts, bench/dag.ts and the test/golden/*mixed-fleet* tests.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where this machine keeps the original's git mirror (LAVA_ORIGINAL_MIRROR overrides). */
export const ORIGINAL_MIRROR = process.env.LAVA_ORIGINAL_MIRROR ?? "/work/.mirror/jin-gizmo+lava/repo";
const EXTRA_PATH = process.env.LAVA_ORIGINAL_EXTRA_PATH ?? "/usr/lib/python3/dist-packages";
const STUBBED = ["smbclient", "smbprotocol", "smb", "cx_Oracle"];

/** Python modules the original's worker, dispatcher, lava-events and lava-state import, and their Debian package. */
const MODULES: Record<string, string> = {
  boto3: "python3-boto3",
  jinja2: "python3-jinja2",
  dateutil: "python3-dateutil",
  yaml: "python3-yaml",
  psutil: "python3-psutil",
  cachetools: "python3-cachetools",
  sqlalchemy: "python3-sqlalchemy",
  sqlparse: "python3-sqlparse",
  tabulate: "python3-tabulate",
  pymysql: "python3-pymysql",
  pg8000: "python3-pg8000",
  smart_open: "python3-smart-open",
};

/** The original cannot be used here; `message` says why and what to install. */
export class OriginalUnavailable extends Error {
  override name = "OriginalUnavailable";
}

export interface Original {
  /** The original's source tree (bin/, lava/). */
  tree: string;
  /** argv that runs one of the original's programs (`lava-worker`, `lava-events`, ...). */
  argv(program: string): string[];
  /** What the launcher needs in the environment of every program it runs. */
  env: Record<string, string>;
}

const LAUNCHER = `
import importlib.abc, importlib.machinery, os, runpy, sys, types
STUBBED = set(${JSON.stringify(STUBBED)})
class _Standin(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = type(name, (Exception,), {})
        setattr(self, name, value)
        return value
class _StandinFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in STUBBED:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None
    def create_module(self, spec):
        module = _Standin(spec.name)
        module.__path__ = []
        return module
    def exec_module(self, module):
        pass
sys.meta_path.append(_StandinFinder())
sys.path.extend(p for p in os.environ.get("LAVA_ORIGINAL_EXTRA_PATH", "").split(":") if p)
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
runpy.run_path(script, run_name="__main__")
`;

const MISSING_MODULES = `
import importlib, sys
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError:
        print(name)
`;

/** The original's tree: `source` itself when a checkout, or its HEAD extracted from a bare mirror into `work`/original. */
export function originalTree(source: string, work: string): string {
  if (existsSync(join(source, "bin", "lava-worker"))) return source;
  if (!existsSync(join(source, "HEAD")) || !existsSync(join(source, "objects"))) {
    throw new OriginalUnavailable(`${source} is neither a checkout of the original (bin/lava-worker) nor a bare git mirror of it`);
  }
  const tree = join(work, "original");
  mkdirSync(tree);
  const archive = Bun.spawnSync(["git", `--git-dir=${source}`, "archive", "HEAD"], { stdout: "pipe", stderr: "pipe" });
  if (archive.exitCode !== 0) throw new OriginalUnavailable(`git archive of ${source} failed: ${archive.stderr.toString().trim()}`);
  const untar = Bun.spawnSync(["tar", "-x", "-C", tree], { stdin: archive.stdout, stderr: "pipe" });
  if (untar.exitCode !== 0) throw new OriginalUnavailable(`extracting ${source} failed: ${untar.stderr.toString().trim()}`);
  return tree;
}

/**
 * The original from `source`, ready to run: tree extracted (when a mirror), launcher written, every module
 * it needs importable. Throws OriginalUnavailable naming what is missing (all missing modules at once, with
 * their Debian packages).
 */
export function prepareOriginal(source: string, work: string): Original {
  if (!Bun.which("python3")) throw new OriginalUnavailable("python3 is not on PATH");
  const tree = originalTree(source, work);
  const launcher = join(work, "run_original.py");
  writeFileSync(launcher, LAUNCHER);
  const check = join(work, "missing_modules.py");
  writeFileSync(check, MISSING_MODULES);
  const env = { LAVA_ORIGINAL_EXTRA_PATH: EXTRA_PATH };
  const spawnEnv = { ...process.env, ...env };
  const probe = Bun.spawnSync(["python3", launcher, check, ...Object.keys(MODULES)], { env: spawnEnv, stdout: "pipe", stderr: "pipe" });
  if (probe.exitCode !== 0) throw new OriginalUnavailable(`python3 could not check the original's modules: ${probe.stderr.toString().trim()}`);
  const missing = probe.stdout.toString().split("\n").filter(Boolean);
  if (missing.length) {
    throw new OriginalUnavailable(
      `the original's Python modules are missing: ${missing.join(", ")} (Debian: apt-get install ${missing.map((m) => MODULES[m]).join(" ")}; ` +
        `looked in python3's own path and LAVA_ORIGINAL_EXTRA_PATH=${EXTRA_PATH})`,
    );
  }
  const argv = (program: string) => ["python3", launcher, join(tree, "bin", program)];
  const help = Bun.spawnSync([...argv("lava-worker"), "--help"], { env: spawnEnv, stdout: "pipe", stderr: "pipe" });
  if (help.exitCode !== 0) throw new OriginalUnavailable(`the original does not start here: ${help.stderr.toString().trim().split("\n").at(-1)}`);
  return { tree, argv, env };
}

/**
 * A HOME for the original's programs. Its dag handler gives each node thread
 * `boto3.Session(profile_name=<the worker's session's profile_name>)`, which is "default" when no profile
 * is set; boto3 refuses a profile that no config file names ("The config profile (default) could not be
 * found"), and with a profile named explicitly it ignores AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. So the
 * `[default]` profile gets the credentials of `env` (the emulators'), as an instance's would have them.
 */
export function originalHome(work: string, env: Record<string, string>): string {
  const home = join(work, "home");
  mkdirSync(join(home, ".aws"), { recursive: true });
  writeFileSync(join(home, ".aws", "config"), `[default]\nregion = ${env.AWS_REGION ?? "us-east-1"}\n`);
  const key = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (key && secret) writeFileSync(join(home, ".aws", "credentials"), `[default]\naws_access_key_id = ${key}\naws_secret_access_key = ${secret}\n`);
  return home;
}

/**
 * True when the original's mirror is here. The original's code is an outside reference, not something
 * .ci/run can install: without it the caller's tests are skipped, loudly, in CI too (not `needs()`).
 */
export function originalMirrorPresent(what: string): boolean {
  if (existsSync(ORIGINAL_MIRROR)) return true;
  console.warn(`\n*** the original's git mirror (${ORIGINAL_MIRROR}, or LAVA_ORIGINAL_MIRROR) is absent: ${what} SKIPPED ***\n`);
  return false;
}
