/**
 * Reads the parameter tables of the installation chapter (the seed document): each table starts with a
 * header line `Parameter Description` or `Parameter Required Description` and ends at a blank line; the
 * first word of each row is the parameter name.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SEED_CHAPTER } from "../support/shared.ts";

export { SEED_CHAPTER };

export function seedAvailable(): boolean {
  return existsSync(SEED_CHAPTER);
}

/** Parameter tables (lists of names) found between the line `start` and the line `end`. */
export function seedParameterTables(start: string, end: string, text = readFileSync(SEED_CHAPTER, "utf8")): string[][] {
  const lines = text.split(/\r?\n/);
  const from = lines.indexOf(start);
  const to = lines.indexOf(end, from + 1);
  if (from < 0 || to < 0) throw new Error(`seed chapter: section ${start} … ${end} not found`);
  const tables: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines.slice(from, to)) {
    if (/^Parameter( Required)? Description$/.test(line)) {
      current = [];
      tables.push(current);
    } else if (current && line.trim() === "") {
      current = undefined;
    } else if (current) {
      current.push(line.split(/\s+/)[0]!);
    }
  }
  return tables;
}

export const realmSeedTables = () => seedParameterTables("The Lava Realm CloudFormation Template", "Creating a Lava Worker");
export const workerSeedTables = () => seedParameterTables("The Lava Worker CloudFormation Template", "Desktop Lava Workers");
