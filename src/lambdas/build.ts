/**
 * Builds the realm lambdas: `bun src/lambdas/build.ts [--version V] [--out DIR] [name…]`.
 *
 * Each `src/lambdas/<name>.ts` is bundled for Node.js (CommonJS, AWS SDK included so the code does not
 * depend on the SDK version of the Lambda runtime) into `<name>.js`, zipped as
 * `DIR/<name>-<version>.zip` (default DIR `dist/lambda`). The realm stack loads
 * `<s3CodePrefix>/_dist_/lambda/<name>-<lambdaVersion>.zip` with handler `<name>.handler`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { zip } from "./zip.ts";
import { VERSION } from "../core/version.ts";

export const LAMBDAS = ["dispatch", "metrics", "stop", "s3trigger"] as const;
export type LambdaName = (typeof LAMBDAS)[number];

const ROOT = resolve(import.meta.dir, "..", "..");

export async function bundleLambda(name: LambdaName): Promise<Uint8Array> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, `${name}.ts`)],
    target: "node",
    format: "cjs",
    minify: true,
  });
  if (!result.success) {
    throw new Error(`lambda ${name}: bundle failed:\n${result.logs.map(String).join("\n")}`);
  }
  const [output] = result.outputs;
  if (!output) throw new Error(`lambda ${name}: bundle produced no output`);
  return new Uint8Array(await output.arrayBuffer());
}

export async function buildLambda(name: LambdaName, version: string, outDir: string): Promise<string> {
  const code = await bundleLambda(name);
  const file = join(outDir, `${name}-${version}.zip`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(file, zip([{ name: `${name}.js`, data: code }]));
  return file;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (!value) throw new Error(`${name} needs a value`);
  args.splice(i, 2);
  return value;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const version = option(args, "--version") ?? process.env.LAVA_VERSION ?? VERSION;
  const out = resolve(option(args, "--out") ?? join(ROOT, "dist", "lambda"));
  const names = args.length ? args : [...LAMBDAS];
  for (const name of names) {
    if (!(LAMBDAS as readonly string[]).includes(name)) throw new Error(`unknown lambda ${name}`);
    console.log(await buildLambda(name as LambdaName, version, out));
  }
}
