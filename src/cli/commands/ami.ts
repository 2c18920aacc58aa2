/**
 * `lava ami` / `lava-ami`: the lava AMIs of this account and the AMI each lava worker stack uses;
 * with `-U`, an interactive update of the worker stacks' AMI (platform.md §6).
 *
 * A worker stack is a CloudFormation stack whose parameters include realm, worker and amiId (sakAmiId
 * before lava 7.1). Stacks with an empty AMI parameter (no EC2 instance) are not listed.
 * The EC2 and CloudFormation SDKs are loaded only when this command runs.
 */
import { defineCommand } from "./index.ts";
import { createInterface } from "node:readline/promises";
import { UsageError } from "../../core/errors.ts";
import { str } from "../common.ts";
import { fnmatchRegExp } from "../../core/fnmatch.ts";

const IMAGE_LIMIT = 5;
const UPDATE_POLL_MS = 15_000;
const UPDATE_WAIT_MS = 10 * 60_000;
const AMI_PARAMS = ["amiId", "sakAmiId"] as const;

export interface AmiRow {
  id: string;
  name: string;
  created: string;
  python: string;
  lava: string;
  arch: string;
}

export interface StackRow {
  name: string;
  realm: string;
  worker: string;
  updated: string;
  amiId: string;
  /** amiId and/or the pre-7.1 sakAmiId: an update sets every one present. */
  amiParams: string[];
  capabilities: string[];
  parameterKeys: string[];
}

/** As the original's `fnmatchcase` of each pattern; no patterns match everything. */
export function matchesAny(name: string, patterns: string[]): boolean {
  return patterns.length === 0 || patterns.some((p) => fnmatchRegExp(p).test(name));
}

/** A plain text table (the original used tabulate's fancy_grid; the content is the same). */
export function table(headers: string[], rows: string[][], index = false): string {
  const head = index ? ["", ...headers] : headers;
  const body = rows.map((r, i) => (index ? [String(i), ...r] : r));
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) => `│ ${cells.map((v, c) => v.padEnd(widths[c]!)).join(" │ ")} │`;
  const rule = (l: string, m: string, r: string) => `${l}${widths.map((w) => "─".repeat(w + 2)).join(m)}${r}`;
  return [rule("╒", "╤", "╕").replace(/─/g, "═"), line(head), rule("╞", "╪", "╡").replace(/─/g, "═"), ...body.map(line), rule("╘", "╧", "╛").replace(/─/g, "═")].join("\n");
}

function clientConfig(profile: string | undefined): { profile?: string; region?: string } {
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  return { ...(profile ? { profile } : {}), ...(region ? { region } : {}) };
}

export async function listAmis(profile: string | undefined, patterns: string[]): Promise<AmiRow[]> {
  const ec2 = await import("@aws-sdk/client-ec2");
  const client = new ec2.EC2Client(clientConfig(profile));
  const out = await client.send(new ec2.DescribeImagesCommand({ Owners: ["self"], Filters: [{ Name: "state", Values: ["available"] }] }));
  const tag = (tags: { Key?: string; Value?: string }[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value ?? "";
  return (out.Images ?? [])
    .filter((img) => img.ImageId && img.Name && matchesAny(img.Name, patterns))
    .map((img) => ({
      id: img.ImageId!,
      name: img.Name!,
      created: (img.CreationDate ?? "").slice(0, 10),
      python: tag(img.Tags, "PythonVersion"),
      lava: tag(img.Tags, "LavaVersion"),
      arch: img.Architecture ?? "",
      sortKey: img.CreationDate ?? "",
    }))
    .sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0))
    .map(({ sortKey: _, ...row }) => row);
}

export async function listWorkerStacks(profile: string | undefined, patterns: string[]): Promise<StackRow[]> {
  const cfn = await import("@aws-sdk/client-cloudformation");
  const client = new cfn.CloudFormationClient(clientConfig(profile));
  const rows: StackRow[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new cfn.DescribeStacksCommand({ NextToken: token }));
    for (const s of page.Stacks ?? []) {
      if (!s.StackName || !matchesAny(s.StackName, patterns)) continue;
      const params = new Map((s.Parameters ?? []).map((p) => [p.ParameterKey ?? "", p.ParameterValue ?? ""]));
      const amiParams = AMI_PARAMS.filter((k) => params.has(k));
      if (!params.has("realm") || !params.has("worker") || amiParams.length === 0) continue;
      // A stack mid-way between the two names may have both; the first one set is the AMI in use.
      const amiId = amiParams.map((k) => params.get(k) ?? "").find((v) => v !== "");
      if (!amiId) continue;
      rows.push({
        name: s.StackName,
        realm: params.get("realm") ?? "",
        worker: params.get("worker") ?? "",
        updated: s.LastUpdatedTime ? s.LastUpdatedTime.toISOString().slice(0, 10) : "",
        amiId,
        amiParams,
        capabilities: s.Capabilities ?? [],
        parameterKeys: [...params.keys()],
      });
    }
    token = page.NextToken;
  } while (token);
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/** Sets the AMI parameter(s) of a worker stack, keeping its template and every other parameter. */
export async function updateStackAmi(profile: string | undefined, stack: StackRow, amiId: string): Promise<void> {
  const cfn = await import("@aws-sdk/client-cloudformation");
  const client = new cfn.CloudFormationClient(clientConfig(profile));
  await client.send(
    new cfn.UpdateStackCommand({
      StackName: stack.name,
      UsePreviousTemplate: true,
      Capabilities: stack.capabilities as never,
      Parameters: stack.parameterKeys.map((k) =>
        stack.amiParams.includes(k) ? { ParameterKey: k, ParameterValue: amiId } : { ParameterKey: k, UsePreviousValue: true },
      ),
    }),
  );
}

async function waitForUpdate(profile: string | undefined, name: string): Promise<string> {
  const cfn = await import("@aws-sdk/client-cloudformation");
  const client = new cfn.CloudFormationClient(clientConfig(profile));
  const deadline = Date.now() + UPDATE_WAIT_MS;
  for (;;) {
    const out = await client.send(new cfn.DescribeStacksCommand({ StackName: name }));
    const status = out.Stacks?.[0]?.StackStatus ?? "UNKNOWN";
    if (!status.endsWith("_IN_PROGRESS") || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, UPDATE_POLL_MS));
  }
}

export default defineCommand({
  meta: { description: "List lava AMIs and the AMI of each lava worker stack; -U to change them" },
  args: {
    n: { type: "string", valueHint: "N", description: `Only the N most recent AMIs (default ${IMAGE_LIMIT})` },
    sak: { type: "boolean", description: "Include SAK AMIs (sak-*) as well as lava-*" },
    profile: { type: "string", valueHint: "PROFILE", description: "AWS profile" },
    update: { type: "boolean", alias: "U", description: "Interactively choose a new AMI for each listed stack (needs stack patterns, not *)" },
    "no-wait": { type: "boolean", alias: "W", description: "Do not wait for stack updates to finish" },
    stacks: { type: "positional", required: false, valueHint: "STACK-NAME", description: "Stack name globs (default all)" },
  },
  async run({ args }) {
    const patterns = (args._ as string[]).filter((a) => a !== "");
    const limit = str(args.n) === undefined ? IMAGE_LIMIT : Number(args.n);
    if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`-n must be a whole number, not "${args.n}"`);
    if (args.update && (patterns.length === 0 || patterns.includes("*"))) {
      throw new UsageError("Update mode requires one or more stack patterns and * is not permitted");
    }
    const profile = str(args.profile);
    const stacks = await listWorkerStacks(profile, patterns);
    const allAmis = await listAmis(profile, args.sak ? ["lava-*", "sak-*"] : ["lava-*"]);
    const amis = allAmis.slice(0, limit);
    const nameOf = new Map(allAmis.map((a) => [a.id, a.name]));

    process.stdout.write("Lava Worker Stacks\n");
    process.stdout.write(
      `${table(["Stack Name", "Realm", "Worker", "Updated", "AMI ID", "AMI Name"], stacks.map((s) => [s.name, s.realm, s.worker, s.updated, s.amiId, nameOf.get(s.amiId) ?? ""]))}\n`,
    );
    process.stdout.write("Lava Compatible AMIs\n");
    process.stdout.write(`${table(["AMI ID", "AMI Name", "Created", "Lava", "Python", "Arch"], amis.map((a) => [a.id, a.name, a.created, a.lava, a.python, a.arch]), true)}\n`);
    if (!args.update) return 0;
    const noWait = args["no-wait"] === true || (args as { wait?: boolean }).wait === false;
    return interactiveUpdate(profile, stacks, amis, !noWait);
  },
});

async function interactiveUpdate(profile: string | undefined, stacks: StackRow[], amis: AmiRow[], wait: boolean): Promise<number> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (prompt: string): Promise<string | undefined> => {
    process.stdout.write(prompt);
    const next = await lines.next();
    return next.done ? undefined : next.value.trim();
  };
  const updated: string[] = [];
  try {
    for (const stack of stacks) {
      let choice: number | undefined;
      for (;;) {
        const answer = await ask(`\nNew AMI for ${stack.name}? (0-${amis.length - 1}, return to skip, q to quit) `);
        if (answer === undefined || answer === "q" || answer === "Q") return 0;
        if (answer === "") break;
        const n = Number(answer);
        if (Number.isInteger(n) && n >= 0 && n < amis.length) {
          choice = n;
          break;
        }
        process.stdout.write(`Bad response: ${answer}\n`);
      }
      if (choice === undefined) continue;
      const ami = amis[choice]!;
      if (ami.id === stack.amiId) {
        process.stdout.write("Current AMI and requested AMI are the same -- skipping\n");
        continue;
      }
      const yes = await ask(`Set AMI for ${stack.name} to ${ami.id} / ${ami.name}? (Only "yes" means yes) `);
      if ((yes ?? "").toLowerCase() !== "yes") continue;
      await updateStackAmi(profile, stack, ami.id);
      process.stdout.write(`Update of ${stack.name} initiated\n`);
      updated.push(stack.name);
    }
  } finally {
    rl.close();
  }
  if (wait) {
    for (const name of updated) process.stdout.write(`${name}: ${await waitForUpdate(profile, name)}\n`);
  }
  return 0;
}
