import type { TableStore } from "./tables.ts";
import type { QueuePort } from "./queue.ts";
import type { ObjectStore } from "./objects.ts";
import type { NotificationPort, MetricsPort, ParameterPort, EventBusPort, EmailPort } from "./services.ts";
import type { CredentialsPort } from "./credentials.ts";
import type { SqlitePort } from "./sql.ts";

export type * from "./tables.ts";
export type * from "./queue.ts";
export type * from "./objects.ts";
export type * from "./services.ts";
export type * from "./credentials.ts";
export type * from "./sql.ts";
export { CredentialsUnavailableError } from "./credentials.ts";
export * from "./errors.ts";
export { allPages } from "./tables.ts";
export { parseS3Uri, s3Uri } from "./objects.ts";

/** Everything lava needs from the outside world. One bundle per backend (`local` or `aws`). */
export interface Ports {
  readonly backend: "local" | "aws";
  tables: TableStore;
  queues: QueuePort;
  objects: ObjectStore;
  notifications: NotificationPort;
  metrics: MetricsPort;
  params: ParameterPort;
  eventBus: EventBusPort;
  email: EmailPort;
  /** Temporary AWS credentials for connectors (RDS, Redshift, STS). */
  credentials: CredentialsPort;
  /** SQLite database files, for `sqlite3` connections. */
  sqlite: SqlitePort;
  close(): Promise<void>;
}
