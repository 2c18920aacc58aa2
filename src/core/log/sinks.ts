/** Where formatted log lines go: stderr, an appended file, or syslog. */
import { closeSync, openSync, writeSync } from "node:fs";
import type { LevelName, LineFormat } from "./format.ts";
import { openSyslog, parseFacility, type SyslogTransport } from "./syslog.ts";

export interface Sink {
  format: LineFormat;
  /** Lines are written to syslog with a `<tag>: ` prefix when they are JSON. */
  isSyslog: boolean;
  write(level: LevelName, line: string): void;
  /** Runs `fn` with the lines written meanwhile joined into one write at its end (Logger.together). */
  together<T>(fn: () => T): T;
  close(): void;
}

/**
 * Logger.together for a sink whose lines can be joined: `write` puts text through `out`, which `hold`
 * redirects to a buffer while `fn` runs. One system call for many lines: 1,000 `writeSync` calls cost
 * lava-dispatcher 4–8 ms (docs/BENCHMARKS.md). Nested calls join the outermost.
 */
function joinable(writeText: (text: string) => void): { out: (text: string) => void; together: <T>(fn: () => T) => T } {
  let held: string[] | undefined;
  return {
    out: (text) => {
      if (held) held.push(text);
      else writeText(text);
    },
    together: (fn) => {
      if (held) return fn();
      held = [];
      try {
        return fn();
      } finally {
        const text = held.join("");
        held = undefined;
        if (text) writeText(text);
      }
    },
  };
}

export interface SinkOptions {
  target?: string;
  tag: string;
  colour: boolean;
  write?: (line: string) => void;
  syslogSocket?: string;
}

const COLOURS: Record<LevelName, [string, string]> = {
  DEBUG: ["\x1b[2m", "\x1b[22m"],
  INFO: ["", ""],
  WARNING: ["\x1b[33m", "\x1b[39m"],
  ERROR: ["\x1b[31m", "\x1b[39m"],
  CRITICAL: ["\x1b[1;31m", "\x1b[22;39m"],
};

export function openSink(opts: SinkOptions): Sink {
  const target = opts.target?.trim();
  if (!target || target === "-") return stderrSink(opts);
  if (target.startsWith("@")) return syslogSink(target.slice(1), opts);
  return fileSink(target);
}

function stderrSink(opts: SinkOptions): Sink {
  const out = opts.write;
  const colour = !out && opts.colour && !process.env.NO_COLOR && isTerminal(2);
  const stderr = joinable(writeStderr);
  return {
    format: "stderr",
    isSyslog: false,
    write(level, line) {
      if (out) return out(line);
      if (!colour) return stderr.out(`${line}\n`);
      const [on, off] = COLOURS[level];
      stderr.out(`${on}${line}${off}\n`);
    },
    together: out ? (fn) => fn() : stderr.together,
    close() {},
  };
}

/**
 * isatty(2) through Bun's tty binding (the one `node:tty` wraps; Bun's own tests check they agree):
 * `process.stderr.isTTY` builds the node:stream stack and `node:tty` loads it too, 10–20 ms of a
 * dispatcher's start in paired runs (docs/BENCHMARKS.md), for one system call.
 */
function isTerminal(fd: number): boolean {
  const binding = process.binding("tty_wrap") as { isTTY?: (fd: number) => boolean };
  if (typeof binding.isTTY === "function") return binding.isTTY(fd);
  return process.getBuiltinModule("node:tty").isatty(fd);
}

/** Set once a write to fd 2 would block: from then on every line goes through process.stderr, in order. */
let stderrStream = false;

/**
 * A log line to fd 2, synchronously, as Python's unbuffered stderr writes it: no node:stream (see
 * isTerminal), and the line is out before a crash or process.exit. If fd 2 is a non-blocking pipe that
 * is full (Bun makes inherited stdio non-blocking once anything touches process.stdout/stderr or starts
 * a Worker), the rest goes to process.stderr, which waits for the reader.
 */
function writeStderr(text: string): void {
  if (stderrStream) {
    process.stderr.write(text);
    return;
  }
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(2, bytes, done);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Nobody reads stderr any more: there is no one left to tell (as writeOut does for EPIPE).
    if (code === "EPIPE") return;
    if (code !== "EAGAIN") throw e;
    stderrStream = true;
    process.stderr.write(bytes.subarray(done));
  }
}

function fileSink(path: string): Sink {
  let fd: number;
  try {
    fd = openSync(path, "a");
  } catch (e) {
    throw new Error(`cannot open log file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Synchronous so a line is on disk before a crash or process.exit.
  const file = joinable((text) => writeSync(fd, text));
  return {
    format: "file",
    isSyslog: false,
    write(_level, line) {
      file.out(`${line}\n`);
    },
    together: file.together,
    close() {
      closeSync(fd);
    },
  };
}

const SEVERITY: Record<LevelName, number> = { DEBUG: 7, INFO: 6, WARNING: 4, ERROR: 3, CRITICAL: 2 };

function syslogSink(facilityName: string, opts: SinkOptions): Sink {
  const facility = parseFacility(facilityName);
  const transport: SyslogTransport = openSyslog(opts.syslogSocket);
  return {
    format: "syslog",
    isSyslog: true,
    write(level, line) {
      // Like Python's SysLogHandler: `<PRI>` then the message then a NUL; the daemon adds time and host.
      transport.send(`<${facility * 8 + SEVERITY[level]}>${line}\0`);
    },
    // One datagram per record: nothing to join.
    together: (fn) => fn(),
    close() {
      transport.close();
    },
  };
}
