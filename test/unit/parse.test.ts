/** The one command-line parser (src/cli/parse.ts), driven by citty definitions. */
import { describe, expect, test } from "bun:test";
import type { ArgsDef } from "citty";
import { listArg, parseCommandLine, parseOptions, positionalArgs, type Options } from "../../src/cli/parse.ts";
import { UsageError } from "../../src/core/errors.ts";

const DEF = {
  "job-id": { type: "positional", required: false, description: "ids" },
  realm: { type: "string", alias: "r", description: "realm" },
  param: { type: "string", alias: "p", multiple: true, description: "param" },
  retries: { type: "string", description: "retries", default: "2" },
  dev: { type: "boolean", alias: "d", description: "dev" },
  "jump-start": { type: "boolean", alias: "j", description: "jump" },
  colour: { type: "boolean", default: true, description: "colour" },
  fmt: { type: "enum", options: ["json", "text"], description: "format" },
} as unknown as ArgsDef;

function usage(args: string[]): string {
  try {
    parseCommandLine(args, DEF);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("no usage error");
}

describe("parseCommandLine", () => {
  test("repeatable options keep every value in order, whatever the spelling", () => {
    const a = parseCommandLine(["-p", "a=1", "--param=b=2", "-pc=3", "--param", "d=4", "x", "y"], DEF);
    expect(listArg(a, "param")).toEqual(["a=1", "b=2", "c=3", "d=4"]);
    expect(positionalArgs(a)).toEqual(["x", "y"]);
    expect(a["job-id"]).toBe("x");
  });

  test("bundled short flags, an attached short value, kebab and camel names, defaults, negation", () => {
    const a = parseCommandLine(["-rprod", "-dj", "--no-colour"], DEF);
    expect(a.realm).toBe("prod");
    expect(a.dev).toBe(true);
    expect(a["jump-start"]).toBe(true);
    expect(a.jumpStart).toBe(true);
    expect(a.colour).toBe(false);
    expect(a.retries).toBe("2");
    expect(listArg(a, "param")).toEqual([]);
  });

  test("a negative number is a value, as argparse takes it", () => {
    expect(parseCommandLine(["--retries", "-1"], DEF).retries).toBe("-1");
  });

  test("unknown options, missing values and bad choices are usage errors naming the option", () => {
    expect(usage(["--bogus"])).toBe("unknown option --bogus");
    expect(usage(["-x"])).toBe("unknown option -x");
    expect(usage(["-r"])).toBe("option -r needs a value");
    expect(usage(["-r", "--dev"])).toBe("option -r needs a value");
    expect(usage(["--fmt", "xml"])).toContain("invalid choice: xml");
  });

  test("after -- everything is positional", () => {
    expect(positionalArgs(parseCommandLine(["--", "-p", "--bogus"], DEF))).toEqual(["-p", "--bogus"]);
  });
});

describe("parseOptions finds what node's util.parseArgs finds in strict mode", () => {
  const OPTIONS: Options = {
    realm: { type: "string", multiple: false, short: "r" },
    param: { type: "string", multiple: true, short: "p" },
    queue: { type: "string", multiple: false },
    dev: { type: "boolean", multiple: false, short: "d" },
    jump: { type: "boolean", multiple: false, short: "j" },
    colour: { type: "boolean", multiple: false },
    // A one-letter name with no short form: `-n` names it (lava ami -n).
    n: { type: "string", multiple: false },
  };
  const CASES = [
    ["-n", "5"],
    ["-n5", "--n", "6"],
    ["-dn", "7"],
    [],
    ["a", "b"],
    ["-r", "prod", "x"],
    ["-rprod"],
    ["--realm=prod", "--realm", "dev"],
    ["-p", "a=1", "--param=b=2", "-pc=3", "--param", "d=4"],
    ["-dj", "-djrprod", "-djr", "prod", "-jd"],
    ["--no-colour", "--colour", "--no-dev"],
    ["--queue", "q", "--queue=", "-"],
    ["--", "-r", "--bogus"],
    ["x", "--", "--", "y"],
    ["-r", "a=-1"],
    ["--param=-x"],
    // Errors: unknown long, short, in a group; missing or option-like values; a value to a boolean.
    ["--bogus"],
    ["--bogus=1"],
    ["-x"],
    ["-dx"],
    ["-r"],
    ["-r", "--dev"],
    ["--queue"],
    ["--queue", "-d"],
    ["--dev=1"],
    ["--no-realm"],
    ["--no-bogus"],
    ["--constructor"],
  ];
  const { parseArgs } = process.getBuiltinModule("node:util");
  for (const args of CASES) {
    test(JSON.stringify(args), () => {
      let expected: unknown;
      try {
        const r = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true, allowNegative: true });
        expected = { values: { ...r.values }, positionals: r.positionals };
      } catch {
        expected = "usage error";
      }
      let actual: unknown;
      try {
        actual = parseOptions(args, OPTIONS);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        actual = "usage error";
      }
      expect(actual).toEqual(expected);
    });
  }
});
