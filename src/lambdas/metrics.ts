/**
 * `lava-<realm>-metrics`: publishes `WorkerBacklog{Realm,Worker}` every minute (EventBridge schedule) for
 * the workers' target-tracking scaling policies.
 *
 * WorkerBacklog = visible messages in queue `lava-<realm>-<worker>` ÷ InService instances of the auto
 * scaling group of the same name, rounded to 0.1. Workers without an InService instance get no value (a
 * scaling policy cannot act on a division by zero; the group's minimum keeps one alive).
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LavaConfig } from "../core/config.ts";
import { type LambdaContext, type LambdaLog, checkRealm, errorMessage, lambdaLog, realmFromEnv } from "./shared.ts";

export const METRIC_BACKLOG = "WorkerBacklog";
/** Worker queues rarely change; listing them once per 20 minutes per warm instance is enough. */
const QUEUE_LIST_TTL_MS = 20 * 60 * 1000;

export interface BacklogDatum {
  MetricName: string;
  Dimensions: { Name: string; Value: string }[];
  Value: number;
}

/** Pure: metric data from queue depths and InService counts, both keyed by `lava-<realm>-<worker>`. */
export function backlogMetrics(realm: string, depths: Map<string, number>, inService: Map<string, number>): BacklogDatum[] {
  const prefix = `lava-${realm}-`;
  const data: BacklogDatum[] = [];
  for (const [name, instances] of inService) {
    const depth = depths.get(name);
    if (depth === undefined || instances <= 0 || !name.startsWith(prefix)) continue;
    data.push({
      MetricName: METRIC_BACKLOG,
      Dimensions: [
        { Name: "Realm", Value: realm },
        { Name: "Worker", Value: name.slice(prefix.length) },
      ],
      Value: Math.round((depth / instances) * 10) / 10,
    });
  }
  return data;
}

export interface MetricsClients {
  sqs: SQSClient;
  autoscaling: AutoScalingClient;
  cloudwatch: CloudWatchClient;
}

let cachedQueues: { prefix: string; urls: string[]; at: number } | undefined;

async function queueUrls(sqs: SQSClient, prefix: string): Promise<string[]> {
  if (cachedQueues && cachedQueues.prefix === prefix && Date.now() - cachedQueues.at < QUEUE_LIST_TTL_MS) return cachedQueues.urls;
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, NextToken }));
    urls.push(...(page.QueueUrls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  cachedQueues = { prefix, urls, at: Date.now() };
  return urls;
}

async function queueDepths(sqs: SQSClient, realm: string, log: LambdaLog): Promise<Map<string, number>> {
  const depths = new Map<string, number>();
  for (const url of await queueUrls(sqs, `lava-${realm}-`)) {
    const name = url.slice(url.lastIndexOf("/") + 1);
    try {
      const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }));
      const n = Number(out.Attributes?.ApproximateNumberOfMessages);
      if (Number.isFinite(n)) depths.set(name, n);
      else log.warning(`Worker ${name}: no ApproximateNumberOfMessages`);
    } catch (err) {
      log.error(`Worker ${name}: ${errorMessage(err)}`);
    }
  }
  return depths;
}

async function inServiceCounts(autoscaling: AutoScalingClient, names: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  // DescribeAutoScalingGroups accepts at most 50 names per call.
  for (let i = 0; i < names.length; i += 50) {
    let NextToken: string | undefined;
    do {
      const page = await autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names.slice(i, i + 50), NextToken }),
      );
      for (const group of page.AutoScalingGroups ?? []) {
        if (!group.AutoScalingGroupName) continue;
        counts.set(group.AutoScalingGroupName, (group.Instances ?? []).filter((x) => x.LifecycleState === "InService").length);
      }
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return counts;
}

export async function publishBacklog(realm: string, namespace: string, clients: MetricsClients, log: LambdaLog): Promise<BacklogDatum[]> {
  const depths = await queueDepths(clients.sqs, realm, log);
  const counts = depths.size ? await inServiceCounts(clients.autoscaling, [...depths.keys()]) : new Map<string, number>();
  const data = backlogMetrics(realm, depths, counts);
  log.info("Backlog metric data", { realm, data });
  // PutMetricData takes up to 1000 data points per call.
  for (let i = 0; i < data.length; i += 1000) {
    await clients.cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 1000) }));
  }
  return data;
}

let clients: MetricsClients | undefined;

export async function handler(_event: unknown, context: LambdaContext): Promise<BacklogDatum[]> {
  const log = lambdaLog("metrics");
  const realm = realmFromEnv();
  checkRealm(realm, context.functionName);
  // Must stay "Lava" (the default) to match the scaling policies of the worker stacks.
  const namespace = new LavaConfig(undefined, process.env).str("CW_NAMESPACE");
  clients ??= { sqs: new SQSClient({}), autoscaling: new AutoScalingClient({}), cloudwatch: new CloudWatchClient({}) };
  try {
    return await publishBacklog(realm, namespace, clients, log);
  } catch (err) {
    log.error(`Backlog metric failed: ${errorMessage(err)}`, { realm });
    throw err;
  }
}
