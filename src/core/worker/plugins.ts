/**
 * Finds job types and action kinds by name through their registries, loading a registry (and through
 * it, a handler's own dependencies) only when a run first needs it, so an idle worker stays small.
 */
import type { JobType } from "../job-contract.ts";
import type { ActionKind } from "../../actions/types.ts";

type Entry<T> = T | (() => T | Promise<T> | Promise<{ default: T }>);
type Registry<T> = ReadonlyMap<string, Entry<T>> | Readonly<Record<string, Entry<T>>>;

function lookup<T>(registry: Registry<T>, name: string): Entry<T> | undefined {
  if (registry instanceof Map) return registry.get(name);
  const rec = registry as Readonly<Record<string, Entry<T>>>;
  return Object.hasOwn(rec, name) ? rec[name] : undefined;
}

async function resolveEntry<T extends { run: unknown }>(entry: Entry<T> | undefined): Promise<T | undefined> {
  if (entry === undefined) return undefined;
  if (typeof entry !== "function") return entry;
  const loaded = await (entry as () => unknown)();
  if (loaded && typeof loaded === "object" && "default" in loaded) return (loaded as { default: T }).default;
  return loaded as T;
}

let jobTypesPromise: Promise<Registry<JobType>> | undefined;
let actionKindsPromise: Promise<Registry<ActionKind>> | undefined;

export async function findJobType(name: string): Promise<JobType | undefined> {
  jobTypesPromise ??= import("../../handlers/registry.ts").then((m) => m.jobTypes as Registry<JobType>);
  return resolveEntry(lookup(await jobTypesPromise, name));
}

export async function findActionKind(name: string): Promise<ActionKind | undefined> {
  actionKindsPromise ??= import("../../actions/registry.ts").then((m) => m.actionKinds as Registry<ActionKind>);
  return resolveEntry(lookup(await actionKindsPromise, name));
}
