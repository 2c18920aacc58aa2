/**
 * The one list of lava commands. Each entry loads its module only when that command runs, so
 * `lava version` or `lava-dispatcher` never load the AWS SDK or code they do not use.
 * A module's default export is a citty command (`defineCommand({ meta, args, run })`, below); `run` may
 * return an exit status. The same program run as `lava-<name>` runs the command `<name>`.
 */
import type { ArgsDef, CommandDef } from "citty";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command has its own argument types
export type LavaCommand = CommandDef<any>;

/**
 * citty's `defineCommand` (the identity, for the argument types) without loading citty: its module
 * imports node:util, ~5 ms of a command's start. citty is loaded only to render help (src/cli/run.ts).
 */
export function defineCommand<const T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}

export interface CommandEntry {
  name: string;
  /** One line for `lava --help`; kept here so listing commands loads none of them. */
  description: string;
  load: () => Promise<{ default: LavaCommand }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "worker", description: "Run a lava worker: take jobs from the realm's worker queue and run them", load: () => import("./worker.ts") },
  { name: "dispatcher", description: "Dispatch jobs to their worker queues", load: () => import("./dispatcher.ts") },
  { name: "stop", description: "Stop lava workers", load: () => import("./stop.ts") },
  { name: "ami", description: "List or show lava AMIs", load: () => import("./ami.ts") },
  { name: "realm", description: "Administer realms (create the tables, queues and bucket of a realm)", load: () => import("./realm.ts") },
  { name: "put", description: "Add or replace realm, job, connection or s3trigger items from YAML or JSON files", load: () => import("./put.ts") },
  { name: "get", description: "Print realm, job, connection or s3trigger items", load: () => import("./get.ts") },
  { name: "delete", description: "Delete realm, job, connection or s3trigger items", load: () => import("./delete.ts") },
  { name: "events", description: "Print a job's run records from the realm's events table", load: () => import("./events.ts") },
  { name: "state", description: "Put and get state items", load: () => import("./state.ts") },
  { name: "sql", description: "Run SQL through a realm's database connection", load: () => import("./sql.ts") },
  { name: "config", description: "Print lava's configuration variables and their values", load: () => import("./config.ts") },
  { name: "demo", description: "Run the example jobs on a local realm (no AWS needed)", load: () => import("./demo.ts") },
  { name: "version", description: "Print the lava version", load: () => import("./version.ts") },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name);
}
