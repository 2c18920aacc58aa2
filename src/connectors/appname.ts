/**
 * Client application names (CONN_APP_NAME, a Jinja template of realm, job_id and conn_id) as the original
 * makes them: no name unless all three are known; quotes and backslashes removed.
 */
import { renderTemplate } from "../jinja/index.ts";
import { connAppNameContext } from "../jinja/contexts.ts";
import type { LavaConfig } from "../core/config.ts";

export function cleanApplicationName(name: string): string {
  return name.replace(/['"\\]/g, "");
}

export function applicationName(config: LavaConfig, connId: string, realm: string | undefined, jobId: string | undefined): string | undefined {
  const template = config.str("CONN_APP_NAME");
  if (!realm || !jobId || !connId || !template) return undefined;
  return cleanApplicationName(renderTemplate(template, connAppNameContext(realm, jobId, connId)));
}

/** STS role session names: word characters and `=,.@-` only (others become `.`), at most 64. */
export function roleSessionName(name: string | undefined): string {
  const cleaned = (name ?? "")
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .replace(/[^\w=,.@-]+/g, ".")
    .replace(/^\W+/, "");
  return (cleaned || "lava").slice(0, 64);
}
