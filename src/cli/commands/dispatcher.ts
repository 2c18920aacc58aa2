/** `lava dispatcher` / `lava-dispatcher`: the original's options (platform.md §5.1) and output. */
import { defineCommand } from "./index.ts";
import { backendArgs, explainMissingRealm, noRealmMessage, loggerFrom, loggingArgs, portsFrom, realmFrom, str, type CommonOptions } from "../common.ts";
import { UsageError } from "../../core/errors.ts";
import { LavaConfig, parseDuration } from "../../core/config.ts";
import { dispatchJobs } from "../../core/dispatch.ts";
import { listArg, positionalArgs } from "../parse.ts";
import { flagFileSet } from "../../core/private-dir.ts";

export default defineCommand({
  meta: { description: "Lava job dispatcher: send dispatch messages to worker queues." },
  args: {
    "job-id": { type: "positional", required: false, description: "One or more job ids of the realm", valueHint: "job-id" },
    realm: { type: "string", alias: "r", valueHint: "REALM", description: "Lava realm (default $LAVA_REALM)" },
    worker: { type: "string", alias: "w", valueHint: "WORKER", description: "Target worker; when absent it is read from the job (a disabled job is sent with a warning; the worker skips it)" },
    queue: { type: "string", alias: "q", valueHint: "NAME", description: "Queue name (default lava-<realm>-<worker>)" },
    delay: { type: "string", alias: "d", valueHint: "DURATION", description: "Delay the dispatch, 0 up to SQS_MAX_DELAY_MINS minutes; default 0" },
    param: { type: "string", alias: "p", multiple: true, valueHint: "name=VALUE", description: "Dispatch parameter (repeatable; dotted names nest)" },
    global: { type: "string", alias: "g", multiple: true, valueHint: "name=VALUE", description: "Dispatch global (repeatable; dotted names nest)" },
    "check-dispatch": { type: "boolean", description: "Send nothing when the NO_DISPATCH flag file exists" },
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args }) {
    const realm = realmFrom(args as CommonOptions, process.env, "Lava realm must be specified");
    const config = new LavaConfig();
    const delaySeconds = delayArg(str(args.delay), config.int("SQS_MAX_DELAY_MINS"));
    const positionals = positionalArgs(args);
    const params = listArg(args, "param");
    const globals = listArg(args, "global");
    if (positionals.length === 0) throw new UsageError("the following arguments are required: job-id");
    const parameters = expandArg(params, "-p, --param");
    const globalsMap = expandArg(globals, "-g, --global");
    const log = loggerFrom(args as CommonOptions, { program: "lava-dispatcher", realm, jsonStyle: "dispatcher" });

    if (args["check-dispatch"]) {
      // Only this user's or root's flag counts: NO_DISPATCH sits in a directory others may write to.
      const flag = flagFileSet(config.str("NO_DISPATCH"));
      if (flag.set) {
        log.warning(`Dispatch suppressed by presence of ${config.str("NO_DISPATCH")}`, { event_type: "dispatch" });
        return 0;
      }
      if (flag.ignoredOwner !== undefined) {
        log.warning(`Ignoring ${config.str("NO_DISPATCH")}: owned by uid ${flag.ignoredOwner}, not by this user or root`, { event_type: "dispatch" });
      }
    }

    const ports = await portsFrom(args as CommonOptions);
    let status = 0;
    try {
      const outcomes = await dispatchJobs(ports, {
        realm,
        jobIds: positionals,
        worker: str(args.worker),
        parameters,
        globals: globalsMap,
        delaySeconds,
        queue: str(args.queue),
        onDisabled: (jobId) => log.warning(`${jobId}@${realm} is disabled: sent anyway, the worker will record it as skipped`, { event_type: "dispatch", job_id: jobId }),
        onSend: (jobId, queue, delay) => log.debug(`${jobId}@${realm}: sending to queue ${queue} with delay ${delay}s`, { event_type: "dispatch", job_id: jobId }),
        onReadOneByOne: (reason) => log.warning(`Reading the jobs together failed, reading them one by one: ${reason.message}`, { event_type: "dispatch" }),
      });
      let explained = false;
      // The lines of many outcomes go out together (Logger.together); the one explanation written
      // directly to stderr ends a group, so it still follows the line it explains.
      let next = 0;
      while (next < outcomes.length) {
        const explain = log.together(() => {
          while (next < outcomes.length) {
            const outcome = outcomes[next++]!;
            const { jobId } = outcome;
            if ("runId" in outcome) {
              log.info(`${jobId}@${realm} dispatched (${outcome.runId})`, { event_type: "dispatch", job_id: jobId, run_id: outcome.runId });
              continue;
            }
            status = 1;
            log.error(`${jobId}@${realm} dispatch failed - ${outcome.error.message}`, { event_type: "dispatch", job_id: jobId });
            const cause = outcome.error.cause ?? outcome.error;
            if (!explained && explainMissingRealm(cause, realm) !== cause) return (explained = true);
          }
          return false;
        });
        if (explain) process.stderr.write(`lava dispatcher: ${noRealmMessage(realm)}\n`);
      }
    } finally {
      await ports.close().catch(() => {});
    }
    return status;
  },
});


/** `-d`: a duration rounded to whole seconds, 0..maxMinutes×60. */
export function delayArg(text: string | undefined, maxMinutes: number): number {
  if (text === undefined) return 0;
  let seconds: number;
  try {
    seconds = Math.round(parseDuration(text));
  } catch (err) {
    throw new UsageError(`Bad -d, --delay value: ${(err as Error).message}`);
  }
  if (!(seconds >= 0 && seconds <= 60 * maxMinutes)) {
    throw new UsageError(`Bad -d, --delay value: Must be between 0 and ${maxMinutes} minutes`);
  }
  return seconds;
}

/** `name=VALUE` pairs into a map; dotted names become nested maps (values stay strings). */
export function expandNameValues(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new Error(`${pair}: expected name=VALUE`);
    const path = pair.slice(0, eq).split(".");
    const value = pair.slice(eq + 1);
    if (path.some((p) => p === "")) throw new Error(`${pair.slice(0, eq)}: empty name component`);
    let node = out;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined) node = node[key] = {} as Record<string, unknown>;
      else if (typeof next === "object" && next !== null) node = next as Record<string, unknown>;
      else throw new Error(`${key}: cannot be both a value and a parent of other values`);
    }
    const leaf = path[path.length - 1]!;
    if (typeof node[leaf] === "object" && node[leaf] !== null) throw new Error(`${leaf}: cannot be both a value and a parent of other values`);
    node[leaf] = value;
  }
  return out;
}

function expandArg(pairs: string[], flag: string): Record<string, unknown> | undefined {
  if (pairs.length === 0) return undefined;
  try {
    return expandNameValues(pairs);
  } catch (err) {
    throw new UsageError(`Bad ${flag} args: ${(err as Error).message}`);
  }
}
