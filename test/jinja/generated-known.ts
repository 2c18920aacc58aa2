/**
 * Generated cases that still differ from Python, each with the reason; every entry is also described
 * in src/jinja/README.md ("Known differences"). A listed case that starts to agree fails the run, so
 * the list stays true.
 */
export const GENERATED_KNOWN: ReadonlyMap<string, string> = new Map<string, string>([]);
