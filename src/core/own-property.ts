/**
 * `obj[key] = value` as an own data property, whatever the key: `__proto__` (or a setter up the chain)
 * never changes an object's prototype or runs code. For maps built from untrusted keys (dispatch
 * parameters, rendered structures). The template engine keeps its own copy (src/jinja is self-contained).
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
