/**
 * `sqlv`: runs the SQL files of the payload (each at most SQL_MAX_PAYLOAD_SIZE) through `lava sql` in a
 * subprocess (this same program, src/core/program.ts), with the options the original passes lava-sql:
 *
 *   lava sql [--profile P] --backend B --realm R --conn-id C --tag <job_id>:<run_id> --batch-size N
 *            [--format F] [--level L] [--header] [--raw] [--transaction]
 *            (csv only:) [--doublequote] --delimiter D --dialect D [--escapechar E] --quotechar Q --quoting Q
 *            FILE... --output <rundir>/stdout
 *
 * csv options default to the SQL_* configuration, as the original's. Every file is rendered whole first
 * (autoescape for .html/.htm/.xml). One run, SQLV_TIMEOUT (`timeout`) for all of it; the job environment
 * of exe jobs (without LAVA_S3_TMP). `<s3tmp>/stdout` and `<s3tmp>/stderr` are uploaded when not empty;
 * in dev mode stderr goes to the console and stdout, being lava sql's output file, is still uploaded.
 *
 * `--backend` is ours (the original has one backend): the child reads the same realm store as the worker.
 */
import { join } from "node:path";
import type { JobType } from "../core/job-contract.ts";
import { JobFailure } from "../core/job-contract.ts";
import { selfCommand } from "../core/program.ts";
import { argString, checkParameters, fetchPayload, jinjaEnabled, jobEnvironment, renderPayloadFile, runStep, timeoutParameter, type StepsResult } from "./common.ts";

const OPTIONAL = [
  "batch_size",
  "delimiter",
  "dialect",
  "doublequote",
  "escapechar",
  "format",
  "header",
  "jinja",
  "level",
  "quotechar",
  "quoting",
  "raw",
  "timeout",
  "transaction",
  "vars",
] as const;

/** Python truthiness of a parameter. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object" && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

export const sqlvJob: JobType = {
  name: "sqlv",
  async run(run) {
    const parameters = checkParameters(run, ["conn_id"], OPTIONAL);
    const timeoutSeconds = timeoutParameter(run, parameters, "SQLV_TIMEOUT");
    const connId = parameters.conn_id;
    if (typeof connId !== "string") throw new JobFailure("Bad job parameters: conn_id must be a string");
    const cfg = run.config;

    const argv = [...selfCommand(), "sql"];
    const profile = process.env.AWS_PROFILE;
    if (profile) argv.push("--profile", profile);
    argv.push(
      "--backend",
      run.ports.backend,
      "--realm",
      run.realm.realm,
      "--conn-id",
      connId,
      "--tag",
      `${run.job.job_id}:${run.job.run_id}`,
      "--batch-size",
      argString(parameters.batch_size ?? cfg.int("SQL_BATCH_SIZE")),
    );
    for (const p of ["format", "level"]) if (p in parameters) argv.push(`--${p}`, argString(parameters[p]));
    if (truthy(parameters.header)) argv.push("--header");
    for (const p of ["raw", "transaction"]) if (truthy(parameters[p])) argv.push(`--${p}`);
    if ((parameters.format ?? "csv") === "csv") {
      if ("doublequote" in parameters ? truthy(parameters.doublequote) : cfg.bool("SQL_DOUBLEQUOTE")) argv.push("--doublequote");
      for (const p of ["delimiter", "dialect", "escapechar", "quotechar", "quoting"]) {
        const value = p in parameters ? parameters[p] : (cfg.raw(`SQL_${p.toUpperCase()}`) ?? null);
        if (value !== null && value !== undefined) argv.push(`--${p}`, argString(value));
      }
    }

    const env = await jobEnvironment(run, parameters, {});
    const result: StepsResult = { exit_status: 0, output: [] };
    const render = jinjaEnabled(parameters);
    for (const file of await fetchPayload(run, run.job.payload, "SQL_MAX_PAYLOAD_SIZE")) {
      argv.push(file);
      if (render) await renderPayloadFile(run, file, result);
    }
    const stdoutPath = join(run.runDir, "stdout");
    argv.push("--output", stdoutPath);
    await runStep(
      run,
      {
        argv,
        cwd: run.runDir,
        env,
        timeoutSeconds,
        stdoutPath,
        stderrPath: join(run.runDir, "stderr"),
        stdoutName: "stdout",
        stderrName: "stderr",
        uploadInDev: true,
      },
      result,
    );
    return result;
  },
};
