/**
 * Renders the deployable templates: `bun cfn/build.ts [--version V] [--out DIR]`.
 *
 * Writes `DIR/lava-{common,realm,worker}.cfn.json` (default DIR `dist/cfn`) with the version injected as
 * the only allowed value of the `Version` parameter, and a markdown page per template documenting its
 * parameters, resources and outputs (`.cfn.md`).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { commonTemplate } from "./common.ts";
import { realmTemplate } from "./realm.ts";
import { workerTemplate } from "./worker.ts";
import { templateMarkdown } from "./docs.ts";
import type { Template } from "./lib.ts";

export const STACKS = ["common", "realm", "worker"] as const;
export type StackKind = (typeof STACKS)[number];

const BUILDERS: Record<StackKind, (version: string) => Template> = {
  common: commonTemplate,
  realm: realmTemplate,
  worker: workerTemplate,
};

const ROOT = resolve(import.meta.dir, "..");

/** The lava version of this checkout (package.json), unless overridden. */
export function defaultVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version?: unknown };
  if (typeof pkg.version !== "string") throw new Error("package.json has no version");
  return pkg.version;
}

export function buildTemplate(kind: StackKind, version: string): Template {
  if (!/^\d+\.\d+\.\d+([-+.][0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Error(`not a version: ${version}`);
  }
  return BUILDERS[kind](version);
}

export function buildAll(outDir: string, version: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const kind of STACKS) {
    const template = buildTemplate(kind, version);
    const base = join(outDir, `lava-${kind}.cfn`);
    writeFileSync(`${base}.json`, JSON.stringify(template, null, 2) + "\n");
    writeFileSync(`${base}.md`, templateMarkdown(`lava-${kind}.cfn.json`, template));
    written.push(`${base}.json`, `${base}.md`);
  }
  return written;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (!value) throw new Error(`${name} needs a value`);
  return value;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const version = option(args, "--version") ?? process.env.LAVA_VERSION ?? defaultVersion();
  const out = resolve(option(args, "--out") ?? join(ROOT, "dist", "cfn"));
  for (const file of buildAll(out, version)) console.log(file);
}
