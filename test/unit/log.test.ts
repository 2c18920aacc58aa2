import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, LOG_RECORD_MAX_CHARS, memoryLogger, parseLevel, redact, silentLogger, type LogRecord } from "../../src/core/log.ts";
import { ascTime, jsonLine, pyJson, utcIsoMicro } from "../../src/core/log/format.ts";
import { GOLDEN_DIR, haveGolden } from "../support/shared.ts";

const GOLDEN = GOLDEN_DIR;
const withGolden = haveGolden();

function capture(opts: Parameters<typeof createLogger>[0] = {}): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const log = createLogger({ host: "vm", ...opts, write: (l) => lines.push(l) });
  return { lines, log };
}

describe("stderr format", () => {
  test("<tag>: <thread>: <message>", () => {
    const { lines, log } = capture({ tag: "lava-dispatcher", level: "debug" });
    log.info("ref/log@ref dispatched (u-1)");
    log.child({ thread: "worker-03" }).warning("careful");
    expect(lines).toEqual(["lava-dispatcher: MainThread: ref/log@ref dispatched (u-1)", "lava-dispatcher: worker-03: careful"]);
  });

  test.if(withGolden)("matches the original dispatcher's captured output", () => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, "dispatcher-output.json"), "utf8")) as { output: string; argv: string[] }[];
    const plain = golden.find((g) => !g.argv.includes("--log-json"))!;
    const { lines, log } = capture({ tag: "lava-dispatcher" });
    const msg = plain.output.trim().split(": ").slice(2).join(": ");
    log.info(msg);
    expect(`${lines[0]}\n`).toBe(plain.output);
  });
});

describe("levels", () => {
  test("records below the level are dropped", () => {
    const { lines, log } = capture({ level: "warning" });
    log.debug("d");
    log.info("i");
    log.warning("w");
    log.error("e");
    log.critical("c");
    expect(lines.map((l) => l.split(": ").pop())).toEqual(["w", "e", "c"]);
  });

  test("Python names and aliases, any case; unknown names throw", () => {
    expect(parseLevel("DEBUG")).toBe(10);
    expect(parseLevel("warn")).toBe(30);
    expect(parseLevel("Fatal")).toBe(50);
    expect(() => parseLevel("loud")).toThrow(/unknown log level/);
  });

  test("default level comes from LAVA_LOGLEVEL", () => {
    const old = process.env.LAVA_LOGLEVEL;
    process.env.LAVA_LOGLEVEL = "error";
    try {
      const { lines, log } = capture();
      log.warning("hidden");
      log.error("shown");
      expect(lines).toHaveLength(1);
    } finally {
      if (old === undefined) delete process.env.LAVA_LOGLEVEL;
      else process.env.LAVA_LOGLEVEL = old;
    }
  });

  test("identical repeated lines are all written (no throttling)", () => {
    const { lines, log } = capture();
    for (let i = 0; i < 20; i++) log.info("same");
    expect(lines).toHaveLength(20);
  });
});

describe("file format", () => {
  test("<asctime>: <LEVEL>: <thread>: <message>, appended", () => {
    const dir = mkdtempSync(join(tmpdir(), "lava-log-"));
    try {
      const path = join(dir, "w.log");
      createLogger({ target: path }).info("first");
      const log = createLogger({ target: path, level: "debug" });
      log.child({ thread: "event" }).debug("second");
      log.critical("third");
      const lines = readFileSync(path, "utf8").trimEnd().split("\n");
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: INFO: MainThread: first$/);
      expect(lines[1]).toMatch(/: DEBUG: event: second$/);
      expect(lines[2]).toMatch(/: CRITICAL: MainThread: third$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("together: the lines of fn reach the file at its end, in order, also when it throws", () => {
    const dir = mkdtempSync(join(tmpdir(), "lava-log-"));
    try {
      const path = join(dir, "w.log");
      const log = createLogger({ target: path });
      const read = () => readFileSync(path, "utf8").trimEnd().split("\n").filter(Boolean).map((l) => l.split(": ").at(-1));
      log.info("before");
      const got = log.together(() => {
        log.info("one");
        log.child({ thread: "worker-01" }).warning("two");
        // Nested: joins the outer group.
        log.together(() => log.info("three"));
        expect(read()).toEqual(["before"]);
        return 7;
      });
      expect(got).toBe(7);
      expect(read()).toEqual(["before", "one", "two", "three"]);
      expect(() =>
        log.together(() => {
          log.error("four");
          throw new Error("boom");
        }),
      ).toThrow("boom");
      log.info("five");
      expect(read()).toEqual(["before", "one", "two", "three", "four", "five"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an unwritable path fails when the logger is made", () => {
    expect(() => createLogger({ target: "/nonexistent-dir/x.log" })).toThrow(/cannot open log file/);
  });
});

function goldenFirst(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(GOLDEN, "worker-log", file), "utf8").split("\n")[0]!) as Record<string, unknown>;
}

describe("JSON format", () => {
  test.if(withGolden)("worker records have the original's keys in the original's order", () => {
    const golden = goldenFirst("cmd_echo_success.jsonl");
    const { lines, log } = capture({ json: true, tag: "lava-ref-core", eventSource: "lava-worker", realm: "ref", worker: "core" });
    log.child({ thread: "worker-02" }).info("Job ref/cmd-echo (u): Starting", { event_type: "job", job_id: "ref/cmd-echo", run_id: "u" });
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(ours)).toEqual(Object.keys(golden));
    for (const k of ["event_source", "realm", "worker", "host", "tag", "level", "thread", "event_type"]) expect(ours[k]).toEqual(golden[k]);
    expect(ours.pid).toBe(process.pid);
    expect(ours.timestamp as string).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(ours.localtime as string).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  test("worker lines are written like Python's json.dumps", () => {
    const { lines, log } = capture({ json: true, tag: "t", eventSource: "lava-worker", realm: "ref", worker: "core" });
    log.info("x", { event_type: "worker" });
    expect(lines[0]).toContain('"event_source": "lava-worker", "realm": "ref", "worker": "core", "host": "vm", "tag": "t", "localtime": ');
  });

  test.if(withGolden)("heartbeat extras keep their nesting and order", () => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, "worker-log", "all.jsonl"), "utf8").split("\n").find((l) => l.includes('"heartbeat"'))!) as Record<string, unknown>;
    const { lines, log } = capture({ json: true, tag: "lava-ref-core", eventSource: "lava-worker", realm: "ref", worker: "core" });
    log.child({ thread: "heartbeat" }).info("heartbeat realm=ref worker=core", {
      event_type: "heartbeat",
      sqs: golden.sqs,
      internal: golden.internal,
      threads: golden.threads,
      deferred_tasks: golden.deferred_tasks,
    });
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(ours)).toEqual(Object.keys(golden));
    expect(ours.threads).toEqual(golden.threads);
  });

  test.if(withGolden)("dispatcher records match the original's layout", () => {
    const golden = JSON.parse(readFileSync(join(GOLDEN, "dispatcher-output.json"), "utf8")) as { output: string; argv: string[] }[];
    const g = JSON.parse(golden.find((x) => x.argv.includes("--log-json"))!.output) as Record<string, unknown>;
    const { lines, log } = capture({ json: true, jsonStyle: "dispatcher", eventSource: "lava-dispatcher", realm: "ref" });
    log.info("ref/log@ref dispatched (u)", { event_type: "dispatch", job_id: "ref/log", run_id: "u" });
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(ours)).toEqual(Object.keys(g));
    expect(ours.timestamp as string).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(ours.tag).toBe("lava-dispatcher");
  });

  test("empty constants and undefined extras are left out", () => {
    const { lines, log } = capture({ json: true, eventSource: "lava-x", host: "" });
    log.info("m", { job_id: undefined, run_id: "r" });
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect("realm" in ours || "worker" in ours || "host" in ours || "job_id" in ours).toBe(false);
    expect(ours.run_id).toBe("r");
  });

  test("a cyclic field is written to the depth bound, which is marked", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const { lines, log } = capture({ json: true });
    log.error("boom", { data: cyclic });
    const ours = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(ours.message).toBe("boom");
    expect(JSON.stringify(ours.data)).toMatch(/\[cut: nested deeper than 16\]|\[circular reference\]/);
  });

  test("time formats", () => {
    const t = Date.UTC(2026, 10, 27, 17, 42, 19, 529) + 0.787;
    expect(utcIsoMicro(t)).toBe("2026-11-27T17:42:19.529787+00:00");
    expect(ascTime(t)).toMatch(/,529$/);
  });

  test("pyJson escapes non-ASCII like Python", () => {
    expect(pyJson({ a: "é☃", b: [1, true, null] })).toBe('{"a": "\\u00e9\\u2603", "b": [1, true, null]}');
  });
});

describe("secrets", () => {
  test("secret-named fields are redacted at any depth", () => {
    const out = redact({ password: "p", conn: { secret_key: "s", user: "u" }, list: [{ token: "t" }], api_key: "k", job_id: "j" });
    expect(out).toEqual({ password: "********", conn: { secret_key: "********", user: "u" }, list: [{ token: "********" }], api_key: "********", job_id: "j" });
  });

  test("the logger never writes a secret field's value", () => {
    const { lines, log } = capture({ json: true });
    log.info("connecting", { conn_id: "db", password: "hunter2", aws_secret_access_key: "AKIA/x" });
    expect(lines[0]).not.toContain("hunter2");
    expect(lines[0]).not.toContain("AKIA/x");
    expect(lines[0]).toContain('"conn_id": "db"');
  });
});

describe("test loggers", () => {
  test("memoryLogger keeps every record, children included", () => {
    const log = memoryLogger();
    log.debug("a");
    log.child({ thread: "worker-00", job_id: "j" }).error("b", { run_id: "r" });
    const recs: LogRecord[] = log.records;
    expect(recs.map((r) => [r.level, r.message])).toEqual([["DEBUG", "a"], ["ERROR", "b"]]);
    expect(recs[1]!.fields).toMatchObject({ thread: "worker-00", job_id: "j", run_id: "r" });
  });

  test("silentLogger accepts everything", () => {
    const log = silentLogger();
    log.critical("x");
    expect(log.child({}).info("y")).toBeUndefined();
  });
});

function unixDatagramServer(path: string): { ready: Promise<void>; messages: () => Promise<string[]>; stop: () => void } {
  const script = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(5)
print("ready", flush=True)
out = []
try:
    while len(out) < int(sys.argv[2]):
        out.append(s.recv(65536).decode("utf-8", "replace"))
except socket.timeout:
    pass
print(json.dumps(out), flush=True)
`;
  const proc = Bun.spawn(["python3", "-c", script, path, "3"], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let buf = "";
  const readLine = async (): Promise<string> => {
    while (!buf.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
    }
    const i = buf.indexOf("\n");
    const line = i < 0 ? buf : buf.slice(0, i);
    buf = i < 0 ? "" : buf.slice(i + 1);
    return line;
  };
  return {
    ready: readLine().then((l) => {
      if (l !== "ready") throw new Error(`syslog test server did not start: ${l}`);
    }),
    messages: async () => JSON.parse(await readLine()) as string[],
    stop: () => proc.kill(),
  };
}

describe("syslog", () => {
  test("sends <PRI><tag>[pid]: LEVEL: thread: message over a unix datagram socket", async () => {
    if (!Bun.which("python3")) {
      if (process.env.CI === "true") throw new Error("python3 is needed for the syslog test");
      console.warn("SKIPPED syslog test: python3 not found");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "lava-syslog-"));
    const sock = join(dir, "log");
    const server = unixDatagramServer(sock);
    try {
      await server.ready;
      const log = createLogger({ target: "@local0", tag: "lava-worker", syslogSocket: sock, level: "debug" });
      log.info("hello");
      log.child({ thread: "worker-01" }).error("bad thing");
      const jlog = createLogger({ target: "@daemon", tag: "lava-w", syslogSocket: sock, json: true, eventSource: "lava-worker" });
      jlog.warning("json one", { event_type: "worker" });
      const msgs = await server.messages();
      expect(msgs).toHaveLength(3);
      // local0 = 16: info 16*8+6 = 134, error 16*8+3 = 131; daemon = 3: warning 3*8+4 = 28
      expect(msgs[0]).toBe(`<134>lava-worker[${process.pid}]: INFO: MainThread: hello\0`);
      expect(msgs[1]).toBe(`<131>lava-worker[${process.pid}]: ERROR: worker-01: bad thing\0`);
      expect(msgs[2]!.startsWith("<28>lava-w: {")).toBe(true);
      const payload = JSON.parse(msgs[2]!.slice("<28>lava-w: ".length, -1)) as Record<string, unknown>;
      expect(payload.message).toBe("json one");
    } finally {
      server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bad facility is an error", () => {
    expect(() => createLogger({ target: "@local9" })).toThrow(/unknown syslog facility/);
  });

  test("a missing explicit socket is an error", () => {
    expect(() => createLogger({ target: "@user", syslogSocket: "/nonexistent/log" })).toThrow(/cannot connect/);
  });
});

describe("jsonLine directly", () => {
  test("record realm/worker fields override the constants", () => {
    const rec: LogRecord = { time: Date.now(), level: "INFO", message: "m", fields: { thread: "t", realm: "other" } };
    const out = JSON.parse(jsonLine(rec, { realm: "ref", event_source: "x" }, "worker")) as Record<string, unknown>;
    expect(out.realm).toBe("other");
  });
});

describe("record size bound", () => {
  test("a message over LOG_RECORD_MAX_CHARS keeps its start and ends with a marker saying how much was cut", () => {
    const { lines, log } = capture({ tag: "t" });
    log.info("x".repeat(LOG_RECORD_MAX_CHARS + 1_234_567));
    expect(lines[0]!.length).toBeLessThan(LOG_RECORD_MAX_CHARS + 100);
    expect(lines[0]!).toEndWith(`${"x".repeat(10)}... [cut 1,234,567 characters]`);
    log.info("short");
    expect(lines[1]).toBe("t: MainThread: short");
  });

  test("fields share one budget: long strings are cut, deep nesting and long lists end in markers", () => {
    const log = memoryLogger();
    let deep: unknown = "bottom";
    for (let i = 0; i < 100; i++) deep = { d: deep };
    log.info("m", { big: "y".repeat(LOG_RECORD_MAX_CHARS * 2), more: "z".repeat(10), list: Array.from({ length: 10 }, (_, i) => i), deep });
    const f = log.records[0]!.fields;
    expect((f.big as string).length).toBeLessThan(LOG_RECORD_MAX_CHARS + 100);
    expect(f.big as string).toMatch(/y\.\.\. \[cut 262,1\d\d characters\]$/);
    expect(f["..."]).toBe("[cut 3 more entries]");
    expect(JSON.stringify(f).length).toBeLessThan(LOG_RECORD_MAX_CHARS + 1000);
    const small = memoryLogger();
    small.info("m", { deep });
    expect(JSON.stringify(small.records[0]!.fields)).toContain("[cut: nested deeper than 16]");
  });

  test("the log job's dump of deeply nested parameters is bounded the same way and keeps its shape", async () => {
    const { logJob } = await import("../../src/handlers/log.ts");
    const { pyJsonDumps } = await import("../../src/core/pyformat.ts");
    let nested: unknown = 1;
    for (let i = 0; i < 20_000; i++) nested = [nested]; // a ~40 KB message: ~800 MB of indented dump, deeper than the call stack
    const log = memoryLogger();
    const job = { job_id: "ref/log", run_id: "r1", parameters: { nested } };
    await logJob.run({ job, log } as never);
    const msg = log.records[0]!.message;
    expect(msg.length).toBeLessThan(LOG_RECORD_MAX_CHARS + 100);
    expect(msg).toMatch(/\.\.\. \[cut [\d,]+ characters\]$/);
    const shallow = memoryLogger();
    const plain = { job_id: "ref/log", run_id: "r1", parameters: { b: 1, a: [1, 2] } };
    await logJob.run({ job: plain, log: shallow } as never);
    expect(shallow.records[0]!.message).toBe(pyJsonDumps({ job_id: "ref/log", parameters: { a: [1, 2], b: 1 }, run_id: "r1" }, 4));
  });

  test("pyJsonDumpsBounded is the start of pyJsonDumps's text, and counts what it leaves off", async () => {
    const { pyJsonDumps, pyJsonDumpsBounded } = await import("../../src/core/pyformat.ts");
    // Nested past the recursion limit (200): written again by the stack walk, same text.
    let deep: unknown = { end: "é" };
    for (let i = 0; i < 300; i++) deep = i % 2 ? [deep, i] : { [`k${i}`]: deep };
    const samples: unknown[] = [{ a: 1, b: [1, 2, { c: "é\n\"" }], d: {}, e: [], f: null, g: new Date(0), h: 1.5 }, [], "s", [[[]]], { k: { k: [1, { z: true }] } }, deep];
    for (const v of samples) {
      for (const indent of [undefined, 4]) {
        const full = pyJsonDumps(v, indent);
        for (const max of [0, 1, 7, 30, 10_000, 100_000]) {
          expect(pyJsonDumpsBounded(v, indent, max)).toEqual({ text: full.slice(0, max), cut: Math.max(0, full.length - max) });
        }
      }
    }
  });
});

describe("stderr sink", () => {
  test.if(process.platform === "linux")("lines reach a full, non-blocking stderr pipe whole and in order; no colour on a pipe", async () => {
    // fd 2 is made non-blocking (as Bun's own stdio streams may leave it) and the parent reads late, so
    // the pipe fills and a write fails with EAGAIN: the sink must wait, not drop or reorder lines.
    const logModule = join(import.meta.dir, "..", "..", "src", "core", "log.ts");
    const script = `
      const { dlopen } = await import("bun:ffi");
      const libc = dlopen("libc.so.6", { fcntl: { args: ["i32", "i32", "i32"], returns: "i32" } });
      const F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0o4000;
      libc.symbols.fcntl(2, F_SETFL, libc.symbols.fcntl(2, F_GETFL, 0) | O_NONBLOCK);
      const { createLogger } = await import(${JSON.stringify(logModule)});
      const log = createLogger({ tag: "t", host: "h" });
      for (let i = 0; i < 400; i++) log.warning(\`line \${i} \${"x".repeat(1000)}\`);
      process.exitCode = 0;`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "pipe" });
    await Bun.sleep(500);
    const [text, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    expect(code).toBe(0);
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(400);
    expect(lines.every((l, i) => l === `t: MainThread: line ${i} ${"x".repeat(1000)}`)).toBe(true);
  }, 30_000);
});
