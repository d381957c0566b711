import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { expectConverged } from './sync-helpers.js';
import { TODOS_SQL } from './todos.js';

/**
 * Serverless exchange with version vectors.
 *
 * @example
 * ```ts
 * describePeerToPeer(harness, resolveOptions());
 * ```
 */
export function describePeerToPeer(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const todos = { sql: TODOS_SQL, sync: ['todos'] };
  const pull = (into: Peer, from: Peer): number =>
    into.replica.applyChanges(from.replica.changesSinceVector(into.replica.versionVector())).rows;

  describe('peer to peer', () => {
    it(
      'three replicas converge through version vectors alone, with no server',
      async () => {
        const [a, b, c] = [
          await harness.peer(todos),
          await harness.peer(todos),
          await harness.peer(todos),
        ];
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'a1', 't2', 'a2']);
        b.env.advance(3);
        b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t3', 'b3']);
        c.env.advance(5);
        c.run('INSERT INTO todos(id, title, done) VALUES (?, ?, ?)', ['t1', 'c1', 7n]);
        expect(a.replica.changesSinceVector({})).toEqual(a.replica.changesSince(0).changes);
        pull(b, a);
        b.run('UPDATE todos SET note = ? WHERE id = ?', ['seen by b', 't2']);
        pull(c, b);
        c.run('DELETE FROM todos WHERE id = ?', ['t3']);
        pull(a, c);
        a.run('UPDATE todos SET done = 9 WHERE id = ?', ['t2']);
        for (let round = 0; round < 2; round++) {
          for (const [into, from] of [
            [b, a],
            [c, b],
            [a, c],
          ] as const)
            pull(into, from);
        }
        expectConverged([a, b, c], ['todos']);
        for (const into of [a, b, c]) {
          for (const from of [a, b, c]) {
            expect(from.replica.changesSinceVector(into.replica.versionVector())).toEqual([]);
          }
        }
        expect(Object.keys(a.replica.versionVector()).sort()).toEqual(
          [a, b, c].map((peer) => peer.replica.site).sort(),
        );
        expect(a.replica.versionVector()).toEqual(b.replica.versionVector());
      },
      timeoutMs,
    );
  });
}
