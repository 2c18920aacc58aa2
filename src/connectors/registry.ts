/** Every connector, by connection type. One line per connector file; modules load on first use. */
import type { Connector } from "./types.ts";

const load = <M>(get: () => Promise<M>, pick: (m: M) => Connector) => () => get().then(pick);

const postgres = load(() => import("./postgres.ts"), (m) => m.postgresConnector);
const redshift = load(() => import("./redshift.ts"), (m) => m.redshiftConnector);
const mysql = load(() => import("./mysql.ts"), (m) => m.mysqlConnector);
const oracle = load(() => import("./oracle.ts"), (m) => m.oracleConnector);
const mssql = load(() => import("./mssql.ts"), (m) => m.mssqlConnector);
const sqlite3 = load(() => import("./sqlite3.ts"), (m) => m.sqlite3Connector);
const aws = load(() => import("./aws.ts"), (m) => m.awsConnector);
const generic = load(() => import("./generic.ts"), (m) => m.genericConnector);
const git = load(() => import("./git.ts"), (m) => m.gitConnector);
const ssh = load(() => import("./ssh.ts"), (m) => m.sshConnector);
const email = load(() => import("./email.ts"), (m) => m.emailConnector);
const slack = load(() => import("./slack.ts"), (m) => m.slackConnector);
const smb = load(() => import("./smb.ts"), (m) => m.smbConnector);
const sharepoint = load(() => import("./sharepoint.ts"), (m) => m.sharepointConnector);
const docker = load(() => import("./docker.ts"), (m) => m.dockerConnector);

export const connectorTypes: Record<string, () => Promise<Connector>> = {
  postgres,
  postgresql: postgres,
  psql: postgres,
  "postgres-rds": postgres,
  "postgres-aurora": postgres,
  redshift,
  "redshift-serverless": redshift,
  mysql,
  mariadb: mysql,
  "mariadb-rds": mysql,
  "mysql-rds": mysql,
  "mysql-aurora": mysql,
  oracle,
  "oracle-rds": oracle,
  mssql,
  sqlite3,
  aws,
  generic,
  git,
  ssh,
  scp: ssh,
  sftp: ssh,
  email,
  ses: email,
  slack,
  smb,
  sharepoint,
  docker,
};
