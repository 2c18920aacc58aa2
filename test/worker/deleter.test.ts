/** The worker's batched deletes (src/core/worker/deleter.ts): when a batch goes out. */
import { describe, expect, test } from "bun:test";
import { MessageDeleter } from "../../src/core/worker/deleter.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { QueueMessage, QueuePort } from "../../src/ports/index.ts";

function message(n: number): QueueMessage {
  return { id: `m${n}`, receiptHandle: `h${n}`, body: "{}", receiveCount: 1, sentAt: new Date() };
}

function recordingQueue(batchWaitMs?: number) {
  const requests: string[][] = [];
  const queues = {
    batchWaitMs,
    delete: async (_q: string, handle: string) => void requests.push([handle]),
    deleteBatch: async (_q: string, handles: string[]) => {
      requests.push(handles);
      return handles.map(() => undefined);
    },
  } as unknown as QueuePort;
  return { queues, requests };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("MessageDeleter", () => {
  test("a queue where waiting does not pay (batchWaitMs 0): sent at the end of the turn, that turn's deletes together", async () => {
    const { queues, requests } = recordingQueue(0);
    const deleter = new MessageDeleter({ queues, queue: "q", log: silentLogger(), held: () => 5 });
    const done = [deleter.delete(message(1), {}), deleter.delete(message(2), {})];
    expect(requests).toEqual([]);
    await turn();
    await Promise.all(done);
    expect(requests).toEqual([["h1", "h2"]]);
  });

  test("by default (SQS) a delete waits for company while other slots are busy", async () => {
    const { queues, requests } = recordingQueue(undefined);
    const deleter = new MessageDeleter({ queues, queue: "q", log: silentLogger(), held: () => 5 });
    const done = deleter.delete(message(1), {});
    await turn();
    expect(requests).toEqual([]); // still lingering: another of the 5 held messages may join
    await done;
    expect(requests).toEqual([["h1"]]);
  });

  test("a batch holding every held message goes out at once", async () => {
    const { queues, requests } = recordingQueue(undefined);
    const deleter = new MessageDeleter({ queues, queue: "q", log: silentLogger(), held: () => 2 });
    const done = [deleter.delete(message(1), {}), deleter.delete(message(2), {})];
    await Promise.all(done);
    expect(requests).toEqual([["h1", "h2"]]);
  });
});
