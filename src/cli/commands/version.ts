/** `lava version` / `lava-version`: the original's options (none, -n, -a, --eq, --ge). */
import { defineCommand } from "citty";
import { UsageError } from "../../core/errors.ts";
import { VERSION, VERSION_NAME, compareVersions, fullVersion } from "../../core/version.ts";

export default defineCommand({
  meta: {
    description: "Print lava version information. With no option, the version number.",
  },
  args: {
    name: { type: "boolean", alias: "n", description: "Print the version name only" },
    all: { type: "boolean", alias: "a", description: "Print version number, name, platform and architecture" },
    ge: { type: "string", valueHint: "VERSION", description: "Only the exit status: 0 if lava's version is >= VERSION" },
    eq: { type: "string", valueHint: "VERSION", description: "Only the exit status: 0 if lava's version equals VERSION" },
  },
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

function print(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}

function compare(other: string): number {
  try {
    return compareVersions(VERSION, other);
  } catch {
    throw new UsageError(`invalid version "${other}"`);
  }
}
