/** The name this process was invoked by (`lava`, `lava-worker`, ...), set once by src/main.ts. */
let name = "lava";

export function programName(): string {
  return name;
}

export function setProgramName(value: string): void {
  name = value;
}

/**
 * The argv that runs this same program again: the executable alone when compiled (Bun's compiled
 * programs see their entry as a `/$bunfs/` path), else the runtime plus the entry script.
 */
export function selfCommand(): string[] {
  const entry = Bun.main;
  if (entry.startsWith("/$bunfs/") || entry.includes("~BUN")) return [process.execPath];
  return [process.execPath, entry];
}
