/**
 * The contract of a connector: one file per connection type family, listed once in `registry.ts`.
 * A connection item lives in `lava.<realm>.connections`; `spec.ts` reads and checks its common fields.
 */
import type { Ports } from "../ports/index.ts";
import type { LavaConfig } from "../core/config.ts";

export interface ConnectionSpec {
  conn_id: string;
  /** Lower-cased connection type. */
  type: string;
  enabled: boolean;
  [field: string]: unknown;
}

export interface ConnectorContext {
  ports: Ports;
  realm: string;
  config: LavaConfig;
}

export interface Connector {
  /** Connection `type` values this connector serves. */
  readonly types: readonly string[];
  /**
   * Writes an executable into `workdir` that gives a job's process this connection (`LAVA_CONN_<LABEL>`)
   * and returns its path. Absent: this type has no command-line form yet.
   */
  cliScript?(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string>;
}

export class ConnectionError extends Error {
  override name = "ConnectionError";
  constructor(
    message: string,
    readonly context: { realm: string; conn_id: string },
  ) {
    super(message);
  }
}
