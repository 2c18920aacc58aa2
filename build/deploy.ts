#!/usr/bin/env bun
/**
 * Deploy built lava artefacts to the S3 code area (platform.md §3.4).
 *
 *   bun build/deploy.ts -e ENV [-f deploy.yaml] [-n] [-l] [-v VERSION] [component ...]
 *
 *   -e ENV        environment: a top-level key of the config file (required)
 *   -f FILE       config file (default deploy.yaml; see build/deploy.sample.yaml)
 *   -n, -d        dry run: report what would be uploaded, upload nothing
 *   -l            list the components and exit
 *   -v VERSION    version to deploy (default package.json's)
 *   component     only these (default: every component the environment configures)
 *
 * The environment must name its AWS account (`account_id`); the deploy stops unless the credentials in
 * use belong to that account. A file is skipped when the object already there has the same size and
 * the same sha256 (kept in the object's `sha256` metadata), so a second deploy uploads nothing.
 * Independent of the lava executable: it uses the AWS SDK directly (AWS_PROFILE, AWS_REGION and
 * AWS_ENDPOINT_URL_* are honoured as usual; LAVA_S3_PATH_STYLE=true for emulators).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

const ROOT = resolve(import.meta.dir, "..");

export interface Component {
  name: string;
  description: string;
  /** Files to upload: path relative to the component's S3 location → local file. */
  files(ctx: DeployContext): Map<string, string>;
}

export interface DeployContext {
  root: string;
  version: string;
  warn(message: string): void;
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/** Everything under `dir` (relative keys), keeping files `keep` accepts. */
function tree(dir: string, keep: (rel: string) => boolean): Map<string, string> {
  const files = new Map<string, string>();
  for (const path of walk(dir)) {
    const rel = relative(dir, path);
    if (keep(rel)) files.set(rel, path);
  }
  return files;
}

const hidden = (rel: string) => rel.split("/").some((part) => part.startsWith("."));

export const COMPONENTS: readonly Component[] = [
  {
    name: "ami",
    description: "Components required to be in S3 to build the AMI (not the AMI itself).",
    files: (ctx) => tree(join(ctx.root, "packer", "resources.s3"), (rel) => !hidden(rel) && !rel.startsWith("README")),
  },
  {
    name: "boot",
    description: "Lava worker boot scriptlets (_boot_, not root.boot*).",
    files: (ctx) => tree(join(ctx.root, "boot", "_boot_"), (rel) => !hidden(rel) && !rel.startsWith("README")),
  },
  {
    name: "cfn",
    description: "CloudFormation templates.",
    files: (ctx) => tree(join(ctx.root, "dist", "cfn"), (rel) => !hidden(rel)),
  },
  {
    name: "lambda",
    description: "Lambda function code bundles.",
    files: (ctx) => tree(join(ctx.root, "dist", "lambda"), (rel) => rel.endsWith(`-${ctx.version}.zip`)),
  },
  {
    name: "pkg",
    description: "Lava bundles (<os>/lava-<version>-<os>-<arch>.tar.gz and checksums).",
    files: (ctx) => tree(join(ctx.root, "dist", "pkg"), (rel) => /^[^/]+\/lava-/.test(rel) && rel.includes(`/lava-${ctx.version}-`)),
  },
];

export class DeployError extends Error {
  override name = "DeployError";
}

export interface EnvConfig {
  account_id: string;
  s3base?: string;
  /** Component name → S3 location as written in the file. */
  locations: Map<string, string>;
}

/** Reads one environment of a deploy config (the original's deploy.yaml format). */
export function loadEnv(text: string, env: string, file = "deploy.yaml"): EnvConfig {
  const doc = parseYaml(text) as Record<string, unknown> | null;
  const section = doc?.[env];
  if (!section || typeof section !== "object") throw new DeployError(`${env}: no such environment in ${file}`);
  const s = section as Record<string, unknown>;
  const account = s.account_id;
  if (account === undefined || account === null || String(account).trim() === "") {
    throw new DeployError(`Target account ID not specified in ${file} for environment "${env}"`);
  }
  const general = (s._ ?? {}) as Record<string, unknown>;
  const locations = new Map<string, string>();
  for (const c of COMPONENTS) {
    const entry = s[c.name] as Record<string, unknown> | undefined;
    const loc = entry && typeof entry === "object" ? entry.s3 : undefined;
    if (typeof loc === "string" && loc.trim() !== "") locations.set(c.name, loc.trim());
  }
  return {
    account_id: String(account).trim(),
    ...(typeof general.s3base === "string" ? { s3base: general.s3base.replace(/\/+$/, "") } : {}),
    locations,
  };
}

/** `s3://bucket/prefix/` from a configured location: full `s3://...`, or relative to `_.s3base`. */
export function resolveLocation(loc: string, s3base: string | undefined, version: string): { bucket: string; prefix: string } {
  const expanded = loc.replace(/\$\{version\}|\$version\b/g, version);
  let full: string;
  if (expanded.startsWith("s3://")) full = expanded.slice(5);
  else if (s3base) full = `${s3base.replace(/^s3:\/\//, "")}/${expanded.replace(/^\/+/, "")}`;
  else throw new DeployError(`${loc} is not an s3:// location and _.s3base is not set`);
  const [bucket, ...rest] = full.split("/");
  if (!bucket) throw new DeployError(`no bucket in ${loc}`);
  const prefix = rest.join("/").replace(/\/*$/, "/").replace(/^\/$/, "");
  return { bucket, prefix };
}

export interface DeployOptions {
  env: string;
  configFile: string;
  dryRun: boolean;
  version: string;
  components: string[];
  root?: string;
  log?: (line: string) => void;
}

export interface DeployReport {
  uploaded: string[];
  skipped: string[];
}

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export async function deploy(opts: DeployOptions): Promise<DeployReport> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const unknown = opts.components.filter((c) => !COMPONENTS.some((x) => x.name === c));
  if (unknown.length) throw new DeployError(`No such component: ${unknown.join(", ")}`);
  if (!existsSync(opts.configFile)) throw new DeployError(`${opts.configFile}: No such file`);
  const config = loadEnv(readFileSync(opts.configFile, "utf8"), opts.env, opts.configFile);

  const { S3Client, HeadObjectCommand, PutObjectCommand } = await import("@aws-sdk/client-s3");
  const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  const common = region ? { region } : {};

  const identity = await new STSClient(common).send(new GetCallerIdentityCommand({}));
  if (identity.Account !== config.account_id) {
    throw new DeployError(`You are pointing at the wrong AWS account. Expected ${config.account_id} not ${identity.Account}`);
  }
  log(`OK: deploying to account ${config.account_id}`);

  const s3 = new S3Client({ ...common, forcePathStyle: /^(1|true|yes)$/i.test(process.env.LAVA_S3_PATH_STYLE ?? "") });
  const ctx: DeployContext = { root: opts.root ?? ROOT, version: opts.version, warn: (m) => log(`WARNING: ${m}`) };
  const report: DeployReport = { uploaded: [], skipped: [] };

  for (const component of COMPONENTS) {
    if (opts.components.length && !opts.components.includes(component.name)) continue;
    const loc = config.locations.get(component.name);
    if (!loc) {
      log(`Skipping ${component.name} (not configured for ${opts.env})`);
      continue;
    }
    const { bucket, prefix } = resolveLocation(loc, config.s3base, opts.version);
    const files = component.files(ctx);
    if (files.size === 0) ctx.warn(`${component.name}: nothing to deploy for version ${opts.version}`);
    log(`Deploying ${component.name} to s3://${bucket}/${prefix}`);
    for (const [rel, path] of files) {
      const key = `${prefix}${rel}`;
      const digest = sha256(path);
      const size = statSync(path).size;
      const current = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
      if (current && current.ContentLength === size && current.Metadata?.sha256 === digest) {
        report.skipped.push(`s3://${bucket}/${key}`);
        continue;
      }
      report.uploaded.push(`s3://${bucket}/${key}`);
      if (opts.dryRun) {
        log(`  would upload ${relative(ctx.root, path)} -> s3://${bucket}/${key}`);
        continue;
      }
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(path), Metadata: { sha256: digest } }));
      log(`  uploaded ${relative(ctx.root, path)} -> s3://${bucket}/${key}`);
    }
  }
  log(`${opts.dryRun ? "Would upload" : "Uploaded"} ${report.uploaded.length}, unchanged ${report.skipped.length}`);
  return report;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

const USAGE = `Usage: bun build/deploy.ts -e environment [-f deploy.yaml] [-n] [-l] [-v version] [component ...]\n`;

function parseArgs(argv: string[]): DeployOptions | "list" {
  const opts: DeployOptions = { env: "", configFile: "deploy.yaml", dryRun: false, version: packageVersion(), components: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new DeployError(`${a} needs a value`);
      return v;
    };
    if (a === "-e") opts.env = value();
    else if (a === "-f") opts.configFile = value();
    else if (a === "-n" || a === "-d") opts.dryRun = true;
    else if (a === "-v") opts.version = value();
    else if (a === "-l") return "list";
    else if (a === "-h" || a === "--help") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a.startsWith("-")) throw new DeployError(`unknown option ${a}\n${USAGE}`);
    else opts.components.push(a);
  }
  if (!opts.env) throw new DeployError(`-e environment is required\n${USAGE}`);
  return opts;
}

if (import.meta.main) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    if (opts === "list") {
      for (const c of COMPONENTS) process.stdout.write(`${c.name.padEnd(10)} ${c.description}\n`);
    } else {
      await deploy(opts);
    }
  } catch (e) {
    process.stderr.write(`deploy: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
