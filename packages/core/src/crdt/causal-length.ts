/**
 * Causal length of a row that has never existed on this replica.
 *
 * @example
 * ```ts
 * nextInsertCl(NEVER_EXISTED); // 1
 * ```
 */
export const NEVER_EXISTED = 0;

/**
 * Whether a causal length means present (odd) rather than deleted or never seen (even).
 *
 * @example
 * ```ts
 * isLive(3); // true: resurrected once
 * ```
 */
export function isLive(cl: number): boolean {
  return (cl & 1) === 1;
}

/**
 * Causal length after a local insert: the next odd number (a present row keeps its life).
 *
 * @example
 * ```ts
 * nextInsertCl(2); // 3: re-insert after delete
 * ```
 */
export function nextInsertCl(cl: number): number {
  return isLive(cl) ? cl : cl + 1;
}

/**
 * Causal length after a local delete: the next even number (a deleted row stays deleted).
 *
 * @example
 * ```ts
 * nextDeleteCl(1); // 2
 * ```
 */
export function nextDeleteCl(cl: number): number {
  return isLive(cl) ? cl + 1 : cl;
}
