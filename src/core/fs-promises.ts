/**
 * node:fs/promises, loaded on first use: it costs Bun ~5 ms to load (CPU profile of the compiled worker),
 * and a worker's start, up to its first poll, needs none of it.
 */
export const fsp = () => process.getBuiltinModule("node:fs/promises");
