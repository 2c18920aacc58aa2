/**
 * Small typed helpers for writing CloudFormation templates as TypeScript values.
 *
 * The templates are plain JSON once built; these helpers only make the sources shorter and catch typos
 * in intrinsic function names at type-check time.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export const ref = (name: string): Json => ({ Ref: name });
export const sub = (text: string, vars?: Record<string, Json>): Json =>
  vars ? { "Fn::Sub": [text, vars] } : { "Fn::Sub": text };
export const getAtt = (resource: string, attribute: string): Json => ({ "Fn::GetAtt": [resource, attribute] });
export const importValue = (exportName: string): Json => ({ "Fn::ImportValue": sub(exportName) });
export const noValue: Json = { Ref: "AWS::NoValue" };
export const ifc = (condition: string, whenTrue: Json, whenFalse: Json = noValue): Json => ({
  "Fn::If": [condition, whenTrue, whenFalse],
});
export const equals = (a: Json, b: Json): Json => ({ "Fn::Equals": [a, b] });
export const not = (condition: Json): Json => ({ "Fn::Not": [condition] });
export const and = (...conditions: Json[]): Json => ({ "Fn::And": conditions });
export const base64 = (value: Json): Json => ({ "Fn::Base64": value });

/** ARN of a resource in this stack's account and region, e.g. `arn("sqs", "lava-${realm}-*")`. */
export const arn = (service: string, resource: string, opts: { region?: boolean; account?: boolean } = {}): Json =>
  sub(
    `arn:\${AWS::Partition}:${service}:${opts.region === false ? "" : "${AWS::Region}"}:` +
      `${opts.account === false ? "" : "${AWS::AccountId}"}:${resource}`,
  );

export interface Parameter {
  Type: string;
  Description: string;
  Default?: string | number;
  AllowedValues?: (string | number)[];
  AllowedPattern?: string;
  MinLength?: number;
  MaxLength?: number;
  MinValue?: number;
  MaxValue?: number;
  ConstraintDescription?: string;
}

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  DeletionPolicy?: "Delete" | "Retain" | "Snapshot";
  UpdateReplacePolicy?: "Delete" | "Retain" | "Snapshot";
  Metadata?: Record<string, Json>;
  Properties: Record<string, Json>;
}

export interface Output {
  Description: string;
  Value: Json;
  Condition?: string;
  Export?: { Name: Json };
}

export interface ParameterGroup {
  label: string;
  parameters: string[];
}

export interface Template {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Metadata: {
    "AWS::CloudFormation::Interface"?: {
      ParameterGroups: { Label: { default: string }; Parameters: string[] }[];
    };
    /** Checks cfn-lint must skip for the whole template (each use says why). */
    "cfn-lint"?: { config: { ignore_checks: string[] } };
    /** Free text for the generated parameter documentation. */
    LavaDoc: { summary: string[] };
  };
  Parameters: Record<string, Parameter>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, Output>;
}

export function parameterGroups(groups: ParameterGroup[]): Template["Metadata"]["AWS::CloudFormation::Interface"] {
  return {
    ParameterGroups: groups.map((g) => ({ Label: { default: g.label }, Parameters: g.parameters })),
  };
}

/**
 * The read-only `Version` parameter. Its only allowed value is the lava version the template was built
 * for, so a stack update with a template of another version shows the change explicitly.
 */
export function versionParameter(version: string): Parameter {
  return {
    Type: "String",
    Description: "Lava version this template belongs to (read only).",
    Default: version,
    AllowedValues: [version],
  };
}

/** Standard `Yes`/`No` parameter. */
export function yesNo(description: string, dflt: "Yes" | "No"): Parameter {
  return { Type: "String", Description: description, Default: dflt, AllowedValues: ["Yes", "No"] };
}

export interface PolicyStatement {
  Sid: string;
  Effect?: "Allow" | "Deny";
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

export function policyDocument(statements: (PolicyStatement | Json)[]): Json {
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) =>
      typeof s === "object" && s !== null && "Sid" in s && "Action" in s
        ? ({ Effect: "Allow", ...s } as Json)
        : (s as Json),
    ),
  };
}

export function assumeRolePolicy(service: string): Json {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}

/** Tag list in the CloudFormation `[{Key, Value}]` form. */
export function tags(entries: Record<string, Json>): Json {
  return Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
}
