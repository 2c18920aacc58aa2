/** Every job type, by `type` name. One line per job type; each module loads on first use. */
import type { JobType } from "../core/job-contract.ts";

export const jobTypes: Record<string, () => Promise<JobType>> = {
  cmd: () => import("./cmd.ts").then((m) => m.cmdJob),
  exe: () => import("./exe.ts").then((m) => m.exeJob),
  log: () => import("./log.ts").then((m) => m.logJob),
  pkg: () => import("./pkg.ts").then((m) => m.pkgJob),
  sql: () => import("./sql.ts").then((m) => m.sqlJob),
  sqli: () => import("./sqli.ts").then((m) => m.sqliJob),
};
