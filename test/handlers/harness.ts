/**
 * A JobRun for tests of job types and actions: real local ports in a temp home, a temp run directory, a
 * memory logger, and a LavaConfig that ignores the caller's LAVA_* environment.
 *
 * `render` here is a deliberately small stand-in for the Jinja engine (only `{{ dotted.name }}` lookups):
 * these tests check *which* strings handlers render and in what order, not Jinja itself.
 */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Database } from "bun:sqlite";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { LavaConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { realmTable } from "../../src/core/names.ts";
import type { ActionRun } from "../../src/actions/types.ts";
import type { AugmentedJob, JobResult, JobRun, RealmInfo } from "../../src/core/job-contract.ts";

export const FIXTURES = resolve(import.meta.dir, "../fixtures/processes");
export const REALM = "test";
export const BUCKET = "lava-test";

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export interface Harness {
  ports: LocalPorts;
  home: string;
  root: string;
  realm: RealmInfo;
  /** Builds a run of `job` (fields merged over defaults); each call gets a fresh run dir. */
  jobRun(job: Partial<AugmentedJob>, opts?: RunOptions): JobRun & { log: ReturnType<typeof memoryLogger> };
  actionRun(spec: Record<string, unknown>, result: JobResult, opts?: RunOptions): ActionRun & { run: ReturnType<Harness["jobRun"]> };
  /** Row of local_object_meta for an object (kms key id kept by the local adapter). */
  objectKmsKey(uri: string): string | null | undefined;
  readObject(uri: string): Promise<string>;
  listObjects(prefixUri: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface RunOptions {
  config?: Record<string, unknown>;
  dev?: boolean;
  signal?: AbortSignal;
}

export async function openHarness(): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), "lava-handlers-"));
  const home = join(root, "home");
  const ports = await openLocalPorts({ home });
  await ports.objects.createBucket(BUCKET);
  await ports.tables.createTable({ name: realmTable(REALM, "state"), hash: "state_id", ttlAttribute: "ttl" });
  await ports.tables.createTable({ name: realmTable(REALM, "connections"), hash: "conn_id" });
  await ports.tables.createTable({ name: realmTable(REALM, "jobs"), hash: "job_id" });
  const realmFields = {
    realm: REALM,
    s3_payloads: `s3://${BUCKET}/payloads`,
    s3_temp: `s3://${BUCKET}/tmp`,
    s3_key: "alias/lava-test-user",
  };
  const realm: RealmInfo = { ...realmFields, config: {}, item: { ...realmFields } };
  let runs = 0;
  const jobRun = (partial: Partial<AugmentedJob>, opts: RunOptions = {}) => {
    const runId = partial.run_id ?? crypto.randomUUID();
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const job: AugmentedJob = {
      job_id: "test/job",
      type: "cmd",
      worker: "core",
      payload: "--",
      owner: "tester",
      description: "",
      enabled: true,
      max_tries: 0,
      parameters: {},
      globals: { lava: {} },
      state: {},
      realm: REALM,
      run_id: runId,
      ts_dispatch: now,
      ts_start: now,
      ts_ustart: now,
      ...partial,
    } as AugmentedJob;
    const runDir = join(root, "runs", String(++runs), runId);
    mkdirSync(runDir, { recursive: true });
    const config = new LavaConfig({ PAYLOAD_SETTLING_TIME: 0, ...opts.config }, {});
    const log = memoryLogger();
    const run: JobRun & { log: typeof log } = {
      job,
      realm,
      runDir,
      s3tmp: `${realm.s3_temp}/${job.job_id}/${runId}`,
      dev: opts.dev ?? false,
      ports,
      config,
      log,
      render: async (template, extra) => renderLookup(template, { job, realm, globals: job.globals, vars: job.parameters.vars ?? {}, ...extra }),
      signal: opts.signal ?? new AbortController().signal,
    };
    return run;
  };
  return {
    ports,
    home,
    root,
    realm,
    jobRun,
    actionRun(spec, result, opts) {
      const run = jobRun({}, opts);
      return {
        spec,
        run,
        result,
        render: async (template) => renderLookup(template, { job: run.job, realm, globals: run.job.globals, result }),
      };
    },
    objectKmsKey(uri) {
      const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
      const db = new Database(join(home, "lava.db"), { readonly: true });
      try {
        const row = db
          .query<{ kms_key_id: string | null }, [string, string]>("SELECT kms_key_id FROM local_object_meta WHERE bucket = ? AND key = ?")
          .get(m[1]!, m[2]!);
        return row?.kms_key_id;
      } finally {
        db.close();
      }
    },
    async readObject(uri) {
      return new Response(await ports.objects.get(uri)).text();
    },
    async listObjects(prefixUri) {
      const page = await ports.objects.list(prefixUri);
      return page.objects.map((o) => o.uri).sort();
    },
    async close() {
      await ports.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** `{{ a.b.c }}` lookups only; an unknown name renders as "" (Jinja's default undefined). */
export function renderLookup(template: string, context: Record<string, unknown>): string {
  if (template.includes("{%")) throw new Error("harness renderer: statements are not supported");
  return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => {
    let v: unknown = context;
    for (const part of path.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
    return v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  });
}

/** True when the pid exists and is not a zombie (a killed orphan may stay a zombie until init reaps it). */
export { isProcessAlive } from "../../src/core/process.ts";

/** Waits until `check()` holds or `ms` passes; returns its last value. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await Bun.sleep(25);
  }
  return check();
}
