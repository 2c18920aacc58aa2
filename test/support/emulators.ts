/**
 * AWS emulators for tests, each a child process on a free loopback port:
 * - dynalite (DynamoDB, in memory),
 * - fauxqs (SQS, SNS and S3 on one port; S3 is addressed path-style),
 * - moto_server (SSM, Secrets Manager, KMS, CloudWatch, EventBridge, SES, STS, CloudFormation), on request.
 *
 * `env` points the `aws` backend at them: in-process with `openAwsPorts({ env })` or `withEnv()`, and in
 * spawned lava processes with `childEnv()`. Every service without an emulator is pointed at a closed port,
 * so a test can never reach real AWS by accident.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { commandWorks, freePort } from "./availability.ts";

const ROOT = join(import.meta.dir, "..", "..");
const NODE_MODULES = join(ROOT, "node_modules");

export interface EmulatorEndpoints {
  dynamodb: string;
  /** fauxqs: SQS, SNS and S3. */
  fauxqs: string;
  /** moto_server, when started. */
  moto?: string;
}

export interface AwsEmulators {
  env: Record<string, string>;
  endpoints: EmulatorEndpoints;
  /** Milliseconds from spawn until each answered (they start in parallel). */
  startupMs: Record<string, number>;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Also start moto_server (slower to start; only the services lava uses beyond DynamoDB/SQS/S3/SNS). */
  moto?: boolean;
}

/** Which emulators can run here; pass each to `needs()` before starting. */
export const emulatorsPresent = {
  dynalite: (): boolean => Bun.file(join(NODE_MODULES, "dynalite", "index.js")).size > 0,
  fauxqs: (): boolean => Bun.file(join(NODE_MODULES, "fauxqs", "dist", "app.js")).size > 0,
  moto: (): boolean => commandWorks(["python3", "-c", "import moto.server, flask"]),
};

/** A child process in its own process group, with the tail of its output kept for error messages. */
class Emulator {
  private output = "";
  private exited: number | null = null;
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    cmd: string[],
  ) {
    this.child = spawn(cmd[0]!, cmd.slice(1), {
      cwd: ROOT,
      detached: true, // own process group, so stop() can kill anything it forks
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4000);
    };
    this.child.stdout?.on("data", keep);
    this.child.stderr?.on("data", keep);
    this.child.on("exit", (code, signal) => {
      this.exited = code ?? (signal ? 128 : 1);
    });
  }

  /** Polls `url` until it answers with any HTTP status; fails if the process dies or 30 s pass. */
  async ready(url: string, timeoutMs = 30_000): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < timeoutMs) {
      if (this.exited !== null) throw new Error(`${this.name} exited (${this.exited}) before answering:\n${this.output}`);
      try {
        await fetch(url, { signal: AbortSignal.timeout(1000) });
        return Math.round(performance.now() - started);
      } catch {
        await Bun.sleep(50);
      }
    }
    throw new Error(`${this.name} did not answer ${url} within ${timeoutMs} ms:\n${this.output}`);
  }

  /** SIGKILL to the whole group, synchronously (for the process exit hook). */
  killNow(): void {
    if (this.child.pid === undefined || this.exited !== null) return;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }

  async stop(): Promise<void> {
    running.delete(this);
    const pid = this.child.pid;
    if (pid === undefined || this.exited !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, 3000);
    await gone;
    clearTimeout(timer);
  }
}

const loopback = (port: number) => `http://127.0.0.1:${port}`;

/**
 * Every emulator exits by itself once the test process no longer exists, so a crashed or killed test run
 * never leaves servers behind (stop() and the exit hook cover the orderly cases).
 */
const bunWatchdog = (parent: number) =>
  `setInterval(() => { try { process.kill(${parent}, 0); } catch { process.exit(0); } }, 500);`;

function bunScript(body: string): string[] {
  return [process.execPath, "-e", `${body}\n${bunWatchdog(process.pid)}`];
}

function motoCommand(port: number): string[] {
  const script = [
    "import os, threading, time",
    "def watch(parent):",
    "    while True:",
    "        time.sleep(0.5)",
    "        try: os.kill(parent, 0)",
    "        except OSError: os._exit(0)",
    `threading.Thread(target=watch, args=(${process.pid},), daemon=True).start()`,
    "from moto.server import main",
    `main(["-H", "127.0.0.1", "-p", "${port}"])`,
  ].join("\n");
  return ["python3", "-c", script];
}

/** Emulators still running in this process, killed on exit if a test run ends without calling stop(). */
const running = new Set<Emulator>();
let exitHookInstalled = false;
function killOnExit(emulator: Emulator): void {
  running.add(emulator);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const e of running) e.killNow();
  });
}

/** Starts the emulators in parallel and waits until each answers. */
export async function startAwsEmulators(opts: EmulatorOptions = {}): Promise<AwsEmulators> {
  const dynamoPort = freePort();
  const fauxqsPort = freePort();
  const motoPort = opts.moto ? freePort() : undefined;

  const started: Emulator[] = [];
  const startupMs: Record<string, number> = {};
  const launch = (name: string, cmd: string[]) => {
    const emulator = new Emulator(name, cmd);
    started.push(emulator);
    killOnExit(emulator);
    return emulator;
  };
  const wait = async (emulator: Emulator, url: string) => {
    startupMs[emulator.name] = await emulator.ready(url);
  };
  try {
    // Tables become ACTIVE at once instead of after 500 ms.
    const dynalite = launch(
      "dynalite",
      bunScript(`import dynalite from ${JSON.stringify(join(NODE_MODULES, "dynalite", "index.js"))};
        dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }).listen(${dynamoPort}, "127.0.0.1");`),
    );
    // fauxqs's CLI logs every request; the library lets us turn that off.
    const fauxqs = launch(
      "fauxqs",
      bunScript(`import { startFauxqs } from ${JSON.stringify(join(NODE_MODULES, "fauxqs", "dist", "app.js"))};
        await startFauxqs({ port: ${fauxqsPort}, logger: false });`),
    );
    const waits = [wait(dynalite, loopback(dynamoPort)), wait(fauxqs, `${loopback(fauxqsPort)}/health`)];
    if (motoPort !== undefined) waits.push(wait(launch("moto", motoCommand(motoPort)), `${loopback(motoPort)}/moto-api/`));
    await Promise.all(waits);
  } catch (err) {
    await Promise.all(started.map((e) => e.stop()));
    throw err;
  }

  const endpoints: EmulatorEndpoints = {
    dynamodb: loopback(dynamoPort),
    fauxqs: loopback(fauxqsPort),
    ...(motoPort !== undefined ? { moto: loopback(motoPort) } : {}),
  };
  return {
    env: emulatorEnv(endpoints),
    endpoints,
    startupMs,
    async stop() {
      await Promise.all(started.map((e) => e.stop()));
    },
  };
}

/** Port 9 (discard) on loopback: nothing listens, so a call there fails fast instead of reaching AWS. */
const NOWHERE = "http://127.0.0.1:9";

function emulatorEnv(endpoints: EmulatorEndpoints): Record<string, string> {
  const moto = endpoints.moto ?? NOWHERE;
  return {
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    // Any service not listed below goes to moto (or nowhere), never to AWS.
    AWS_ENDPOINT_URL: moto,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.fauxqs,
    AWS_ENDPOINT_URL_SNS: endpoints.fauxqs,
    AWS_ENDPOINT_URL_S3: endpoints.fauxqs,
    AWS_ENDPOINT_URL_SSM: moto,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto,
    AWS_ENDPOINT_URL_KMS: moto,
    AWS_ENDPOINT_URL_CLOUDWATCH: moto,
    AWS_ENDPOINT_URL_EVENTBRIDGE: moto,
    AWS_ENDPOINT_URL_SES: moto,
    AWS_ENDPOINT_URL_STS: moto,
    AWS_ENDPOINT_URL_CLOUDFORMATION: moto,
    LAVA_S3_PATH_STYLE: "true",
    LAVA_BACKEND: "aws",
  };
}

/** Environment for a spawned lava process (worker, dispatcher, CLI) that should use the emulators. */
export function childEnv(emulators: { env: Record<string, string> }, extra: Record<string, string> = {}) {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // A developer's own AWS profile must not leak into tests.
    if (v !== undefined && k !== "AWS_PROFILE" && k !== "AWS_SESSION_TOKEN") env[k] = v;
  }
  return { ...env, ...emulators.env, ...extra };
}

/**
 * Runs `fn` with `env` merged into `process.env`, restoring the previous values afterwards (also on
 * error); an `undefined` value unsets the variable. For in-process code that reads `process.env` itself;
 * prefer `openAwsPorts({ env })` when possible.
 */
export async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T> | T): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Constructor options for an SDK client a test uses directly (to seed or inspect an emulator). */
export function sdkConfig(endpoint: string | undefined) {
  if (!endpoint) throw new Error("emulator not started (moto needs startAwsEmulators({ moto: true }))");
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    forcePathStyle: true,
  };
}
