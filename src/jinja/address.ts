/**
 * Stand-ins for CPython's `id()` addresses in reprs (`<function f at 0x7f...>`): stable per object for
 * the life of the process and distinct between objects, so equal reprs mean the same object.
 */
const addresses = new WeakMap<object, string>();
let next = 0x7f3a1c000000;

export function objectAddress(o: object): string {
  let a = addresses.get(o);
  if (a === undefined) {
    a = `0x${next.toString(16)}`;
    next += 0x40;
    addresses.set(o, a);
  }
  return a;
}
