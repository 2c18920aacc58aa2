/** db_from_s3 loaders by connection type (the original's db_handler registrations). One line per loader. */
import type { SqlSession } from "../../ports/index.ts";
import type { JobRun } from "../../core/job-contract.ts";
import type { Loader } from "./base.ts";

type LoaderFactory = (run: JobRun, session: SqlSession, preserveCase: boolean) => Promise<Loader>;

export const loaderTypes: Record<string, LoaderFactory> = {
  postgres: (r, s, p) => import("./postgres.ts").then((m) => new m.PostgresLoader(r, s, p)),
  psql: (r, s, p) => import("./postgres.ts").then((m) => new m.PostgresLoader(r, s, p)),
  "postgres-rds": (r, s, p) => import("./postgres-rds.ts").then((m) => new m.PostgresRdsLoader(r, s, p)),
  "postgres-aurora": (r, s, p) => import("./postgres-rds.ts").then((m) => new m.PostgresRdsLoader(r, s, p)),
  "mysql-aurora": (r, s, p) => import("./mysql-aurora.ts").then((m) => new m.MysqlAuroraLoader(r, s, p)),
  redshift: (r, s, p) => import("./redshift.ts").then((m) => new m.RedshiftLoader(r, s, p)),
  "redshift-serverless": (r, s, p) => import("./redshift.ts").then((m) => new m.RedshiftLoader(r, s, p)),
  sqlite3: (r, s, p) => import("./sqlite3.ts").then((m) => new m.SqliteLoader(r, s, p)),
  oracle: (r, s, p) => import("./oracle.ts").then((m) => new m.OracleLoader(r, s, p)),
  mssql: (r, s, p) => import("./mssql.ts").then((m) => new m.MssqlLoader(r, s, p)),
};
