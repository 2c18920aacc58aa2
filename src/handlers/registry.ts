/** Every job type, by `type` name. One line per job type; each module loads on first use. */
import type { JobType } from "../core/job-contract.ts";

export const jobTypes: Record<string, () => Promise<JobType>> = {
  chain: () => import("./chain.ts").then((m) => m.chainJob),
  cmd: () => import("./cmd.ts").then((m) => m.cmdJob),
  dag: () => import("./dag.ts").then((m) => m.dagJob),
  db_from_s3: () => import("./db_from_s3.ts").then((m) => m.dbFromS3Job),
  dispatch: () => import("./dispatch.ts").then((m) => m.dispatchJobType),
  exe: () => import("./exe.ts").then((m) => m.exeJob),
  foreach: () => import("./foreach.ts").then((m) => m.foreachJob),
  log: () => import("./log.ts").then((m) => m.logJob),
  pkg: () => import("./pkg.ts").then((m) => m.pkgJob),
  redshift_unload: () => import("./redshift_unload.ts").then((m) => m.redshiftUnloadJob),
  sql: () => import("./sql.ts").then((m) => m.sqlJob),
  sqlc: () => import("./sqlc.ts").then((m) => m.sqlcJob),
  sqli: () => import("./sqli.ts").then((m) => m.sqliJob),
  sqlv: () => import("./sqlv.ts").then((m) => m.sqlvJob),
};
