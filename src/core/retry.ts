/**
 * The one retry policy (docs/WORKER.md "Errors and retries").
 *
 * Only errors `isRetryable` calls retryable (throttling, 5xx, network: `ThrottledError`, `UnavailableError`)
 * are tried again; every other error (not found, access denied, validation, a failed condition) is
 * returned at once. Back-off is exponential with full jitter (a random wait between 0 and a ceiling that
 * doubles per attempt up to `capMs`), bounded by `attempts` and by `totalMs` from the first attempt, and a
 * stop (`signal`) ends the waiting at once with the last error.
 *
 * It is applied at one layer: the domain's calls on the table and queue ports. `retryingPorts` wraps a
 * `Ports` so that every `tables` and `queues` call goes through `POLICIES.call`; the worker's own loops
 * (receive, event writes, deletes) use `retry` with their named policy on unwrapped ports. Beneath, the
 * adapters make one attempt per call (the DynamoDB and SQS SDK clients with `maxAttempts: 1`, the lite
 * client by construction), so one call under throttling costs at most `attempts` requests.
 */
import { isRetryable, type Ports } from "../ports/index.ts";
import { sleepUnlessAborted } from "./sleep.ts";

export interface RetryPolicy {
  /** Attempts in all, the first included. `Infinity`: until it succeeds, fails for good, or the stop. */
  readonly attempts: number;
  /** Ceiling of the first back-off in ms; doubled per attempt. */
  readonly baseMs: number;
  /** Largest ceiling in ms. */
  readonly capMs: number;
  /** No further attempt starts later than this many ms after the first. `Infinity`: no limit. */
  readonly totalMs: number;
}

/** Every policy in use, by purpose. */
export const POLICIES = {
  /** A table or queue call made through `retryingPorts` (job lookups, state, connections, dispatches). */
  call: { attempts: 4, baseMs: 100, capMs: 2_000, totalMs: 10_000 },
  /** The worker's ReceiveMessage: as the original, 5 attempts over several seconds, then the worker exits. */
  receive: { attempts: 5, baseMs: 1_000, capMs: 4_000, totalMs: 30_000 },
  /** A message is deleted only after its run's events are written: they are retried until they land or a hard stop. */
  eventWrite: { attempts: Infinity, baseMs: 100, capMs: 5_000, totalMs: Infinity },
  /** Deleting finished messages; a message never deleted comes back after its visibility timeout. */
  delete: { attempts: 5, baseMs: 200, capMs: 2_000, totalMs: 10_000 },
} as const satisfies Record<string, RetryPolicy>;

export interface RetryOptions {
  /** A stop: no further attempt once aborted, and a back-off in progress ends at once. */
  signal?: AbortSignal;
  /** Told before each back-off: the error, the attempt that failed (1-based) and the wait. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** For tests: the random source of the jitter. */
  random?: () => number;
}

/** The wait after failed attempt `attempt` (1-based): uniform in [0, min(cap, base * 2^(attempt-1))). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

const NEVER = new AbortController().signal;

/** Runs `fn` under `policy`; throws the last error when it is permanent, attempts or time run out, or the stop comes. */
export async function retry<T>(fn: () => Promise<T>, policy: RetryPolicy, opts: RetryOptions = {}): Promise<T> {
  const started = Date.now();
  const signal = opts.signal ?? NEVER;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt >= policy.attempts || signal.aborted) throw err;
      const delay = backoffMs(policy, attempt, opts.random);
      if (Date.now() - started + delay > policy.totalMs) throw err;
      opts.onRetry?.(err, attempt, delay);
      if (!(await sleepUnlessAborted(delay, signal))) throw err;
    }
  }
}

/** `target` with every method call run under `policy`. */
function retryingMethods<T extends object>(target: T, policy: RetryPolicy, opts: RetryOptions): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => retry(() => Promise.resolve(value.apply(obj, args)), policy, opts);
    },
  });
}

/** Wrapped ports and the ports they wrap, so wrapping never stacks. */
const unwrapped = new WeakMap<Ports, Ports>();

/** The ports beneath `retryingPorts` (one attempt per call), for loops that apply a policy of their own. */
export function unretried(ports: Ports): Ports {
  return unwrapped.get(ports) ?? ports;
}

/**
 * `ports` whose table and queue calls are retried under `policy` (default `POLICIES.call`); everything
 * else passes through unchanged (objects, notifications, parameters... keep the SDK's built-in retry).
 * Wrapping wrapped ports replaces the policy instead of stacking a second one.
 */
export function retryingPorts(ports: Ports, opts: RetryOptions & { policy?: RetryPolicy } = {}): Ports {
  const base = unretried(ports);
  const policy = opts.policy ?? POLICIES.call;
  const tables = retryingMethods(base.tables, policy, opts);
  const queues = retryingMethods(base.queues, policy, opts);
  const wrapped = new Proxy(base, {
    get(obj, prop) {
      if (prop === "tables") return tables;
      if (prop === "queues") return queues;
      const value: unknown = Reflect.get(obj, prop, obj);
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
  unwrapped.set(wrapped, base);
  return wrapped;
}
