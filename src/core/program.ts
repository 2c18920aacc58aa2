/** The name this process was invoked by (`lava`, `lava-worker`, ...), set once by src/main.ts. */
let name = "lava";

export function programName(): string {
  return name;
}

export function setProgramName(value: string): void {
  name = value;
}
