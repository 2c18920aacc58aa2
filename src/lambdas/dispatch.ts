/**
 * `lava-<realm>-dispatch`: the dispatch helper. Turns SNS / SQS / direct requests into dispatch messages
 * (see dispatch-requests.ts for the accepted forms). Errors are logged and counted; the invocation itself
 * never fails, so SNS and SQS do not redeliver a request that can never succeed.
 */
import { LavaConfig } from "../core/config.ts";
import { dispatchJob } from "../core/dispatch.ts";
import type { Ports } from "../ports/index.ts";
import {
  type DispatchRequest,
  type MessageBody,
  cliRequest,
  jsonBody,
  jsonRequests,
  messageBodies,
} from "./dispatch-requests.ts";
import { type LambdaContext, type LambdaLog, errorMessage, lambdaLog, lambdaPorts, realmFromEnv } from "./shared.ts";

export interface DispatchOutcome {
  runIds: string[];
  errors: number;
}

async function send(ports: Ports, realm: string, req: DispatchRequest, log: LambdaLog): Promise<string> {
  try {
    const runId = await dispatchJob(ports, {
      realm,
      jobId: req.jobId,
      parameters: req.parameters,
      globals: req.globals,
      delaySeconds: req.delaySeconds,
    });
    log.info(`Dispatched ${req.jobId} with run_id ${runId}`, { job_id: req.jobId, run_id: runId, realm });
    return runId;
  } catch (err) {
    throw new Error(`${req.jobId}@${realm}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Dispatches every request of one body in order. The first failure abandons the rest of that body
 * (earlier requests stay dispatched), as the original does.
 */
async function processBody(ports: Ports, realm: string, body: MessageBody, maxDelayMinutes: number, log: LambdaLog, runIds: string[]) {
  const json = jsonBody(body);
  if (json !== undefined) {
    for (const req of jsonRequests(json)) runIds.push(await send(ports, realm, req, log));
    return;
  }
  for (const line of String(body).split(/\r?\n/)) {
    const req = cliRequest(line, maxDelayMinutes);
    if (req) runIds.push(await send(ports, realm, req, log));
  }
}

export async function handleDispatchEvent(
  event: unknown,
  opts: { ports: Ports; realm: string; maxDelayMinutes: number; log: LambdaLog; requestId: string },
): Promise<DispatchOutcome> {
  const { log } = opts;
  const runIds: string[] = [];
  let errors = 0;
  let bodies: MessageBody[];
  try {
    bodies = messageBodies(event);
  } catch (err) {
    log.error(errorMessage(err));
    return { runIds, errors: 1 };
  }
  for (const body of bodies) {
    try {
      await processBody(opts.ports, opts.realm, body, opts.maxDelayMinutes, log, runIds);
    } catch (err) {
      errors++;
      log.error(errorMessage(err), { realm: opts.realm });
    }
  }
  if (errors) log.error(`Event ${opts.requestId}: Completed with ${errors} errors`);
  else log.info(`Event ${opts.requestId}: Completed`);
  return { runIds, errors };
}

export async function handler(event: unknown, context: LambdaContext): Promise<DispatchOutcome> {
  const log = lambdaLog("dispatch");
  const realm = realmFromEnv();
  const maxDelayMinutes = new LavaConfig(undefined, process.env).int("SQS_MAX_DELAY_MINS");
  return handleDispatchEvent(event, { ports: await lambdaPorts(), realm, maxDelayMinutes, log, requestId: context.awsRequestId });
}
