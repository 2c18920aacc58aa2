/**
 * Queue URLs remembered across processes, so a dispatch costs two requests (the job's GetItem and
 * SendMessage) instead of three: GetQueueUrl is sent once per queue per host and user, not once per
 * `lava-dispatcher` run. A queue's URL is fixed by its account, region and name, so a remembered one stays
 * right while the queue exists; when a call on one fails as "no such queue" (the queue was deleted, or the
 * credentials now belong to another account: SQS answers both alike), it is forgotten and looked up again.
 *
 * The file (`$XDG_CACHE_HOME/lava/sqs-queue-urls.json`, else `$HOME/.cache/lava/...`) decides where
 * dispatches, and their parameters, are sent; so it is used only when it and its directory belong to this
 * user and nobody else may write to them, and it is written 0600 in a 0700 directory. Without a home
 * directory (a Lambda), URLs are remembered for the life of the process only.
 *
 * Entries are scoped by what decides the account and endpoint: region, SQS endpoint, profile and static
 * access key id, kept as a digest of those and the queue name.
 */
/** Remembered URLs beyond this are dropped, oldest first: a host talks to a handful of queues. */
const MAX_ENTRIES = 500;
const FILE_NAME = "sqs-queue-urls.json";
/**
 * Filesystem refusals that only mean "no memory here" (read-only or full home, a path component that is a
 * file): the URL is then looked up each time, as without this file. Anything else is a real failure.
 */
const UNUSABLE = new Set(["EACCES", "EPERM", "EROFS", "ENOSPC", "ENOTDIR", "ENOENT", "EDQUOT"]);

function unusable(err: unknown): boolean {
  return UNUSABLE.has((err as NodeJS.ErrnoException)?.code ?? "");
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

export interface QueueUrlMemory {
  get(name: string): Promise<string | undefined>;
  remember(name: string, url: string): Promise<void>;
  forget(name: string): Promise<void>;
}

/** Where the file lives, or undefined when this environment has no home for it. */
export function queueUrlFile(env: NodeJS.ProcessEnv): string | undefined {
  // String joins, not node:path: this runs in every dispatcher's start, where each built-in costs (docs/BENCHMARKS.md).
  const base = env.XDG_CACHE_HOME || (env.HOME ? `${env.HOME.replace(/\/+$/, "")}/.cache` : undefined);
  return base ? `${base.replace(/\/+$/, "")}/lava/${FILE_NAME}` : undefined;
}

export class FileQueueUrlMemory implements QueueUrlMemory {
  private entries: Promise<Map<string, string>> | undefined;

  constructor(
    private readonly file: string,
    /** Region, endpoint, profile, static key: entries of other scopes are kept but not used. */
    private readonly scope: string,
    private readonly uid: number = process.getuid?.() ?? -1,
  ) {}

  async get(name: string): Promise<string | undefined> {
    return (await this.load()).get(this.key(name));
  }

  async remember(name: string, url: string): Promise<void> {
    const map = await this.load();
    const key = this.key(name);
    if (map.get(key) === url) return;
    map.delete(key);
    map.set(key, url);
    while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value!);
    await this.save(map);
  }

  async forget(name: string): Promise<void> {
    const map = await this.load();
    if (map.delete(this.key(name))) await this.save(map);
  }

  /** A digest, so the file names no endpoint, profile or access key id. */
  private key(name: string): string {
    return new Bun.CryptoHasher("sha256").update(`${this.scope}\n${name}`).digest("hex");
  }

  /**
   * Starts reading the file now, so that it is read while the process waits for its first requests (a
   * dispatcher's GetItem) instead of after them. A failure reaches whoever calls `get` and friends, as
   * without this; the handler here only keeps it from counting as unhandled when nobody asks.
   */
  preload(): void {
    this.load().catch(() => {});
  }

  private load(): Promise<Map<string, string>> {
    this.entries ??= this.read();
    return this.entries;
  }

  /** The file's entries when it can be trusted; an absent, foreign or malformed file counts as empty. */
  private async read(): Promise<Map<string, string>> {
    const file = Bun.file(this.file);
    let parsed: unknown;
    try {
      // The file's and its directory's stat at once: each is a round trip to Bun's I/O threads.
      const [mine, dirMine] = await Promise.all([this.ours(this.file), this.ours(parentOf(this.file))]);
      if (!mine || !dirMine) return new Map();
      parsed = await file.json();
    } catch (err) {
      // Edited by hand into something else than JSON, or gone or unreadable since: start afresh.
      if (err instanceof SyntaxError || unusable(err)) return new Map();
      throw err;
    }
    const map = new Map<string, string>();
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed)) if (typeof v === "string" && /^https?:\/\//.test(v)) map.set(k, v);
    }
    return map;
  }

  /**
   * Owned by this user (root may use its own only) and writable by nobody else. Bun's stat, not
   * node:fs's: loading node:fs would cost a dispatcher more (~10 ms) than the request this file saves.
   */
  private async ours(path: string): Promise<boolean> {
    const st = await Bun.file(path).stat();
    return st.uid === this.uid && (st.mode & 0o022) === 0;
  }

  /** Atomic: written beside the file, then renamed over it, so readers never see half a file. */
  private async save(map: Map<string, string>): Promise<void> {
    const { mkdir, rename, rm, writeFile } = await import("node:fs/promises");
    const dir = parentOf(this.file);
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (!(await this.ours(dir))) return;
      // "wx": a file already at the temporary name (another process of ours mid-save) is left alone.
      await writeFile(tmp, JSON.stringify(Object.fromEntries(map)), { mode: 0o600, flag: "wx" });
    } catch (err) {
      if (unusable(err) || (err as NodeJS.ErrnoException)?.code === "EEXIST") return;
      throw err;
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      if (unusable(err)) return;
      throw err;
    }
  }
}
