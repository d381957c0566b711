function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    const left = a as Record<string, unknown>;
    const right = b as Record<string, unknown>;
    return keys.every((key) => Object.hasOwn(right, key) && sameValue(left[key], right[key]));
  }
  return false;
}

/**
 * Whether two query results hold the same rows in the same order (values by type and content,
 * bytes by bytes, `1n` not equal to `1`). Used only when a live query starts over a result read
 * earlier: keeping the earlier array when nothing changed saves the component a render.
 *
 * @example
 * ```ts
 * sameRows([[1n, 'a']], [[1n, 'a']]); // true
 * ```
 */
export function sameRows(a: readonly unknown[], b: readonly unknown[]): boolean {
  return sameValue(a, b);
}
