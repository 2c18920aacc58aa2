/** Reading items from YAML or JSON files (`-` = stdin): one item, a list of items, or several YAML documents. */
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

export interface SourcedItem {
  /** `jobs.yaml` or `jobs.yaml[2]`, for error messages. */
  where: string;
  value: unknown;
}

export class ItemFileError extends Error {
  override name = "ItemFileError";
}

export function readItemFile(path: string): SourcedItem[] {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (e) {
    throw new ItemFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const name = path === "-" ? "stdin" : path;
  const docs = parseAllDocuments(text);
  const values: unknown[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      // The parser's first line ends with ":" before a code frame we leave out.
      throw new ItemFileError(`${name}: not valid YAML or JSON: ${err.message.split("\n")[0]!.replace(/:\s*$/, "")}`);
    }
    const v: unknown = doc.toJS({ maxAliasCount: 100 });
    if (v === null || v === undefined) continue;
    values.push(v);
  }
  const flat = values.length === 1 && Array.isArray(values[0]) ? (values[0] as unknown[]) : values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  if (flat.length === 0) throw new ItemFileError(`${name}: no items`);
  return flat.map((value, i) => ({ where: flat.length > 1 ? `${name}[${i}]` : name, value }));
}
