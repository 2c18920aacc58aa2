/**
 * The dependency rule of docs/ARCHITECTURE.md, checked on every import (static and dynamic) of every source
 * file: domain → ports ← adapters, and only the CLI and the lambdas wire them together.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");
const DOMAIN = ["core", "handlers", "actions", "connectors", "jinja"];
const ADAPTERS = ["aws", "local", "common"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

const transpiler = new Bun.Transpiler({ loader: "ts" });

/** Every module a file imports: package names as written, relative paths resolved to `src/...`. */
function importsOf(file: string): string[] {
  return transpiler.scanImports(readFileSync(file, "utf8")).map(({ path }) => {
    if (!path.startsWith(".")) return path;
    return relative(ROOT, resolve(dirname(file), path));
  });
}

/** The layer a resolved import lands in: `domain`, `ports`, `adapters/<name>`, `cli`, `lambdas`, or a package. */
function layerOf(target: string): string {
  const m = /^src\/([^/]+)(?:\/([^/]+))?/.exec(target);
  if (!m) return target;
  if (DOMAIN.includes(m[1]!)) return "domain";
  if (m[1] === "adapters") return m[2] && ADAPTERS.includes(m[2]) ? `adapters/${m[2]}` : "adapters";
  return m[1]!;
}

const SDKS = /^(@aws-sdk\/|@smithy\/|bun:sqlite$)/;

function violations(layerDirs: string[], forbidden: (target: string, layer: string) => boolean): string[] {
  const found: string[] = [];
  for (const dir of layerDirs) {
    for (const file of sourceFiles(join(SRC, dir))) {
      for (const target of importsOf(file)) {
        if (forbidden(target, layerOf(target))) found.push(`${relative(ROOT, file)} imports ${target}`);
      }
    }
  }
  return found;
}

describe("dependency rule", () => {
  test("domain code imports no SDK, no bun:sqlite, no adapter, no CLI, no lambda", () => {
    const bad = violations(DOMAIN, (t, layer) => SDKS.test(t) || layer.startsWith("adapters") || layer === "cli" || layer === "lambdas");
    expect(bad).toEqual([]);
  });

  test("ports are interfaces only: they import nothing but other ports", () => {
    const bad = violations(["ports"], (t, layer) => layer !== "ports" && !t.startsWith("node:"));
    expect(bad).toEqual([]);
  });

  test("adapters import neither the CLI, the lambdas, domain code, nor each other (common/ is shared)", () => {
    const bad: string[] = [];
    for (const name of ADAPTERS) {
      bad.push(
        ...violations([join("adapters", name)], (_t, layer) =>
          layer === "cli" || layer === "lambdas" || layer === "domain" ||
          (layer.startsWith("adapters/") && layer !== `adapters/${name}` && layer !== "adapters/common"),
        ),
      );
    }
    expect(bad).toEqual([]);
  });

  test("the checker sees a violation when there is one", () => {
    const probe = importsOf(join(SRC, "adapters", "local", "db.ts"));
    expect(probe).toContain("bun:sqlite");
    expect(layerOf("src/adapters/aws/index.ts")).toBe("adapters/aws");
    expect(layerOf("src/core/worker/worker.ts")).toBe("domain");
  });
});
