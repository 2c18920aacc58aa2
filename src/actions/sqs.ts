/**
 * `sqs`: sends a rendered message (an object is JSON-encoded first) to a queue, given by name or by URL
 * written without its scheme (`sqs.<region>.amazonaws.com/<account>/<name>`, as the original accepts).
 *
 * The queue port addresses queues by name in lava's own account and region, so a URL is reduced to its
 * queue name. FIFO queues need group/deduplication ids the port does not carry yet: they are refused.
 */
import type { ActionKind } from "./types.ts";
import { ActionError, checkFields, delaySeconds, renderedMessage } from "./support.ts";

export const sqsAction: ActionKind = {
  name: "sqs",
  async run(action) {
    checkFields(action, ["queue", "message"], null);
    const queue = queueName(String(action.spec.queue));
    if (queue.endsWith(".fifo")) throw new ActionError(`${queue}: FIFO queues are not supported yet`);
    const delay = delaySeconds(action);
    const message = await renderedMessage(action);
    await action.run.ports.queues.send(queue, message, { delaySeconds: delay });
  },
};

export function queueName(queue: string): string {
  if (!queue.includes(".amazonaws.com/")) return queue;
  const name = queue.replace(/\/+$/, "").split("/").pop();
  if (!name) throw new ActionError(`Bad queue URL: ${queue}`);
  return name;
}
