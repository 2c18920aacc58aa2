/** docs/CONFIG.md is generated from CONFIG_VARS by this function (`lava config --markdown > docs/CONFIG.md`). */
import { CONFIG_VARS, type ConfigType } from "./config.ts";

const TYPE_NAMES: Record<ConfigType, string> = { duration: "Duration", size: "Size", bool: "Boolean", int: "Integer", str: "String" };

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

export function renderConfigDoc(): string {
  const groups = new Map<string, typeof CONFIG_VARS[number][]>();
  for (const cv of CONFIG_VARS) groups.set(cv.group, [...(groups.get(cv.group) ?? []), cv]);
  const out: string[] = [
    "# lava configuration variables",
    "",
    "<!-- Generated from src/core/config.ts by `lava config --markdown`; test/unit/config.test.ts checks it is current. -->",
    "",
    "For a variable `XYZ`, lava uses the first of:",
    "",
    "1. the environment variable `LAVA_XYZ` (read at every lookup);",
    "2. the `XYZ` entry of the `config` map in the realm's entry of the `lava.realms` table (keys are",
    "   upper-cased when the realm is loaded, so `cmd_timeout` works too; changes need a worker restart);",
    "3. the default below.",
    "",
    "`LOGLEVEL` is the exception: only `LAVA_LOGLEVEL` sets it. Lambdas read the environment and the defaults only.",
    "`lava config [-r REALM]` prints every variable with its value and source; `lava config --check` checks",
    "that every value converts to its type.",
    "",
    "## Value types",
    "",
    "- **Duration**: a number with an optional unit, `s` (seconds, the default), `m`, `h`, `d` or `w`. Fractions,",
    "  a sign and an exponent are allowed (`1.5h`, `-10s`, `1e3`), as is space around the number and unit.",
    "- **Size**: a whole number of bytes, or a number with a case-sensitive unit: `B`; `K`/`KB`, `M`/`MB`, `G`/`GB`,",
    "  `T`/`TB`, `P`/`PB` (powers of 1000); `KiB`, `MiB`, `GiB`, `TiB`, `PiB` (powers of 1024). A fraction needs a",
    "  unit (`1.5K`); results are rounded to whole bytes.",
    "- **Boolean**: `true`, `t`, `yes`, `y` or a non-zero integer; `false`, `f`, `no`, `n` or zero (any case).",
    "- **Integer**: a decimal integer.",
    "- **String**: any text. \"none\" as a default means unset.",
    "",
    "The **Used** column says whether this version reads the variable: \"not yet implemented\" marks variables",
    "of the original whose job type or connector this version does not have yet (they are accepted and ignored).",
    "",
    "A value that does not convert fails with a `ConfigError` naming the variable, where the value came from",
    "(environment or realm) and the value.",
    "",
  ];
  for (const [group, vars] of groups) {
    out.push(`## ${group}`, "", "| Name | Type | Default | Used | Description |", "|---|---|---|---|---|");
    for (const cv of vars) {
      const dflt = cv.defaultDoc ?? (typeof cv.default === "string" ? `\`${cv.default}\`` : "none");
      const doc = cv.extension ? `${cv.doc} *(lava-ts only: a Python worker ignores it.)*` : cv.doc;
      const used = cv.planned ? "not yet implemented" : "used";
      out.push(`| ${cv.name} | ${TYPE_NAMES[cv.type]} | ${cell(dflt)} | ${used} | ${cell(doc)} |`);
    }
    out.push("");
  }
  return out.join("\n");
}
