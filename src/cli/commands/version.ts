/** `lava version` / `lava-version`: the original's options (none, -n, -a, --eq, --ge). */
import type { ArgsDef } from "citty";
import { defineCommand } from "./index.ts";
import { UsageError } from "../../core/errors.ts";
import { writeOut } from "../run.ts";
import { VERSION, VERSION_NAME, compareVersions, fullVersion } from "../../core/version.ts";

const ARGS = {
  name: { type: "boolean", alias: "n", description: "Print the version name only" },
  all: { type: "boolean", alias: "a", description: "Print version number, name, platform and architecture" },
  ge: { type: "string", valueHint: "VERSION", description: "Only the exit status: 0 if lava's version is >= VERSION" },
  eq: { type: "string", valueHint: "VERSION", description: "Only the exit status: 0 if lava's version equals VERSION" },
} as const satisfies ArgsDef;

const version = defineCommand({
  meta: {
    description: "Print lava version information. With no option, the version number.",
  },
  args: ARGS,
  run({ args }) {
    const chosen = [args.name, args.all, args.ge !== undefined, args.eq !== undefined].filter(Boolean).length;
    if (chosen > 1) throw new UsageError("options -n, -a, --ge and --eq cannot be combined");
    if (args.name) return print(VERSION_NAME);
    if (args.all) return print(fullVersion());
    if (args.eq !== undefined) return compare(args.eq) === 0 ? 0 : 1;
    if (args.ge !== undefined) return compare(args.ge) >= 0 ? 0 : 1;
    return print(VERSION);
  },
});
export default version;

async function print(text: string): Promise<number> {
  await writeOut(`${text}\n`);
  return 0;
}

function compare(other: string): number {
  try {
    return compareVersions(VERSION, other);
  } catch {
    throw new UsageError(`invalid version "${other}"`);
  }
}
