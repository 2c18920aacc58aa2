/**
 * Renders run templates in worker threads (docs/WORKER.md, "Stalls and visibility").
 *
 * Every job slot, the visibility keeper, the event writer and the heartbeat share one event loop; a
 * template that takes 20 s to render would stop all their timers for 20 s, long enough for another
 * run's message to become visible and be run twice. So renders go to a thread: the loop only waits for
 * the answer. Threads start on demand, at most one per job slot (a slow render holds up only its own
 * run), and stay for later renders; `close()` ends them (worker exit, hard stop).
 *
 * A request that cannot be copied to a thread (a value structured clone refuses) is rendered on the
 * loop instead, as before.
 *
 * A thread's handle is held (ref) exactly while it has renders to answer: the answer is a message from
 * the thread, and a promise keeps no handle of its own, so with an unref'd thread a process whose only
 * pending work was a render exited mid-run (a batch worker's last sql job, between two statements).
 * Idle threads hold nothing, so they never keep a finished process alive.
 */
import type { Logger } from "../log.ts";
import { rebuildTemplateError, renderRequest, type RenderRequest } from "./render.ts";
import type { ThreadError } from "./render-thread.ts";

interface Pending {
  resolve(text: string): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  busy: number;
}

export class RenderPool {
  private readonly threads: Thread[] = [];
  private readonly pending = new Map<number, Pending & { thread: Thread }>();
  private nextId = 1;
  private closed = false;
  /** Renders done on a thread (tests). */
  threaded = 0;

  constructor(
    private readonly maxThreads: number,
    private readonly log?: Logger,
  ) {}

  async render(req: RenderRequest): Promise<string> {
    if (this.closed) throw new Error("template rendering stopped (worker stopping)");
    const thread = this.pick();
    const id = this.nextId++;
    const answer = new Promise<string>((resolve, reject) => this.pending.set(id, { resolve, reject, thread }));
    try {
      thread.worker.postMessage({ id, req });
    } catch (err) {
      this.pending.delete(id);
      if (!(err instanceof DOMException && err.code === DOMException.DATA_CLONE_ERR)) throw err;
      this.log?.debug(`Rendering on the event loop: ${err.message}`, { event_type: "worker" });
      return renderRequest(req);
    }
    if (thread.busy++ === 0) thread.worker.ref();
    return answer;
  }

  /** Ends every thread; renders in progress fail. */
  close(): void {
    this.closed = true;
    for (const t of this.threads.splice(0)) t.worker.terminate();
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error("template rendering stopped (worker stopping)"));
    }
  }

  /** An idle thread, a new one while below the limit, else the least busy. */
  private pick(): Thread {
    const idle = this.threads.find((t) => t.busy === 0);
    if (idle) return idle;
    if (this.threads.length < this.maxThreads) return this.spawn();
    return this.threads.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  private spawn(): Thread {
    const worker = new Worker(threadEntry());
    const thread: Thread = { worker, busy: 0 };
    worker.unref();
    worker.onmessage = (event: MessageEvent<{ id: number; text?: string; error?: ThreadError }>) => this.answer(event.data);
    worker.onerror = (event) => this.lost(thread, new Error(`render thread failed: ${event.message}`));
    worker.addEventListener("close", () => this.lost(thread, new Error("render thread ended")));
    this.threads.push(thread);
    return thread;
  }

  private answer(data: { id: number; text?: string; error?: ThreadError }): void {
    const p = this.pending.get(data.id);
    if (!p) return;
    this.pending.delete(data.id);
    if (--p.thread.busy === 0) p.thread.worker.unref();
    this.threaded++;
    if (data.error) p.reject(threadError(data.error));
    else p.resolve(data.text ?? "");
  }

  /** A thread that died takes its renders with it: they fail, and the next render starts a new thread. */
  private lost(thread: Thread, err: Error): void {
    const i = this.threads.indexOf(thread);
    if (i < 0) return;
    this.threads.splice(i, 1);
    thread.worker.terminate();
    for (const [id, p] of this.pending) {
      if (p.thread !== thread) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }
}

/**
 * Where the thread's code is. From source, beside this file. In the compiled executable every entry point
 * (build/compile.ts lists this one) is bundled by its path from the bundle's root, which is the
 * repository's (`/$bunfs/root/src/core/worker/render-thread.js`, seen in the executable's strings), and
 * found by that relative name; this file's own URL there is a chunk's, so the URL form would not resolve.
 * test/dist checks that the executable renders a template (a `cmd` job).
 */
function threadEntry(): string | URL {
  if (import.meta.url.includes("/$bunfs/") || import.meta.url.includes("~BUN")) return "./src/core/worker/render-thread.ts";
  return new URL("./render-thread.ts", import.meta.url);
}

function threadError(e: ThreadError): Error {
  if (e.kind === "template") return rebuildTemplateError(e.cls, e.detail, { line: e.line, column: e.column, name: e.templateName }, e.pyType);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
