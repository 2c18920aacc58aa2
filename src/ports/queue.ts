/**
 * Message queues (SQS in AWS, SQLite locally). Queues are addressed by name (`lava-<realm>-<worker>`);
 * adapters resolve names to URLs and cache them.
 *
 * Guarantees every adapter gives (the conformance suite checks them):
 * - at-least-once delivery: a received message is invisible for the visibility timeout, then returns
 *   with its receive count raised, until it is deleted or its retention period ends;
 * - `receive` long-polls up to `waitSeconds` and returns as soon as a message is available.
 */
export interface QueueMessage {
  id: string;
  /** Token for delete / changeVisibility of this delivery. */
  receiptHandle: string;
  body: string;
  /** ApproximateReceiveCount: 1 on first delivery. */
  receiveCount: number;
  /** When the message was first sent (SentTimestamp). */
  sentAt: Date;
}

export interface QueueAttributes {
  /** ApproximateNumberOfMessages */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible */
  notVisible: number;
  /** ApproximateNumberOfMessagesDelayed */
  delayed: number;
  visibilityTimeoutSeconds: number;
  retentionSeconds: number;
}

export interface CreateQueueOptions {
  visibilityTimeoutSeconds?: number; // default 3600 as lava's worker stack
  retentionSeconds?: number; // default 86400
}

export interface ReceiveOptions {
  maxMessages?: number; // 1..10, default 1
  waitSeconds?: number; // 0..20, default 0
  /** Override of the queue's visibility timeout for these deliveries. */
  visibilityTimeoutSeconds?: number;
  /** Abort a long poll early (shutdown). An aborted receive returns []. */
  signal?: AbortSignal;
}

export interface QueuePort {
  /**
   * How long a caller that batches calls (the worker's deletes) may usefully wait for company, in ms. SQS
   * charges per request, so waiting a little to share one pays; where a lone call costs no more than its share
   * of a batch (the local queue, whose writes of one event-loop turn share a commit anyway), 0. Default 20.
   */
  readonly batchWaitMs?: number;
  create(name: string, opts?: CreateQueueOptions): Promise<void>;
  exists(name: string): Promise<boolean>;
  send(name: string, body: string, opts?: { delaySeconds?: number }): Promise<string>;
  /**
   * Sends several messages in as few requests as the backend allows (SQS SendMessageBatch, 10 per request;
   * the local queue, one transaction). Resolves with the message ids in order. When only some entries were
   * refused, throws `BatchSendError` naming each entry's outcome, so nothing accepted is sent twice.
   */
  sendBatch(name: string, entries: { body: string; delaySeconds?: number }[]): Promise<string[]>;
  receive(name: string, opts?: ReceiveOptions): Promise<QueueMessage[]>;
  delete(name: string, receiptHandle: string): Promise<void>;
  /**
   * Deletes several deliveries at once (SQS DeleteMessageBatch, 10 per request; adapters split longer
   * lists). Resolves with one entry per handle, in order: undefined when deleted, else that entry's error
   * (a retryable `UnavailableError` or `ThrottledError` when trying again may help). Throws only when the
   * request as a whole fails.
   */
  deleteBatch(name: string, receiptHandles: string[]): Promise<(Error | undefined)[]>;
  /** 0 makes the message visible again at once. */
  changeVisibility(name: string, receiptHandle: string, seconds: number): Promise<void>;
  attributes(name: string): Promise<QueueAttributes>;
}
