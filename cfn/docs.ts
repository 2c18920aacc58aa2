/** Markdown documentation generated from a built template: parameters, resources, outputs. */
import type { Json, Parameter, Template } from "./lib.ts";

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function constraint(p: Parameter): string {
  const parts: string[] = [];
  if (p.AllowedValues) parts.push(p.AllowedValues.map((v) => `\`${v}\``).join(", "));
  if (p.AllowedPattern) parts.push(`pattern \`${p.AllowedPattern}\``);
  if (p.MinValue !== undefined || p.MaxValue !== undefined) {
    parts.push(`${p.MinValue ?? "…"} to ${p.MaxValue ?? "…"}`);
  }
  if (p.MinLength !== undefined || p.MaxLength !== undefined) {
    parts.push(`length ${p.MinLength ?? 0} to ${p.MaxLength ?? "…"}`);
  }
  return parts.join("; ");
}

/** A short, readable form of a resource name (Fn::Sub text, or the logical id's Ref). */
function physicalName(props: Record<string, Json>): string {
  for (const key of ["TableName", "QueueName", "TopicName", "FunctionName", "RoleName", "ManagedPolicyName", "GroupName",
    "AliasName", "AutoScalingGroupName", "AlarmName", "Name", "LaunchTemplateName", "BucketName"]) {
    const value = props[key];
    if (typeof value === "string") return value;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const s = (value as Record<string, Json>)["Fn::Sub"];
      if (typeof s === "string") return s;
      const r = (value as Record<string, Json>).Ref;
      if (typeof r === "string") return `(parameter ${r})`;
    }
  }
  return "";
}

export function templateMarkdown(fileName: string, t: Template): string {
  const lines: string[] = [`# ${fileName}`, "", t.Description, "", ...t.Metadata.LavaDoc.summary, ""];
  const groups = t.Metadata["AWS::CloudFormation::Interface"]?.ParameterGroups ?? [
    { Label: { default: "Parameters" }, Parameters: Object.keys(t.Parameters) },
  ];
  lines.push("## Parameters", "");
  for (const group of groups) {
    if (groups.length > 1) lines.push(`### ${group.Label.default}`, "");
    lines.push("| Parameter | Type | Default | Allowed | Description |", "|---|---|---|---|---|");
    for (const name of group.Parameters) {
      const p = t.Parameters[name];
      if (!p) throw new Error(`${fileName}: parameter group names unknown parameter ${name}`);
      const dflt = p.Default === undefined ? "(required)" : p.Default === "" ? "(empty)" : `\`${p.Default}\``;
      lines.push(`| \`${name}\` | ${p.Type} | ${dflt} | ${cell(constraint(p))} | ${cell(p.Description)} |`);
    }
    lines.push("");
  }
  if (t.Conditions) {
    lines.push("## Conditions", "", ...Object.keys(t.Conditions).map((c) => `- \`${c}\``), "");
  }
  lines.push("## Resources", "", "| Logical id | Type | Name | Condition |", "|---|---|---|---|");
  for (const [id, r] of Object.entries(t.Resources)) {
    lines.push(`| \`${id}\` | ${r.Type} | ${cell(physicalName(r.Properties))} | ${r.Condition ?? ""} |`);
  }
  lines.push("");
  if (t.Outputs) {
    lines.push("## Outputs", "", "| Output | Export | Description |", "|---|---|---|");
    for (const [id, o] of Object.entries(t.Outputs)) {
      const name = o.Export?.Name;
      const exported = typeof name === "string" ? name : (name as Record<string, Json> | undefined)?.["Fn::Sub"];
      lines.push(`| \`${id}\` | ${exported ? `\`${String(exported)}\`` : ""} | ${cell(o.Description)} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
