import { compareHlc, type Hlc } from '../hlc/hlc.js';

/**
 * Per-column last-writer-wins: whether an incoming write replaces the local one. It wins iff its
 * stamp is strictly greater; equal stamps are the same write, so re-delivery is a no-op. A cell
 * with no local stamp (never written in the current life) always takes the incoming write.
 *
 * @example
 * ```ts
 * if (incomingWins(change.stamp, local.stampOf(change.column))) apply(change);
 * ```
 */
export function incomingWins(incoming: Hlc, local: Hlc | undefined): boolean {
  return local === undefined || compareHlc(incoming, local) > 0;
}
