/**
 * `event`: puts one event on an EventBridge bus. Default detail: realm, worker, job_id, run_id, exit_status.
 *
 * Divergence: the original's default detail fails on retry/fail results (they carry no `exit_status`); we take
 * it from `error_data` when present, else null.
 */
import type { ActionKind } from "./types.ts";
import type { EventBusEntry } from "../ports/index.ts";
import { pyJsonDumps } from "../core/pyformat.ts";
import { ActionError, checkFields, renderPlain } from "./support.ts";

const OPTIONAL = ["detail", "source", "resources", "detail_type", "event_bus"] as const;

export const eventAction: ActionKind = {
  name: "event",
  async run(action) {
    checkFields(action, ["action"], OPTIONAL);
    const spec = action.spec;
    const render = (_field: string, v: unknown) => renderPlain(action, v);
    const entry: EventBusEntry = {
      source: "source" in spec ? await render("source", spec.source) : `lava.${action.run.realm.realm}`,
      detailType: "detail_type" in spec ? await render("detail_type", spec.detail_type) : "Lava Job Action",
      detail: pyJsonDumps(await detail(action, render)),
    };
    if ("event_bus" in spec) entry.eventBus = await render("event_bus", spec.event_bus);
    if ("resources" in spec) {
      if (!Array.isArray(spec.resources)) throw new ActionError("resources must be a list");
      const resources: string[] = [];
      for (const r of spec.resources) resources.push(await render("resources", r));
      entry.resources = resources;
    }
    try {
      await action.run.ports.eventBus.putEvents([entry]);
    } catch (e) {
      throw new ActionError(`Failed to put event to EventBridge: ${(e as Error).message}`);
    }
  },
};

async function detail(action: Parameters<ActionKind["run"]>[0], render: (field: string, v: unknown) => Promise<string>): Promise<unknown> {
  const given = action.spec.detail;
  if (given === undefined) {
    const job = action.run.job;
    const errorData = action.result.error_data as Record<string, unknown> | null | undefined;
    return {
      realm: action.run.realm.realm,
      worker: job.worker,
      job_id: job.job_id,
      run_id: job.run_id,
      exit_status: action.result.exit_status ?? errorData?.exit_status ?? null,
    };
  }
  if (typeof given === "string") return render("detail", given);
  if (typeof given === "object" && given !== null && !Array.isArray(given)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(given)) out[k] = await render("detail", v);
    return out;
  }
  throw new ActionError("detail must be a string or map of strings");
}
