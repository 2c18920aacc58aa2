/**
 * Paired whole-process timing for the benches: two commands run in turn (A B A B ...), each figure kept as
 * min / median / max, and the ratio A / B taken pair by pair. On a shared machine whose speed drifts, the
 * per-pair ratio stays meaningful where absolute times do not.
 */

export interface Row {
  measure: string;
  /** Names of the two sides, as the table heads them. */
  a: number[];
  b: number[];
}

export interface Three {
  min: number;
  median: number;
  max: number;
}

export function stats(xs: number[]): Three {
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: s[0]!, median: mid, max: s.at(-1)! };
}

function ms(x: number): string {
  return x.toFixed(x < 100 ? 1 : 0);
}

function three(s: Three, fmt: (x: number) => string, unit: string): string {
  return `${fmt(s.min)} / **${fmt(s.median)}** / ${fmt(s.max)}${unit}`;
}

/** A Markdown table: one row per measure, A and B in ms, A ÷ B per pair. */
export function table(rows: Row[], aName: string, bName: string): string {
  const lines = [
    `| measure | runs | ${aName}: min / median / max | ${bName}: min / median / max | ${aName} ÷ ${bName}, per pair: min / median / max |`,
    "|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const ratio = stats(r.a.map((x, i) => x / r.b[i]!));
    lines.push(
      `| ${r.measure} | ${r.a.length} | ${three(stats(r.a), ms, " ms")} | ${three(stats(r.b), ms, " ms")} | ${three(ratio, (x) => x.toFixed(x < 1 ? 3 : 2), "×")} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Runs `cmd` to its exit; a non-zero exit is an error carrying the tail of stderr. Returns wall ms. */
export async function timed(cmd: string[], env: Record<string, string>, cwd: string, onSpawn?: (t: number) => void): Promise<number> {
  const started = performance.now();
  onSpawn?.(started);
  const proc = Bun.spawn(cmd, { env, cwd, stdout: "pipe", stderr: "pipe" });
  const [code, , stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const elapsed = performance.now() - started;
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${stderr.split("\n").slice(-15).join("\n")}`);
  return elapsed;
}

/** One warm-up of each side (page cache, compiled caches), then `runs` pairs, A first in each. */
export async function pair(measure: string, runs: number, one: (side: "a" | "b") => Promise<number>): Promise<Row> {
  const row: Row = { measure, a: [], b: [] };
  await one("a");
  await one("b");
  for (let i = 0; i < runs; i++) {
    row.a.push(await one("a"));
    row.b.push(await one("b"));
    process.stderr.write(`  ${i + 1}/${runs} ${measure}\r`);
  }
  process.stderr.write("\n");
  return row;
}

/**
 * A forwarding proxy in front of an SQS endpoint that notes when a ReceiveMessage arrives (JSON or query
 * protocol), so a worker's start can be timed to its first receive from outside, the same way for any
 * program. The proxy runs in the bench's process and adds its own hop to every SQS call it forwards.
 */
export function receiveProbe(target: string) {
  let waiter: ((t: number) => void) | undefined;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.arrayBuffer();
      const amzTarget = req.headers.get("x-amz-target") ?? "";
      if (waiter && (amzTarget.endsWith(".ReceiveMessage") || new TextDecoder().decode(body).includes("Action=ReceiveMessage"))) {
        waiter(performance.now());
        waiter = undefined;
      }
      const url = new URL(req.url);
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(`${target}${url.pathname}${url.search}`, { method: req.method, headers, body: body.byteLength ? body : undefined });
      return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    /** Resolves with the arrival time (performance.now()) of the next ReceiveMessage. */
    next(): Promise<number> {
      return new Promise((r) => (waiter = r));
    },
    stop: () => server.stop(true),
  };
}
