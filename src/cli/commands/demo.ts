/**
 * `lava demo`: the embedded default end to end. Creates a local realm, loads the example jobs,
 * dispatches them and runs a worker until the queue is empty, then prints each run's events.
 * Every step runs the real commands (`lava realm create`, `lava put`, `lava-dispatcher`,
 * `lava-worker --batch`), so what it shows is what a user would get typing them.
 */
import { defineCommand } from "./index.ts";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { localHome } from "../../adapters/index.ts";
import { selfCommand } from "../../core/program.ts";
import { LavaError } from "../../core/errors.ts";
import { realmTable } from "../../core/names.ts";
import { openPorts } from "../../adapters/index.ts";
import type { Ports } from "../../ports/index.ts";

const REALM = "demo";
const WORKER = "core";
const JOBS = ["demo/hello", "demo/uname", "demo/greet", "demo/disabled"];
/** `realm create` gives a realm the bucket lava-<realm> with outputs under tmp/. */
const S3_TEMP = `s3://lava-${REALM}/tmp`;

/** Prints the job outputs a run left under its s3tmp prefix (stdout, stderr, ...). */
async function printOutputs(ports: Ports, prefix: string): Promise<void> {
  const page = await ports.objects.list(prefix);
  for (const obj of page.objects) {
    const text = (await new Response(await ports.objects.get(obj.uri)).text()).trimEnd();
    const shown = text.length > 300 ? `${text.slice(0, 300)}...` : text;
    process.stdout.write(`      ${obj.uri}:\n${shown.replace(/^/gm, "        ")}\n`);
  }
}

function examplesFile(): string {
  // From source the examples sit beside src/; a compiled binary carries them embedded.
  const candidates = [join(import.meta.dir, "../../../examples/demo/jobs.yaml"), join(process.cwd(), "examples/demo/jobs.yaml")];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new LavaError("cannot find examples/demo/jobs.yaml (run lava demo from the lava source tree)");
  return found;
}

async function step(title: string, args: string[], env: Record<string, string>): Promise<void> {
  const argv = [...selfCommand(), ...args];
  process.stdout.write(`\n$ lava ${args.join(" ")}\n`);
  const proc = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) throw new LavaError(`${title} failed with exit status ${code}`);
}

export default defineCommand({
  meta: { description: "Run the example jobs on a local realm (no AWS needed)" },
  args: {
    home: { type: "string", valueHint: "DIR", description: "Local realm home (default $LAVA_HOME or ~/.lava)" },
  },
  async run({ args }) {
    const home = typeof args.home === "string" && args.home ? args.home : localHome();
    const env = { LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_REALM: REALM, LAVA_TMPDIR: join(home, "tmp") };
    process.stdout.write(`lava demo: local realm "${REALM}" in ${home}\n`);
    await step("realm create", ["realm", "create", "-r", REALM, "-w", WORKER], env);
    await step("put jobs", ["put", "job", examplesFile(), "-r", REALM], env);
    // The dispatcher sends the disabled job too (with a warning), so the demo shows the worker skipping it.
    await step("dispatch", ["dispatcher", "-r", REALM, "-w", WORKER, ...JOBS], env);
    await step("worker", ["worker", "-r", REALM, "-w", WORKER, "--batch", "--wait", "1", "--root"], env);

    const ports = await openPorts({ backend: "local", home });
    try {
      process.stdout.write("\nEvents (newest run of each job):\n");
      for (const jobId of JOBS) {
        const page = await ports.tables.query(realmTable(REALM, "events"), {
          index: "job_id-tu_event-index",
          hash: { name: "job_id", value: jobId },
          forward: false,
          limit: 1,
        });
        const item = page.items[0];
        if (!item) {
          process.stdout.write(`  ${jobId}: no events\n`);
          continue;
        }
        const log = Array.isArray(item.log) ? item.log : [];
        const statuses = log.map((e) => (e && typeof e === "object" && !Array.isArray(e) && !(e instanceof Uint8Array) ? String(e.status) : "?"));
        process.stdout.write(`  ${jobId} run ${String(item.run_id)}: ${statuses.join(" -> ")}\n`);
        await printOutputs(ports, `${S3_TEMP}/${jobId}/${String(item.run_id)}/`);
      }
    } finally {
      await ports.close();
    }
    process.stdout.write(`\nOutputs are under ${join(home, "objects")}; inspect items with: LAVA_HOME=${home} lava get job demo/greet -r ${REALM}\n`);
    return 0;
  },
});
