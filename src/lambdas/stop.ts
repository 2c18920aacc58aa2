/**
 * `lava-<realm>-stop`: when the auto scaler terminates a worker instance, its terminate lifecycle hook
 * fires an EventBridge rule (`lava-<realm>-<worker>-terminating`) whose `detail` reaches this lambda. It
 * asks the instance, through SSM Run Command, to run `lava-stop` in the background: stop dispatching,
 * SIGHUP the workers so they finish their jobs, send lifecycle heartbeats meanwhile, and finally complete
 * the lifecycle action so termination continues.
 */
import { SendCommandCommand, SSMClient } from "@aws-sdk/client-ssm";
import { type LambdaContext, LambdaConfigError, checkRealm, lambdaLog, realmFromEnv, realmFromLavaId } from "./shared.ts";

/** Seconds SSM waits for the command to start on the instance. */
const COMMAND_TIMEOUT = 60;

/** The lifecycle action detail (the rule passes `$.detail`). */
export interface TerminatingDetail {
  EC2InstanceId: string;
  AutoScalingGroupName?: string;
  LifecycleActionToken?: string;
  LifecycleHookName?: string;
}

export function parseDetail(event: unknown): TerminatingDetail {
  if (typeof event !== "object" || event === null || Array.isArray(event)) throw new LambdaConfigError("Event must be an object");
  const e = event as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof e[k] === "string" && e[k] ? (e[k] as string) : undefined);
  const id = str("EC2InstanceId");
  if (!id) throw new LambdaConfigError("Missing keys: EC2InstanceId");
  return {
    EC2InstanceId: id,
    AutoScalingGroupName: str("AutoScalingGroupName"),
    LifecycleActionToken: str("LifecycleActionToken"),
    LifecycleHookName: str("LifecycleHookName"),
  };
}

/** Shell quoting as Python's `shlex.quote`. */
export function shellQuote(s: string): string {
  if (s === "") return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

export interface StopSettings {
  realm: string;
  functionName: string;
  /** How long lava-stop waits for workers before killing them (`WAIT_TIME`, e.g. `5m`). */
  waitTime: string;
  /** Lifecycle heartbeat interval (`LIFECYCLE_HEARTBEAT`). */
  heartbeat: string;
  level: string;
}

/** The shell line run on the instance. Pure. */
export function stopCommand(detail: TerminatingDetail, s: StopSettings): string {
  const words = [
    "nohup",
    "lava-stop",
    "--no-dispatch",
    "--signal",
    "SIGHUP",
    "--instance-id",
    shellQuote(detail.EC2InstanceId),
    "--log @local0",
    "--level",
    shellQuote(s.level),
    "--wait",
    shellQuote(s.waitTime),
  ];
  if (detail.AutoScalingGroupName) {
    // The instance must belong to this function's realm: a stack wired to the wrong lambda must not act.
    if (realmFromLavaId(detail.AutoScalingGroupName) !== s.realm) {
      throw new LambdaConfigError("Lava configuration error: realm name mismatch");
    }
    checkRealm(s.realm, s.functionName);
    words.push("--auto-scaling-group-name", shellQuote(detail.AutoScalingGroupName));
    words.push("--lifecycle-heartbeat", shellQuote(s.heartbeat));
  }
  if (detail.LifecycleActionToken) words.push("--lifecycle-action-token", shellQuote(detail.LifecycleActionToken));
  if (detail.LifecycleHookName) words.push("--lifecycle-hook-name", shellQuote(detail.LifecycleHookName));
  words.push("> /tmp/lava/__stop__ 2>&1 &");
  return words.join(" ");
}

let ssm: SSMClient | undefined;

export async function handler(event: unknown, context: LambdaContext): Promise<{ commandId?: string }> {
  const log = lambdaLog("stop");
  log.info("Received event", { event });
  const detail = parseDetail(event);
  const command = stopCommand(detail, {
    realm: realmFromEnv(),
    functionName: context.functionName,
    waitTime: process.env.WAIT_TIME || "2m",
    heartbeat: process.env.LIFECYCLE_HEARTBEAT || "1m",
    level: (process.env.LOGLEVEL || "info").toLowerCase(),
  });
  log.info("Command", { command, instance_id: detail.EC2InstanceId });
  ssm ??= new SSMClient({});
  const out = await ssm.send(
    new SendCommandCommand({
      InstanceIds: [detail.EC2InstanceId],
      DocumentName: "AWS-RunShellScript",
      TimeoutSeconds: COMMAND_TIMEOUT,
      Comment: "lava-stop",
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true },
      Parameters: { commands: [command] },
    }),
  );
  const commandId = out.Command?.CommandId;
  log.info(`Event ${context.awsRequestId}: Completed`, { command_id: commandId });
  return { commandId };
}
