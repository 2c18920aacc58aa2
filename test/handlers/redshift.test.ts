/**
 * redshift_unload and db_from_s3's Redshift loader, through a Redshift stand-in: the real handlers on a
 * `redshift` connection to local PostgreSQL (127.0.0.1:5432, trust), where `svv_columns` / `svv_tables`
 * are views over information_schema and the partition-info table is a real table, so every plain-SQL step
 * runs on a server. Only the statements PostgreSQL has no form of (UNLOAD, COPY FROM 's3://...') are
 * recorded by the stand-in instead of sent, and checked as text. Bucket safety checks: the local backend,
 * and S3 settings on moto_server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { S3Client, PutBucketAclCommand, PutBucketEncryptionCommand, PutBucketLoggingCommand, CreateBucketCommand } from "@aws-sdk/client-s3";
import { redshiftUnloadJob, unloadSql } from "../../src/handlers/redshift_unload.ts";
import { checkBucketSecurity } from "../../src/handlers/redshift_unload.ts";
import { dbFromS3Job } from "../../src/handlers/db_from_s3.ts";
import { connectorTypes } from "../../src/connectors/registry.ts";
import { redshiftConnector } from "../../src/connectors/redshift.ts";
import { JobFailure, type AugmentedJob, type JobRun } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import type { SqlSession } from "../../src/ports/index.ts";
import { openAwsPorts } from "../../src/adapters/aws/index.ts";
import { needs, tcpOpen } from "../support/availability.ts";
import { emulatorsPresent, sdkConfig, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { BUCKET, REALM, openHarness, type Harness } from "./harness.ts";

const pgUp = needs("PostgreSQL on 127.0.0.1:5432", await tcpOpen(5432));
const motoUp = needs("moto_server (python3 moto)", emulatorsPresent.moto() && emulatorsPresent.dynalite() && emulatorsPresent.fauxqs());

let h: Harness;
let pg: postgres.Sql;
/** Statements the stand-in kept from the server; `failOn` makes matching ones fail as Redshift would. */
const recorded: string[] = [];
let failOn: RegExp | undefined;
const realRedshift = connectorTypes.redshift!;

beforeAll(async () => {
  h = await openHarness();
  const conn = (item: Record<string, unknown>) => h.ports.tables.put(realmTable(REALM, "connections"), { enabled: true, ...item });
  await conn({ conn_id: "rs", type: "redshift", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/lava/test/pgpw" });
  await conn({ conn_id: "s3keys", type: "aws", access_keys: "/lava/test/keys" });
  h.ports.local.putParameter("/lava/test/pgpw", "unused-by-trust", { secure: true });
  h.ports.local.putParameter("/lava/test/keys", "AKIDTEST,Secret-Key-77", { secure: true });
  connectorTypes.redshift = async () => ({
    ...redshiftConnector,
    async connect(c, ctx, opts) {
      const session = await redshiftConnector.connect!(c, ctx, opts);
      const standIn: SqlSession = {
        async query(sql, params) {
          if (/^\s*(UNLOAD|COPY\s.*FROM 's3:)/s.test(sql)) {
            recorded.push(sql);
            if (failOn?.test(sql)) throw new Error("S3ServiceException:Access Denied");
            return { columns: [], rows: [] };
          }
          return session.query(sql, params);
        },
        cursor: (sql, n, o) => session.cursor(sql, n, o),
        close: () => session.close(),
      };
      return standIn;
    },
  });
  if (pgUp) {
    pg = postgres({ host: "127.0.0.1", port: 5432, database: "test", username: "postgres", max: 1, onnotice: () => {} });
    await pg.unsafe(`
      CREATE OR REPLACE VIEW public.svv_columns AS SELECT table_catalog, table_schema, table_name, column_name, data_type, ordinal_position FROM information_schema.columns;
      CREATE OR REPLACE VIEW public.svv_tables AS SELECT table_catalog, table_schema, table_name FROM information_schema.tables;
      DROP SCHEMA IF EXISTS rsu CASCADE; CREATE SCHEMA rsu;
      CREATE TABLE rsu.sales (id int, sold date, amount numeric);
      CREATE TABLE rsu.plain (id int, name text);
      CREATE TABLE rsu.parts (schema_name text, rel_name text, partitions text);
      INSERT INTO rsu.parts VALUES ('rsu', 'sales', 'sold, id');`).simple();
  }
});

afterAll(async () => {
  connectorTypes.redshift = realRedshift;
  await pg?.end();
  await h?.close();
});

function unloadRun(parameters: Record<string, unknown>) {
  return h.jobRun({ type: "redshift_unload", payload: "--", parameters, job_id: "test/unload" } as Partial<AugmentedJob>);
}

async function unloadFailure(parameters: Record<string, unknown>): Promise<JobFailure> {
  try {
    await redshiftUnloadJob.run(unloadRun(parameters));
  } catch (e) {
    expect(e).toBeInstanceOf(JobFailure);
    return e as JobFailure;
  }
  throw new Error("the job succeeded");
}

const unloadBase = { conn_id: "rs", bucket: BUCKET, schema: "rsu", insecure: true, s3_iam_role: "arn:aws:iam::123456789012:role/unload" };

describe("redshift_unload SQL", () => {
  test("the statement as the original lays it out; quotes in WHERE escaped for the quoted SELECT", () => {
    expect(unloadSql("*", "s", "r", "name = 'x'", "b", "p/r/", ["CSV", "GZIP"])).toBe(`
                UNLOAD ('SELECT * FROM "s"."r" WHERE name = \\'x\\'')
                TO 's3://b/p/r/'
                {authorization}
                CSV GZIP;
            `);
  });
});

describe.if(pgUp)("redshift_unload through the Redshift stand-in", () => {
  test("relations in order; prefix and WHERE rendered per relation; dateformat; PARTITION BY @schema.rel from the table", async () => {
    recorded.length = 0;
    const run = unloadRun({
      ...unloadBase,
      relation: ["sales"],
      prefix: "out/{{ schema }}/{{ relation }}/",
      where: "src = '{{ relation }}'",
      dateformat: "YYYY-MM-DD",
      args: ["FORMAT PARQUET", "PARTITION BY @rsu.parts", "ALLOWOVERWRITE"],
    });
    const result = (await redshiftUnloadJob.run(run)) as { exit_status: number; unloads: Record<string, unknown>[] };
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.trim()).toBe(
      `UNLOAD ('SELECT "id", to_char("sold", \\'YYYY-MM-DD\\') AS "sold", "amount" FROM "rsu"."sales" WHERE src = \\'sales\\'')
                TO 's3://${BUCKET}/out/rsu/sales/'
                IAM_ROLE 'arn:aws:iam::123456789012:role/unload'
                FORMAT PARQUET PARTITION BY ("sold","id") ALLOWOVERWRITE;`,
    );
    expect(result.exit_status).toBe(0);
    expect(result.unloads[0]).toMatchObject({ schema: "rsu", relation: "sales", bucket: BUCKET, prefix: "out/rsu/sales/", status: "complete", duration: 0 });
    expect(result.unloads[0]!.sql).toStartWith("UNLOAD ('SELECT");
    expect(result.unloads[0]!.sql).toContain("{authorization}");
    expect(String(result.unloads[0]!.ts_start)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  }, 20000);

  test("stop_on_fail false: the others run, the failures listed, the job fails at the end; keys never in the result", async () => {
    recorded.length = 0;
    failOn = /"plain"/;
    try {
      const { s3_iam_role: _, ...keyAuth } = unloadBase;
      const f = await unloadFailure({ ...keyAuth, s3_conn_id: "s3keys", relation: ["plain", "sales"], key: "legacy/{{ relation }}", args: ["CSV"], stop_on_fail: false });
      expect(f.message).toBe("1 unloads failed");
      const data = f.data as { exit_status: number; unloads: Record<string, unknown>[]; failures: string[] };
      expect(data.failures).toEqual(["plain"]);
      expect(data.exit_status).toBe(0);
      expect(data.unloads.map((u) => u.status)).toEqual(["failed", "complete"]);
      expect(data.unloads[0]!.error).toBe("S3ServiceException:Access Denied");
      expect(recorded[1]).toContain("ACCESS_KEY_ID 'AKIDTEST' SECRET_ACCESS_KEY 'Secret-Key-77'");
      expect(JSON.stringify(data)).not.toContain("Secret-Key-77");
    } finally {
      failOn = undefined;
    }
  });

  test("stop_on_fail (default): the first failure ends the job with the result so far", async () => {
    failOn = /"plain"/;
    try {
      const f = await unloadFailure({ ...unloadBase, relation: ["plain", "sales"], prefix: "p/", args: ["CSV"] });
      expect(f.message).toBe("Unload failed: S3ServiceException:Access Denied");
      expect(f.data).toMatchObject({ exit_status: 1, error: "S3ServiceException:Access Denied", unloads: [{ relation: "plain", status: "failed" }] });
    } finally {
      failOn = undefined;
    }
  });

  test("start skips to the named relation; a start matching nothing attempts nothing", async () => {
    recorded.length = 0;
    const run = unloadRun({ ...unloadBase, relation: ["sales", "plain"], prefix: "p/", args: ["CSV"], start: "plain" });
    const result = (await redshiftUnloadJob.run(run)) as { unloads: { relation: string }[] };
    expect(result.unloads.map((u) => u.relation)).toEqual(["plain"]);
    const f = await unloadFailure({ ...unloadBase, relation: ["sales"], prefix: "p/", args: ["CSV"], start: "zzz" });
    expect(f.message).toBe("No unloads were attempted");
    expect(f.data).toEqual({ start: "zzz" });
  });

  test("key is a deprecated alias of prefix (a warning); insecure warns; bad args and credentials refused", async () => {
    const run = unloadRun({ ...unloadBase, relation: "plain", key: "k/", args: ["CSV"] });
    await redshiftUnloadJob.run(run);
    const warnings = run.log.records.filter((r) => r.level === "WARNING").map((r) => r.message);
    expect(warnings).toContain("test/unload: Deprecation warning: key parameter should be replaced by prefix");
    expect(warnings).toContain(`${REALM}@test/unload: Possible insecure redshift_unload`);
    expect((await unloadFailure({ ...unloadBase, relation: "plain", prefix: "p", args: ["CSV", "IAM_ROLE 'x'"] })).message).toBe("Invalid UNLOAD arguments: IAM_ROLE");
    expect((await unloadFailure({ ...unloadBase, relation: "plain", args: ["CSV"] })).message).toBe("Bad job parameters: prefix is required");
    const { s3_iam_role: _, ...noAuth } = unloadBase;
    expect((await unloadFailure({ ...noAuth, relation: "plain", prefix: "p", args: [] })).message).toBe("At least one of s3_iam_role and s3_conn_id is required");
    expect((await unloadFailure({ ...unloadBase, relation: "plain", prefix: "it's/", args: [] })).message).toBe("Unload failed: Bad prefix parameter: Single quote not allowed in S3 prefix");
    expect((await unloadFailure({ ...unloadBase, s3_iam_role: "x'y", relation: "plain", prefix: "p", args: [] })).message).toBe(
      "Unload failed: Bad Redshift authorization component: must not contain quotes",
    );
  });

  test("the bucket checks run unless insecure: a local bucket is neither encrypted nor logged", async () => {
    const { insecure: _, ...secure } = unloadBase;
    const f = await unloadFailure({ ...secure, relation: "plain", prefix: "p", args: [] });
    expect(f.message).toBe(`Bucket ${BUCKET} is insecure: Insecure due to lack of default encryption`);
  });
});

describe.if(pgUp)("db_from_s3 into Redshift through the stand-in", () => {
  test("table steps on the server (svv_tables, COUNT(*)), the COPY recorded with its authorization, events without it", async () => {
    recorded.length = 0;
    await pg.unsafe("DROP TABLE IF EXISTS rsu.target; CREATE TABLE rsu.target (id int, v text); INSERT INTO rsu.target VALUES (1, 'old')").simple();
    await h.ports.objects.put(`s3://${BUCKET}/rs/in.csv`, "2,new\n");
    const run = h.jobRun({
      type: "db_from_s3",
      payload: "--",
      parameters: { db_conn_id: "rs", bucket: BUCKET, key: "rs/in.csv", schema: "RSU", table: "target", mode: "delete", s3_conn_id: "s3keys", args: ["CSV", "IGNOREHEADER 0"], columns: ["id int", "v text"] },
    } as Partial<AugmentedJob>);
    const result = (await dbFromS3Job.run(run)) as { events: string[] };
    expect(recorded).toEqual([`COPY "rsu"."target"("id","v") FROM 's3://${BUCKET}/rs/in.csv' ACCESS_KEY_ID 'AKIDTEST' SECRET_ACCESS_KEY 'Secret-Key-77' CSV IGNOREHEADER 0`]);
    expect(result.events).toEqual([
      'Deleting from table "rsu"."target"',
      'Deleted from table "rsu"."target"',
      `COPY "rsu"."target"("id","v") FROM 's3://${BUCKET}/rs/in.csv' {authorization} CSV IGNOREHEADER 0`,
      "Running COPY command for rsu.target",
      "Copy to rsu.target complete",
      'Commit "rsu"."target"',
    ]);
    // The DELETE really ran and committed on the server.
    expect(await pg.unsafe("SELECT count(*)::int AS n FROM rsu.target")).toMatchObject([{ n: 0 }]);

    // A failed COPY (Redshift refusing the object) rolls the DELETE back.
    await pg.unsafe("INSERT INTO rsu.target VALUES (1, 'old')").simple();
    failOn = /COPY/;
    try {
      await expect(dbFromS3Job.run(h.jobRun({ type: "db_from_s3", payload: "--", parameters: { db_conn_id: "rs", bucket: BUCKET, key: "rs/in.csv", schema: "rsu", table: "target", mode: "delete", s3_iam_role: "arn:r" } } as Partial<AugmentedJob>))).rejects.toThrow(
        "Copy failed: S3ServiceException:Access Denied",
      );
    } finally {
      failOn = undefined;
    }
    expect(await pg.unsafe("SELECT count(*)::int AS n FROM rsu.target")).toMatchObject([{ n: 1 }]);
  });
});

describe.if(motoUp)("bucket safety checks on S3 (moto_server)", () => {
  let emulators: AwsEmulators;
  beforeAll(async () => {
    emulators = await startAwsEmulators({ moto: true });
  }, 60000);
  afterAll(async () => {
    await emulators?.stop();
  });

  test("public grant, default encryption, access logging, owner: each refused in the original's order", async () => {
    const env = { ...emulators.env, AWS_ENDPOINT_URL_S3: emulators.endpoints.moto! };
    const ports = await openAwsPorts({ env });
    const s3 = new S3Client(sdkConfig(emulators.endpoints.moto));
    try {
      const run = { ports } as unknown as JobRun;
      const check = () => checkBucketSecurity(run, "unload-target").then(() => "secure", (e: Error) => e.message);
      await s3.send(new CreateBucketCommand({ Bucket: "unload-target" }));
      await s3.send(new CreateBucketCommand({ Bucket: "unload-logs" }));
      await s3.send(new PutBucketAclCommand({ Bucket: "unload-target", ACL: "public-read" }));
      expect(await check()).toBe("Insecure due to public access");
      await s3.send(new PutBucketAclCommand({ Bucket: "unload-target", ACL: "private" }));
      // moto gives new buckets default encryption (as S3 has since 2023); remove it to see the refusal.
      const { DeleteBucketEncryptionCommand } = await import("@aws-sdk/client-s3");
      await s3.send(new DeleteBucketEncryptionCommand({ Bucket: "unload-target" }));
      expect(await check()).toBe("Insecure due to lack of default encryption");
      await s3.send(
        new PutBucketEncryptionCommand({ Bucket: "unload-target", ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] } }),
      );
      expect(await check()).toBe("Insecure due to lack of server logging");
      await s3.send(new PutBucketAclCommand({ Bucket: "unload-logs", GrantWrite: 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"', GrantReadACP: 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"' }));
      await s3.send(new PutBucketLoggingCommand({ Bucket: "unload-target", BucketLoggingStatus: { LoggingEnabled: { TargetBucket: "unload-logs", TargetPrefix: "l/" } } }));
      // moto names one canonical owner in ListBuckets and another in every bucket ACL, so its buckets all
      // look foreign-owned: the last check refuses, as it would a bucket of another account.
      expect(await check()).toBe("Insecure due to foreign owned bucket");
      expect(await checkBucketSecurity(run, "no-such-bucket").then(() => "secure", (e: Error) => e.name)).not.toBe("secure");

      // setContentEncoding (db_from_s3's RDS GZIP): a copy onto itself keeping the metadata.
      const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
      await ports.objects.put("s3://unload-target/a b/x.gz", "zz", { metadata: { team: "t1" }, contentType: "application/gzip" });
      await ports.objects.setContentEncoding("s3://unload-target/a b/x.gz", "gzip");
      const head = await s3.send(new HeadObjectCommand({ Bucket: "unload-target", Key: "a b/x.gz" }));
      expect([head.ContentEncoding, head.Metadata, head.ContentType, head.ServerSideEncryption]).toEqual(["gzip", { team: "t1" }, "application/gzip", "AES256"]);
      await ports.objects.setContentEncoding("s3://unload-target/a b/x.gz", "gzip");
      await expect(ports.objects.setContentEncoding("s3://unload-target/missing", "gzip")).rejects.toThrow();
    } finally {
      s3.destroy();
      await ports.close();
    }
  }, 60000);
});
