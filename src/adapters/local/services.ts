/**
 * The small ports, locally: each call is a row in an inspectable table (`local_notifications`,
 * `local_metrics`, `local_events_bus`, `local_email`, the "outbox") plus a debug log line. Nothing leaves
 * the machine. Message bodies are not logged: they may hold anything a job wrote.
 */
import type { Database } from "bun:sqlite";
import type {
  EmailMessage,
  EmailPort,
  EventBusEntry,
  EventBusPort,
  MetricDatum,
  MetricsPort,
  NotificationPort,
  ParameterPort,
} from "../../ports/services.ts";
import { NotFoundError, ValidationError } from "../../ports/errors.ts";
import { writeTransaction, type Clock } from "./db.ts";
import type { LocalKms } from "./kms.ts";

/** The part of the lava Logger these adapters use. */
export interface DebugLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  warning?(msg: string, fields?: Record<string, unknown>): void;
}

export class LocalNotifications implements NotificationPort {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: DebugLog,
  ) {}

  async publish(topicArn: string, message: string, opts: { subject?: string } = {}): Promise<string> {
    const id = crypto.randomUUID();
    writeTransaction(this.db, () =>
      this.db
        .query("INSERT INTO local_notifications (id, topic, subject, message, at) VALUES (?, ?, ?, ?, ?)")
        .run(id, topicArn, opts.subject ?? null, message, this.clock.now()),
    );
    this.log.debug(`local notification ${id} to ${topicArn} (${message.length} chars)`, { topic: topicArn, subject: opts.subject });
    return id;
  }
}

export class LocalMetrics implements MetricsPort {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: DebugLog,
  ) {}

  async put(namespace: string, data: MetricDatum[]): Promise<void> {
    const insert = this.db.query(
      "INSERT INTO local_metrics (namespace, name, value, unit, dimensions, at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    writeTransaction(this.db, () => {
      for (const d of data) {
        insert.run(namespace, d.name, d.value, d.unit ?? null, JSON.stringify(d.dimensions ?? {}), (d.timestamp?.getTime() ?? this.clock.now()));
      }
    });
    for (const d of data) {
      this.log.debug(`local metric ${namespace}/${d.name} = ${d.value} ${d.unit ?? ""}`.trimEnd(), { dimensions: d.dimensions });
    }
  }
}

export class LocalEventBus implements EventBusPort {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: DebugLog,
  ) {}

  async putEvents(entries: EventBusEntry[]): Promise<void> {
    for (const e of entries) {
      // EventBridge rejects entries whose detail is not a JSON object; so does the local bus.
      if (!isJsonObject(e.detail)) throw new ValidationError(`event ${e.source}/${e.detailType}: detail must be a JSON object`);
    }
    const insert = this.db.query(
      "INSERT INTO local_events_bus (bus, source, detail_type, detail, resources, at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const now = this.clock.now();
    writeTransaction(this.db, () => {
      for (const e of entries) insert.run(e.eventBus ?? "default", e.source, e.detailType, e.detail, JSON.stringify(e.resources ?? []), now);
    });
    for (const e of entries) this.log.debug(`local event ${e.source}/${e.detailType} on ${e.eventBus ?? "default"}`);
  }
}

export class LocalEmail implements EmailPort {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: DebugLog,
  ) {}

  async send(msg: EmailMessage, opts: { region?: string; configurationSet?: string } = {}): Promise<string> {
    if (msg.to.length + (msg.cc?.length ?? 0) + (msg.bcc?.length ?? 0) === 0) throw new ValidationError("email has no recipients");
    const id = crypto.randomUUID();
    const insert = this.db.query(
      `INSERT INTO local_email (id, sender, recipients, cc, bcc, reply_to, subject, text_body, html_body, raw, region, configuration_set, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    writeTransaction(this.db, () =>
      insert.run(
        id,
        msg.from,
        JSON.stringify(msg.to),
        JSON.stringify(msg.cc ?? []),
        JSON.stringify(msg.bcc ?? []),
        JSON.stringify(msg.replyTo ?? []),
        msg.subject,
        msg.text ?? null,
        msg.html ?? null,
        msg.raw ?? null,
        opts.region ?? null,
        opts.configurationSet ?? null,
        this.clock.now(),
      ),
    );
    this.log.debug(`local email ${id} queued in local_email for ${msg.to.length} recipient(s)`);
    return id;
  }
}

/**
 * SSM parameters and Secrets Manager secrets. SecureString values and every secret are stored sealed with
 * the home's KMS stand-in (a BLOB under the key ids AWS uses by default, `alias/aws/ssm` and
 * `alias/aws/secretsmanager`); plain String parameters stay text. Values stored in clear by earlier
 * versions are still read, and sealed when the home is opened (`encryptPlaintext`).
 */
export class LocalParameters implements ParameterPort {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly kms: LocalKms,
  ) {}

  /** `decrypt` changes nothing locally: a SecureString is always returned in clear. */
  async getParameter(name: string): Promise<string> {
    const row = this.db.query<{ value: StoredValue }, [string]>("SELECT value FROM local_parameters WHERE name = ?").get(name);
    if (!row) throw new NotFoundError(`parameter ${name} does not exist`, { kind: "parameter", name });
    return this.open(row.value);
  }

  async getSecret(id: string): Promise<string> {
    const row = this.db.query<{ value: StoredValue }, [string]>("SELECT value FROM local_secrets WHERE id = ?").get(id);
    if (!row) throw new NotFoundError(`secret ${id} does not exist`, { kind: "secret", name: id });
    return this.open(row.value);
  }

  async encrypt(keyId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.kms.encrypt(keyId, plaintext);
  }

  async decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.kms.decrypt(ciphertext);
  }

  /** Seeding (the port itself is read-only, as in AWS where parameters are set outside lava). */
  putParameter(name: string, value: string, opts: { secure?: boolean } = {}): void {
    const stored = opts.secure ? this.seal(PARAMETER_KEY_ID, value) : value;
    writeTransaction(this.db, () =>
      this.db
        .query("INSERT OR REPLACE INTO local_parameters (name, value, secure, updated_at) VALUES (?, ?, ?, ?)")
        .run(name, stored, opts.secure ? 1 : 0, this.clock.now()),
    );
  }

  putSecret(id: string, value: string): void {
    const stored = this.seal(SECRET_KEY_ID, value);
    writeTransaction(this.db, () =>
      this.db.query("INSERT OR REPLACE INTO local_secrets (id, value, updated_at) VALUES (?, ?, ?)").run(id, stored, this.clock.now()),
    );
  }

  /**
   * Seals SecureString parameters and secrets that an earlier version stored in clear. Returns how many.
   * With secure_delete on, the clear text is overwritten in the database file; the WAL is truncated after.
   */
  encryptPlaintext(): number {
    const clearParams = () =>
      this.db.query<{ name: string; value: string }, []>("SELECT name, value FROM local_parameters WHERE secure = 1 AND typeof(value) = 'text'").all();
    const clearSecrets = () => this.db.query<{ id: string; value: string }, []>("SELECT id, value FROM local_secrets WHERE typeof(value) = 'text'").all();
    if (clearParams().length === 0 && clearSecrets().length === 0) return 0;
    const count = writeTransaction(this.db, () => {
      const params = clearParams();
      const secrets = clearSecrets();
      const setParam = this.db.query("UPDATE local_parameters SET value = ? WHERE name = ?");
      const setSecret = this.db.query("UPDATE local_secrets SET value = ? WHERE id = ?");
      for (const p of params) setParam.run(this.seal(PARAMETER_KEY_ID, p.value), p.name);
      for (const s of secrets) setSecret.run(this.seal(SECRET_KEY_ID, s.value), s.id);
      return params.length + secrets.length;
    });
    // Best effort: readers in other processes may keep the WAL from being truncated now; a later checkpoint reuses it.
    this.db.query("PRAGMA wal_checkpoint(TRUNCATE)").get();
    return count;
  }

  private seal(keyId: string, value: string): Uint8Array {
    return this.kms.encryptSync(keyId, Buffer.from(value, "utf8"));
  }

  /** A sealed value (BLOB) decrypted; text is a plain String parameter or a value stored before sealing. */
  private open(value: StoredValue): string {
    if (typeof value === "string") return value;
    return Buffer.from(this.kms.decryptSync(value)).toString("utf8");
  }
}

/** How a parameter or secret value sits in its table: text in clear, or a local KMS ciphertext. */
type StoredValue = string | Uint8Array;

const PARAMETER_KEY_ID = "alias/aws/ssm";
const SECRET_KEY_ID = "alias/aws/secretsmanager";

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
