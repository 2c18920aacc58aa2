/**
 * Renders a 50-line parameter template 100,000 times (compiled once) and compares with Python's
 * Jinja2 on the same template and context. Prints figures; no pass/fail.
 * Run: bun bench/jinja.ts [iterations]
 */
import { compileTemplate, jobParamsContext } from "../src/jinja/index.ts";

const N = Number(process.argv[2] ?? 100_000);

const lines: string[] = [];
for (let i = 0; i < 10; i++) {
  lines.push(
    `line ${i}: {{ realm.s3_temp }}/{{ job.job_id }}/{{ start.strftime('%Y/%m/%d') }}/part-${i}.csv`,
    `{% if vars.count > ${i} %}count {{ vars.count * ${i} }} of {{ vars.names|length }}{% else %}none{% endif %}`,
    `{% for x in vars.names %}{{ x|upper }}{{ ',' if not loop.last }}{% endfor %}`,
    `{{ job.parameters.file.split('/')[-1] }} {{ globals.g1|default('x') }} {{ (vars.count + ${i}) // 2 }}`,
    `{{ utils.path.basename(realm.s3_payloads) }} {{ '%05d'|format(vars.count) }} {{ ustart.isoformat() }}`,
  );
}
const source = lines.join("\n");

const inputs = {
  tz: "Australia/Sydney",
  start: new Date("2024-03-15T09:30:00+11:00"),
  realm: { realm: "dev", s3_temp: "s3://tmp-bucket/lava/tmp", s3_payloads: "s3://pl-bucket/lava/payloads" },
  job: {
    job_id: "demo/j1",
    run_id: "0000-run",
    parameters: { file: "s3://my-bucket/x.csv", vars: { count: 5, names: ["a", "b", "c"] } },
    globals: { g1: "v1" },
    state: {},
  },
};

const ctx = jobParamsContext(inputs);
const tpl = compileTemplate(source);
tpl.render(ctx);
const t0 = performance.now();
let bytes = 0;
for (let i = 0; i < N; i++) bytes += tpl.render(ctx).length;
const secs = (performance.now() - t0) / 1000;
const ours = N / secs;
console.log(`ours:   ${N} renders in ${secs.toFixed(2)} s = ${Math.round(ours)} renders/s (${bytes / N} chars each)`);

const py = `
import sys, time, datetime, os.path, dateutil.tz, jinja2
src = sys.stdin.read()
n = int(sys.argv[1])
start = datetime.datetime(2024, 3, 15, 9, 30, tzinfo=dateutil.tz.gettz('Australia/Sydney'))
ctx = dict(realm={'realm': 'dev', 's3_temp': 's3://tmp-bucket/lava/tmp', 's3_payloads': 's3://pl-bucket/lava/payloads'},
  job={'job_id': 'demo/j1', 'run_id': '0000-run', 'parameters': {'file': 's3://my-bucket/x.csv', 'vars': {'count': 5, 'names': ['a', 'b', 'c']}}},
  globals={'g1': 'v1'}, state={}, start=start, ustart=start.astimezone(datetime.timezone.utc),
  vars={'count': 5, 'names': ['a', 'b', 'c']}, utils={'path': os.path})
t = jinja2.Template(src)
t.render(**ctx)
t0 = time.perf_counter()
for _ in range(n): t.render(**ctx)
dt = time.perf_counter() - t0
print(f"{n / dt:.0f}")
`;
const pyN = Math.max(1000, Math.floor(N / 5));
const proc = Bun.spawnSync(["python3", "-c", py, String(pyN)], { stdin: new TextEncoder().encode(source) });
if (proc.exitCode === 0) {
  const theirs = Number(proc.stdout.toString().trim());
  console.log(`python: ${pyN} renders at ${theirs} renders/s (Jinja2 ${Bun.spawnSync(["python3", "-c", "import jinja2; print(jinja2.__version__)"]).stdout.toString().trim()})`);
  console.log(`ratio:  ours / python = ${(ours / theirs).toFixed(2)}x`);
} else {
  console.warn(`python3/jinja2 unavailable, no comparison: ${proc.stderr.toString().slice(0, 200)}`);
}
