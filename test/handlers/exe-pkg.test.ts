import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { exeJob } from "../../src/handlers/exe.ts";
import { pkgJob } from "../../src/handlers/pkg.ts";
import { JobFailure } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import { makeTar, makeZip, tarBomb, type ArchiveEntry } from "../fixtures/archives.ts";
import { BUCKET, openHarness, type Harness } from "./harness.ts";

let h: Harness;
const payloads = `s3://${BUCKET}/payloads`;

beforeAll(async () => {
  h = await openHarness();
  const put = (key: string, body: string | Uint8Array) => h.ports.objects.put(`${payloads}/${key}`, body);
  await put("exe/hello.sh", '#!/bin/sh\necho "exe hello: args=$* job=$LAVA_JOB_ID payload=$LAVA_S3_PAYLOAD"\necho "exe stderr line" >&2\n');
  // Prefix semantics: one "folder" with three scripts that record their order in the shared run dir.
  for (const name of ["b.sh", "a.sh", "c.sh"]) {
    await put(`exe/multi/${name}`, `#!/bin/sh\necho ${name} >> order.txt\ncat order.txt\n`);
  }
  await put("exe/fails/1-first.sh", "#!/bin/sh\necho first failed >&2\nexit 4\n");
  await put("exe/fails/2-second.sh", "#!/bin/sh\necho should-not-run\n");
  await put("exe/sib.sh", "#!/bin/sh\necho sib\n");
  await put("exe/sib.sh.bak", "#!/bin/sh\necho bak\n");
  await put("exe/big.sh", `#!/bin/sh\n# ${"x".repeat(200)}\n`);
  await put("exe/nested/top.sh", "#!/bin/sh\necho top\n");
  await put("exe/nested/sub/deep.sh", "#!/bin/sh\necho deep\n");
  await put("exe/env.sh", '#!/bin/sh\necho "id=$LAVA_CONNID_DB"\n');
  const run = { name: "run.sh", content: '#!/bin/sh\necho "pkg run.sh args=$* cwd-files=$(ls | tr "\\n" " ")"\n', mode: 0o644 };
  await put("pkg/pkg.tar.gz", makeTar([run], { gzip: true }));
  await put("pkg/pkg.zip", makeZip([{ ...run, content: '#!/bin/sh\necho "zip run.sh args=$*"\n' }]));
  await put("pkg/evil.tar", makeTar([run, { name: "../evil", content: "x" }]));
  await put("pkg/abs.tar", makeTar([run, { name: "/tmp/lava-abs-evil", content: "x" }]));
  await put("pkg/link.zip", makeZip([run, { name: "out", type: "symlink", target: "../../.." }]));
  // d -> ., p1 -> d/.., p2 -> p1/.., ...: every target reads as "." but p40 really is /.
  const chain: ArchiveEntry[] = [{ name: "d", type: "symlink", target: "." }, { name: "p1", type: "symlink", target: "d/.." }];
  for (let i = 2; i <= 40; i++) chain.push({ name: `p${i}`, type: "symlink", target: `p${i - 1}/..` });
  await put("pkg/climb.tar", makeTar([run, ...chain]));
  await put("pkg/bomb.tar.gz", tarBomb(1024));
  await put("pkg/paxbomb.tar.gz", tarBomb(1024, undefined, { paxHeader: true }));
  await put("pkg/fail.tar", makeTar([{ name: "run.sh", content: "#!/bin/sh\necho pkg-fail >&2\nexit 7\n" }]));
  await h.ports.tables.put(realmTable("test", "connections"), { conn_id: "pg1", type: "postgres", enabled: true, host: "h", port: 5432 });
});
afterAll(async () => {
  await h.close();
});

async function failure(promise: Promise<unknown>): Promise<JobFailure> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof JobFailure) return e;
    throw e;
  }
  throw new Error("expected the job to fail");
}

describe("exe", () => {
  test("golden shape: <base>.stdout/.stderr under s3tmp, args rendered, LAVA_S3_PAYLOAD set", async () => {
    const run = h.jobRun({ type: "exe", job_id: "ref/exe", payload: "exe/hello.sh exe-arg {{realm.realm}}" });
    const result = await exeJob.run(run);
    expect(result).toEqual({
      exit_status: 0,
      output: [{ payload: "hello.sh", exit_status: 0, stdout: `${run.s3tmp}/hello.sh.stdout`, stderr: `${run.s3tmp}/hello.sh.stderr` }],
    });
    expect(await h.readObject(`${run.s3tmp}/hello.sh.stdout`)).toBe(
      `exe hello: args=exe-arg test job=ref/exe payload=${payloads}/exe/hello.sh\n`,
    );
    expect(h.objectKmsKey(`${run.s3tmp}/hello.sh.stderr`)).toBe("alias/lava-test-user");
  });

  test("several files run one by one in name order, each with its own outputs", async () => {
    const run = h.jobRun({ type: "exe", payload: "exe/multi/" });
    const result = await exeJob.run(run);
    expect((result.output as { payload: string }[]).map((o) => o.payload)).toEqual(["a.sh", "b.sh", "c.sh"]);
    expect(await h.readObject(`${run.s3tmp}/c.sh.stdout`)).toBe("a.sh\nb.sh\nc.sh\n");
  });

  test("the payload is a prefix: sibling keys come too; sub-prefixes are ignored (v2)", async () => {
    const run = h.jobRun({ type: "exe", payload: "exe/sib.sh" });
    const result = await exeJob.run(run);
    expect((result.output as { payload: string }[]).map((o) => o.payload)).toEqual(["sib.sh", "sib.sh.bak"]);
    const nested = await exeJob.run(h.jobRun({ type: "exe", payload: "exe/nested/" }));
    expect((nested.output as { payload: string }[]).map((o) => o.payload)).toEqual(["top.sh"]);
  });

  test("v1 refuses sub-prefixes", async () => {
    const err = await failure(exeJob.run(h.jobRun({ type: "exe", payload: "exe/nested/" }, { config: { PAYLOAD_DOWNLOADER: "v1" } })));
    expect(err.message).toBe(`${payloads}/exe/nested/: Recursive download not supported`);
  });

  test("the first failing file stops the job", async () => {
    const run = h.jobRun({ type: "exe", payload: "exe/fails/" });
    const err = await failure(exeJob.run(run));
    expect(err.message).toBe("Failed with exit status 4");
    expect(err.data).toEqual({
      exit_status: 4,
      output: [{ payload: "1-first.sh", exit_status: 4, stderr: `${run.s3tmp}/1-first.sh.stderr` }],
      error: "first failed",
    });
  });

  test("payload over EXE_MAX_PAYLOAD_SIZE is refused before download", async () => {
    const err = await failure(exeJob.run(h.jobRun({ type: "exe", payload: "exe/big.sh" }, { config: { EXE_MAX_PAYLOAD_SIZE: "100" } })));
    expect(err.message).toMatch(new RegExp(`^${payloads}/exe/big.sh: Payload size \\d+ exceeds maximum of 100$`));
  });

  test("a missing payload fails", async () => {
    const err = await failure(exeJob.run(h.jobRun({ type: "exe", payload: "exe/none-such" })));
    expect(err.message).toBe("No payload files downloaded from S3 for payload: exe/none-such");
  });

  test("list payloads are refused for exe", async () => {
    const err = await failure(exeJob.run(h.jobRun({ type: "exe", payload: ["exe/hello.sh"] })));
    expect(err.message).toBe("Only single string payloads are supported for exe jobs");
  });

  test("connections: bad labels refused; a connection without credentials fails naming it", async () => {
    const bad = await failure(exeJob.run(h.jobRun({ type: "exe", payload: "exe/env.sh", parameters: { connections: { "bad-label": "pg1" } } })));
    expect(bad.message).toBe("Bad connection label: bad-label");
    const missing = await failure(exeJob.run(h.jobRun({ type: "exe", payload: "exe/env.sh", parameters: { connections: { db: "nope" } } })));
    expect(missing.message).toBe("nope: No such connection");
    const unsupported = await failure(exeJob.run(h.jobRun({ type: "exe", payload: "exe/env.sh", parameters: { connections: { db: "pg1" } } })));
    expect(unsupported.message).toBe("Connection pg1: Password must be specified");
  });
});

describe("pkg", () => {
  test("tar.gz: unpacked, entry point made executable, run in the package dir (golden pkg shape)", async () => {
    const run = h.jobRun({ type: "pkg", job_id: "ref/pkg", payload: "pkg/pkg.tar.gz", parameters: { command: "run.sh pkg-arg" } });
    const result = await pkgJob.run(run);
    expect(result).toEqual({ exit_status: 0, output: [{ payload: "pkg.tar.gz", exit_status: 0, stdout: `${run.s3tmp}/pkg.tar.gz.stdout` }] });
    expect(await h.readObject(`${run.s3tmp}/pkg.tar.gz.stdout`)).toBe(
      "pkg run.sh args=pkg-arg cwd-files=pkg.tar.gz.stderr pkg.tar.gz.stdout run.sh \n",
    );
  });

  test("zip, and list payloads run in order (v2)", async () => {
    const run = h.jobRun({ type: "pkg", payload: ["pkg/pkg.zip", "pkg/pkg.tar.gz"], parameters: { main: "run.sh", args: ["{{job.worker}}"] } });
    const result = await pkgJob.run(run);
    expect((result.output as { payload: string }[]).map((o) => o.payload)).toEqual(["pkg.zip", "pkg.tar.gz"]);
    expect(await h.readObject(`${run.s3tmp}/pkg.zip.stdout`)).toBe("zip run.sh args=core\n");
    expect(run.log.records.some((r) => r.message.includes("Deprecation warning: main"))).toBe(true);
  });

  test.each([
    ["pkg/evil.tar", "Refusing member with '..' in its path: ../evil"],
    ["pkg/abs.tar", "Refusing member with absolute path: /tmp/lava-abs-evil"],
    ["pkg/link.zip", "Refusing symlink that escapes the package directory: out -> ../../.."],
  ])("%s is refused with exit_status 1", async (payload, reason) => {
    const err = await failure(pkgJob.run(h.jobRun({ type: "pkg", payload, parameters: { command: "run.sh" } })));
    expect(err.message).toMatch(/^Cannot unpack .* into .*\.pkg: /);
    expect(err.message).toContain(reason);
    expect(err.data).toEqual({ exit_status: 1, output: [], error: reason });
  });

  test("an entry point reached through links climbing out of the package never runs", async () => {
    const run = h.jobRun({ type: "pkg", payload: "pkg/climb.tar", parameters: { command: "p40/bin/sh -c 'echo escaped'" } });
    const err = await failure(pkgJob.run(run));
    const reason = "Refusing symlink that resolves outside the package directory: p1 -> d/..";
    expect(err.message).toContain(reason);
    expect(err.data).toEqual({ exit_status: 1, output: [], error: reason });
  });

  test("a decompression bomb fails the run with an error naming PKG_MAX_UNPACKED_SIZE", async () => {
    const run = h.jobRun({ type: "pkg", payload: "pkg/bomb.tar.gz", parameters: { command: "run.sh" } }, { config: { PKG_MAX_UNPACKED_SIZE: "16MiB" } });
    const err = await failure(pkgJob.run(run));
    const reason = "Package expands to more than PKG_MAX_UNPACKED_SIZE (16MiB)";
    expect(err.message).toMatch(/^Cannot unpack .* into .*\.pkg: /);
    expect(err.data).toEqual({ exit_status: 1, output: [], error: reason });
  });

  test("PKG_MAX_ENTRIES is read from the config", async () => {
    const run = h.jobRun({ type: "pkg", payload: "pkg/climb.tar", parameters: { command: "run.sh" } }, { config: { PKG_MAX_ENTRIES: "10" } });
    const err = await failure(pkgJob.run(run));
    expect(err.data).toEqual({ exit_status: 1, output: [], error: "Package has more than PKG_MAX_ENTRIES (10) members" });
  });

  test("while one run unpacks a big stream, another run proceeds and timers keep firing", async () => {
    // The pax bomb is streamed up to the cap (256 MiB decompressed and skipped): real work for a while.
    // The lag bound (500 ms) is a bound, not a timing: a synchronous inflate of the bomb stalls for seconds.
    let last = performance.now();
    let maxLag = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last - 10);
      last = now;
    }, 10);
    try {
      const bomb = pkgJob.run(h.jobRun({ type: "pkg", payload: "pkg/paxbomb.tar.gz", parameters: { command: "run.sh" } }, { config: { PKG_MAX_UNPACKED_SIZE: "256MiB" } }));
      const good = pkgJob.run(h.jobRun({ type: "pkg", payload: "pkg/pkg.tar.gz", parameters: { command: "run.sh" } }));
      const [bombOutcome, goodOutcome] = await Promise.allSettled([bomb, good]);
      expect(bombOutcome.status).toBe("rejected");
      expect(((bombOutcome as PromiseRejectedResult).reason as JobFailure).data).toEqual({
        exit_status: 1,
        output: [],
        error: "Package expands to more than PKG_MAX_UNPACKED_SIZE (256MiB)",
      });
      expect(goodOutcome.status).toBe("fulfilled");
      expect(maxLag).toBeLessThan(500);
    } finally {
      clearInterval(timer);
    }
  });

  test("a failing entry point: status, stderr head, outputs", async () => {
    const run = h.jobRun({ type: "pkg", payload: "pkg/fail.tar", parameters: { command: "run.sh" } });
    const err = await failure(pkgJob.run(run));
    expect(err.message).toBe("Failed with exit status 7");
    expect(err.data).toEqual({ exit_status: 7, output: [{ payload: "fail.tar", exit_status: 7, stderr: `${run.s3tmp}/fail.tar.stderr` }], error: "pkg-fail" });
  });

  test("the entry point must stay inside the package", async () => {
    const err = await failure(pkgJob.run(h.jobRun({ type: "pkg", payload: "pkg/pkg.tar.gz", parameters: { command: "../../../bin/sh" } })));
    expect(err.message).toBe("Bad command: ../../../bin/sh: the entry point must be inside the package");
  });

  test("command checks: none, both, over the size cap, missing payload", async () => {
    expect((await failure(pkgJob.run(h.jobRun({ type: "pkg", payload: "pkg/pkg.zip", parameters: {} })))).message).toBe("Bad job parameters: No command");
    expect((await failure(pkgJob.run(h.jobRun({ type: "pkg", payload: "pkg/pkg.zip", parameters: { command: "a", main: "b" } })))).message).toBe(
      'Bad job parameters: Only one of "command" or "main" (deprecated) allowed',
    );
    const big = await failure(pkgJob.run(h.jobRun({ type: "pkg", payload: "pkg/pkg.zip", parameters: { command: "run.sh" } }, { config: { PKG_MAX_PAYLOAD_SIZE: "10" } })));
    expect(big.message).toMatch(/Payload size \d+ exceeds maximum of 10$/);
    const none = await failure(pkgJob.run(h.jobRun({ type: "pkg", payload: ["pkg/pkg.zip", "pkg/none"], parameters: { command: "run.sh" } })));
    expect(none.message).toBe("No payload files downloaded from S3 for payload: pkg/none");
  });
});
