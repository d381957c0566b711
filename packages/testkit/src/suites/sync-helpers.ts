import { expect } from 'vitest';
import type { Peer } from '../peer.js';
import { toHex } from '../show-value.js';

/**
 * Sends everything `from` holds to `to`, as changeset bytes.
 *
 * @example
 * ```ts
 * sendAll(a, b);
 * ```
 */
export function sendAll(from: Peer, to: Peer): void {
  to.replica.applyChanges(from.replica.changesetSince(0).bytes);
}

/**
 * Asserts that two peers hold the same rows in `tables` and byte-equal dumps.
 *
 * @example
 * ```ts
 * expectConverged([a, b], ['todos']);
 * ```
 */
export function expectConverged(peers: readonly Peer[], tables: readonly string[]): void {
  const [first, ...rest] = peers;
  for (const peer of rest) {
    for (const table of tables)
      expect(peer.rows(table), `rows of ${table}`).toEqual(first!.rows(table));
    expect(toHex(peer.replica.dump()), 'dump').toBe(toHex(first!.replica.dump()));
  }
}
