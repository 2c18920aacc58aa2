/** Templates rendered in worker threads (render-pool.ts): same text, same errors, and a stop ends them. */
import { afterEach, describe, expect, test } from "bun:test";
import { RenderPool } from "../../src/core/worker/render-pool.ts";
import { loadJinja, renderRequest, TABLE_ORIGIN, type RenderRequest } from "../../src/core/worker/render.ts";
import { errorText } from "../../src/core/error-text.ts";
import { TemplateError, UndefinedError } from "../../src/jinja/index.ts";
import type { AugmentedJob, RealmInfo } from "../../src/core/job-contract.ts";

await loadJinja();

const start = new Date("2026-11-27T17:42:16Z");
const job = {
  job_id: "ref/job", run_id: "r1", worker: "core", type: "cmd", realm: "ref",
  parameters: { n: 2, vars: { k: 3 } }, globals: { g: "x" }, state: {}, ts_dispatch: start, ts_start: start, ts_ustart: start,
} as unknown as AugmentedJob;
const realm: RealmInfo = { realm: "ref", s3_payloads: "s3://b/p", s3_temp: "s3://b/t", config: {}, item: { realm: "ref" } };
const request = (template: string, more: Partial<RenderRequest> = {}): RenderRequest => ({ template, kind: "job", job, realm, origin: TABLE_ORIGIN, ...more });

let pool: RenderPool;
afterEach(() => pool?.close());

describe("RenderPool", () => {
  test("renders in a thread exactly what the loop renders, Decimals and datetimes included", async () => {
    pool = new RenderPool(2);
    const template = "{{ job.parameters.n * 2 }} {{ vars.k / 4 }} {{ start.isoformat() }} {{ globals.g }} {{ realm.realm }}";
    expect(await pool.render(request(template))).toBe(renderRequest(request(template)));
    expect(await pool.render(request("{{ result.exit_status }}", { kind: "action", result: { exit_status: 3 } }))).toBe("3");
    expect(pool.threaded).toBe(2);
  });

  test("a template error comes back as the same class with the same text", async () => {
    pool = new RenderPool(1);
    for (const template of ["{{ job.nosuch.deeper }}", "{{ 1 // 0 }}", "{% for %}"]) {
      let inline: unknown;
      try {
        renderRequest(request(template, { name: "enabled" }));
      } catch (err) {
        inline = err;
      }
      const threaded = await pool.render(request(template, { name: "enabled" })).catch((err: unknown) => err);
      expect(threaded).toBeInstanceOf(TemplateError);
      expect(threaded!.constructor).toBe((inline as object).constructor);
      expect((threaded as Error).message).toBe((inline as Error).message);
      expect(errorText(threaded)).toBe(errorText(inline));
    }
    const undef = await pool.render(request("{{ job.nosuch.deeper }}")).catch((err: unknown) => err);
    expect(undef).toBeInstanceOf(UndefinedError);
  });

  test("a slow render does not block the event loop, and close() ends it", async () => {
    pool = new RenderPool(1);
    const slow = pool.render(request("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    while (ticks < 20) await Bun.sleep(10);
    clearInterval(timer);
    pool.close();
    expect(await slow.catch((err: Error) => err.message)).toBe("template rendering stopped (worker stopping)");
  });

  test("a render in progress keeps the process alive; idle threads do not", async () => {
    // A process whose only pending work is a render: were the thread's handle not held while it renders,
    // the process would exit (status 0, nothing printed) before the answer came back, as a batch worker
    // did in the middle of a sql job's statements. No top-level await here: that alone keeps Bun alive.
    const script = `
      import { RenderPool } from ${JSON.stringify(`${import.meta.dir}/../../src/core/worker/render-pool.ts`)};
      import { TABLE_ORIGIN } from ${JSON.stringify(`${import.meta.dir}/../../src/core/worker/render.ts`)};
      const job = ${JSON.stringify(job)};
      for (const k of ["ts_dispatch", "ts_start", "ts_ustart"]) job[k] = new Date(job[k]);
      const realm = ${JSON.stringify(realm)};
      const pool = new RenderPool(1);
      const req = (template) => ({ template, kind: "job", job, realm, origin: TABLE_ORIGIN });
      pool.render(req("{{ job.run_id }}-{{ 6 * 7 }}")).then((text) => {
        console.log(text);
        // A second render once the thread is warm and idle, from a timer: the loop empties again meanwhile.
        setTimeout(() => pool.render(req("{{ realm.realm }}")).then((t) => console.log(t)), 50);
      });
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    // Exits by itself once both answers are in: the idle thread holds nothing.
    expect([code, out, err]).toEqual([0, "r1-42\nref\n", ""]);
  });

  test("a request a thread cannot receive is rendered on the loop", async () => {
    pool = new RenderPool(1);
    expect(await pool.render(request("{{ 1 + 1 }}", { extra: { f: () => 1 } }))).toBe("2");
    expect(pool.threaded).toBe(0);
  });
});
