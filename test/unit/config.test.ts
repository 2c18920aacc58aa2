import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_VARS, ConfigError, LavaConfig, parseBool, parseDuration, parseInteger, parseSize } from "../../src/core/config.ts";
import { renderConfigDoc } from "../../src/core/config-doc.ts";

describe("parseDuration", () => {
  test.each([
    ["10", 10], ["10s", 10], ["1.5m", 90], ["2h", 7200], ["1d", 86400], ["1w", 604800], [" 3 m ", 180],
    ["-10s", -10], ["+5", 5], ["1e2s", 100], [".5m", 30], ["2.", 2], ["1E1m", 600],
  ] as const)("%p = %p seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });
  test("numbers pass through", () => expect(parseDuration(7.5)).toBe(7.5));
  test.each(["", "m", "10x", "10 mins", "10M", "1.2.3", "ten", "10s5", "NaN"])("rejects %p", (text) => {
    expect(() => parseDuration(text)).toThrow(/invalid duration/);
  });
});

describe("parseSize", () => {
  test.each([
    ["100", 100], ["-1024", -1024], ["10B", 10], ["1K", 1000], ["1KB", 1000], ["2M", 2e6], ["2MB", 2e6],
    ["1G", 1e9], ["1GB", 1e9], ["1T", 1e12], ["1TB", 1e12], ["1P", 1e15], ["1PB", 1e15], ["1KiB", 1024],
    ["1MiB", 1048576], ["1GiB", 2 ** 30], ["1TiB", 2 ** 40], ["1PiB", 2 ** 50], ["1.5K", 1500], [" 2 KiB ", 2048],
    ["2.5B", 2], ["3.5B", 4], ["1e3B", 1000],
  ] as const)("%p = %p bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  test.each(["", "1k", "1kb", "1mb", "1KIB", "1Kib", "1.5", "1 X", "K", "1Ki", "ten"])("rejects %p (units are case-sensitive)", (text) => {
    expect(() => parseSize(text)).toThrow(/invalid size/);
  });
});

describe("parseBool", () => {
  test.each(["true", "T", "Yes", "y", " TRUE ", "1", "-3", "42"])("%p is true", (t) => expect(parseBool(t)).toBe(true));
  test.each(["false", "F", "No", "n", "0", " 00 "])("%p is false", (t) => expect(parseBool(t)).toBe(false));
  test("booleans and numbers pass through", () => {
    expect(parseBool(true)).toBe(true);
    expect(parseBool(false)).toBe(false);
    expect(parseBool(0)).toBe(false);
  });
  test.each(["", "maybe", "yess", "1.5", "on"])("rejects %p", (t) => expect(() => parseBool(t)).toThrow(/invalid boolean/));
});

describe("parseInteger", () => {
  test.each([["10", 10], [" -3 ", -3], ["1_000", 1000], ["+7", 7]] as const)("%p = %p", (t, n) => expect(parseInteger(t)).toBe(n));
  test.each(["", "1.5", "1e3", "ten", "_1", "1_"])("rejects %p", (t) => expect(() => parseInteger(t)).toThrow(/invalid integer/));
});

describe("LavaConfig", () => {
  test("defaults from the table", () => {
    const c = new LavaConfig({}, {});
    expect(c.seconds("CMD_TIMEOUT")).toBe(600);
    expect(c.seconds("EVENT_TTL")).toBe(172800);
    expect(c.bytes("PKG_MAX_PAYLOAD_SIZE")).toBe(20_000_000);
    expect(c.bytes("SQL_MAX_PAYLOAD_SIZE")).toBe(100_000);
    expect(c.int("SQS_MAX_DELAY_MINS")).toBe(15);
    expect(c.int("STDERR_SIZE")).toBe(2000);
    expect(c.bool("JOB_LOCAL_TMPDIR")).toBe(true);
    expect(c.bool("DEBUG")).toBe(false);
    expect(c.str("CW_NAMESPACE")).toBe("Lava");
    expect(c.str("CONN_APP_NAME")).toBe("lv-{{ realm }}-{{ job_id }}");
    expect(c.str("SES_FROM")).toBe("");
    expect(c.raw("SES_FROM")).toBeUndefined();
    expect(c.int("DAG_MAX_WORKERS")).toBe(4 * c.int("DAG_WORKERS"));
  });

  test("precedence: env > realm > default", () => {
    const env: NodeJS.ProcessEnv = {};
    const c = new LavaConfig({ cmd_timeout: "5m" }, env);
    expect(c.seconds("CMD_TIMEOUT")).toBe(300);
    expect(c.resolve("CMD_TIMEOUT").source).toBe("realm");
    env.LAVA_CMD_TIMEOUT = "7s";
    expect(c.seconds("cmd_timeout")).toBe(7);
    expect(c.resolve("CMD_TIMEOUT").source).toBe("env");
    delete env.LAVA_CMD_TIMEOUT;
    expect(c.seconds("CMD_TIMEOUT")).toBe(300);
    expect(new LavaConfig({}, env).resolve("CMD_TIMEOUT")).toEqual({ value: "10m", source: "default" });
  });

  test("the environment is read at every lookup (live process.env by default)", () => {
    const c = new LavaConfig();
    process.env.LAVA_FOREACH_LIMIT = "3";
    try {
      expect(c.int("FOREACH_LIMIT")).toBe(3);
    } finally {
      delete process.env.LAVA_FOREACH_LIMIT;
    }
    expect(c.int("FOREACH_LIMIT")).toBe(10);
  });

  test("realm values may be DynamoDB numbers and booleans", () => {
    const c = new LavaConfig({ STDERR_SIZE: -500, DEBUG: true, CMD_TIMEOUT: 30 }, {});
    expect(c.int("STDERR_SIZE")).toBe(-500);
    expect(c.bool("DEBUG")).toBe(true);
    expect(c.seconds("CMD_TIMEOUT")).toBe(30);
  });

  test("LOGLEVEL comes only from the environment", () => {
    expect(new LavaConfig({ LOGLEVEL: "debug" }, {}).str("LOGLEVEL")).toBe("info");
    expect(new LavaConfig({ LOGLEVEL: "debug" }, { LAVA_LOGLEVEL: "warning" }).str("LOGLEVEL")).toBe("warning");
  });

  test("a bad env value names variable, source and value", () => {
    const c = new LavaConfig({}, { LAVA_CMD_TIMEOUT: "10 minutes" });
    let err: unknown;
    try {
      c.seconds("CMD_TIMEOUT");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.variable).toBe("CMD_TIMEOUT");
    expect(ce.source).toBe("env");
    expect(ce.value).toBe("10 minutes");
    expect(ce.message).toContain("CMD_TIMEOUT");
    expect(ce.message).toContain("LAVA_CMD_TIMEOUT");
    expect(ce.message).toContain('"10 minutes"');
  });

  test.each([
    ["int", "ITERATION_MAX_LIMIT", "ten"],
    ["bool", "DEBUG", "perhaps"],
    ["bytes", "EMAIL_MAX_SIZE", "5mb"],
    ["seconds", "STATE_TTL", "7 days"],
  ] as const)("a bad realm value for %s fails naming the realm", (getter, name, value) => {
    const c = new LavaConfig({ [name.toLowerCase()]: value }, {});
    expect(() => c[getter](name)).toThrow(new RegExp(`${name}.*"${value}".*realm|realm.*${name}`));
    try {
      c[getter](name);
    } catch (e) {
      expect((e as ConfigError).source).toBe("realm");
      expect((e as ConfigError).value).toBe(value);
    }
  });

  test("EVENT_TTL may be empty to disable expiry", () => {
    expect(new LavaConfig({ EVENT_TTL: "" }, {}).optionalSeconds("EVENT_TTL")).toBeUndefined();
    expect(new LavaConfig({}, {}).optionalSeconds("EVENT_TTL")).toBe(172800);
  });

  test("unknown variables: raw is undefined, typed lookups fail, realm-only extras are visible", () => {
    const c = new LavaConfig({ MY_EXTRA: "1" }, {});
    expect(c.raw("NOPE")).toBeUndefined();
    expect(() => c.int("NOPE")).toThrow(ConfigError);
    expect(c.int("MY_EXTRA")).toBe(1);
    expect(c.entries().find(([k]) => k === "MY_EXTRA")).toEqual(["MY_EXTRA", "1"]);
  });

  test("entries lists every variable once; validate finds every bad one", () => {
    const c = new LavaConfig({ DEBUG: "x" }, { LAVA_PKG_TIMEOUT: "y" });
    const names = c.entries().map(([k]) => k);
    for (const cv of CONFIG_VARS) expect(names).toContain(cv.name);
    expect(c.validate().map((e) => e.variable).sort()).toEqual(["DEBUG", "PKG_TIMEOUT"]);
    expect(new LavaConfig({}, {}).validate()).toEqual([]);
  });
});

describe("the variable table", () => {
  test("has the original's 68 variables plus LOGLEVEL and our PKG_MAX_UNPACKED_SIZE, PKG_MAX_ENTRIES, each once", () => {
    const names = CONFIG_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(71);
    for (const n of ["TMPDIR", "SQL_QUOTECHAR", "SP_LIST_QUOTECHAR", "SMB_TIMEOUT", "NO_DISPATCH", "S3TRIGGER_DEDUP_CACHE_SIZE", "PG_COPY_TIMEOUT"]) {
      expect(names).toContain(n);
    }
  });

  test("every default converts to its type", () => {
    expect(new LavaConfig({}, {}).validate()).toEqual([]);
  });

  test("docs/CONFIG.md is generated from the table and lists every variable", () => {
    const doc = readFileSync(join(import.meta.dir, "../../docs/CONFIG.md"), "utf8");
    expect(doc).toBe(renderConfigDoc());
    for (const cv of CONFIG_VARS) expect(doc).toContain(`| ${cv.name} |`);
  });
});
