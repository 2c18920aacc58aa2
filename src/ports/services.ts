/** Smaller ports: notifications (SNS), metrics (CloudWatch), parameters and secrets (SSM, Secrets Manager), events (EventBridge), email (SES). */

export interface NotificationPort {
  /** Returns the message id. */
  publish(topicArn: string, message: string, opts?: { subject?: string }): Promise<string>;
}

export interface MetricDatum {
  name: string;
  value: number;
  unit?: string; // CloudWatch unit name: Seconds, Count, Bytes, Percent, None
  dimensions?: Record<string, string>;
  timestamp?: Date;
}

export interface MetricsPort {
  put(namespace: string, data: MetricDatum[]): Promise<void>;
}

export interface ParameterPort {
  /** SSM parameter value (decrypted when `decrypt`). Throws NotFoundError when absent. */
  getParameter(name: string, opts?: { decrypt?: boolean }): Promise<string>;
  /** Secrets Manager SecretString. Throws NotFoundError when absent. */
  getSecret(id: string): Promise<string>;
  /** KMS, for `secure` state items. */
  encrypt(keyId: string, plaintext: Uint8Array): Promise<Uint8Array>;
  decrypt(ciphertext: Uint8Array): Promise<Uint8Array>;
}

export interface EventBusEntry {
  source: string;
  detailType: string;
  detail: string;
  eventBus?: string;
  resources?: string[];
}

export interface EventBusPort {
  /** Throws when any entry fails. */
  putEvents(entries: EventBusEntry[]): Promise<void>;
}

export interface EmailMessage {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  subject: string;
  text?: string;
  html?: string;
  /** Raw MIME message; when present, the fields above are only for the envelope. */
  raw?: Uint8Array;
}

export interface EmailPort {
  send(msg: EmailMessage, opts?: { region?: string; configurationSet?: string }): Promise<string>;
}
