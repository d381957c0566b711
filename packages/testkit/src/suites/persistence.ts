import { type Change, compareHlc } from '@offsync/core';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import { databaseImage } from '../database-image.js';
import type { Harness } from '../harness.js';
import { toHex } from '../show-value.js';
import { expectConverged, sendAll } from './sync-helpers.js';
import { TODOS_SQL } from './todos.js';

/**
 * What survives a restart: site id, version, clock, synced tables, metadata, pending writes and an
 * unfinished alter. The connection itself is re-opened when the setup offers `reopen`; otherwise
 * only the replica is opened again over the same connection.
 *
 * @example
 * ```ts
 * describePersistence(harness, resolveOptions());
 * ```
 */
export function describePersistence(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const todos = { sql: TODOS_SQL, sync: ['todos'] };

  describe('persistence', () => {
    it(
      'site id, version, clock, tables and state survive a restart, and sync goes on',
      async () => {
        const a = await harness.peer(todos);
        const b = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?), (?, ?)', ['t1', 'milk', 't2', 'bread']);
        b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['b1', 'from b']);
        sendAll(b, a);
        a.run('DELETE FROM todos WHERE id = ?', ['t2']);
        const image = databaseImage(a.replica);
        const clock = a.replica.clock;
        const info = a.replica.tableInfo('todos');
        const changes = a.replica.changesSince(0).changes;
        // Written just before the restart and never read: still in the log.
        a.run('UPDATE todos SET done = 1 WHERE id = ?', ['t1']);

        const restarted = await harness.restart(a);
        expect(restarted.replica.site).toBe(a.replica.site);
        expect(restarted.replica.syncedTables()).toEqual(['todos']);
        expect(restarted.replica.tableInfo('todos')).toEqual(info);
        expect(compareHlc(restarted.replica.clock, clock)).toBeGreaterThanOrEqual(0);
        const pending = restarted.replica.changesSince(image.version).changes;
        expect(pending.map((change) => change.column)).toEqual(['done']);
        expect(compareHlc(pending[0]!.stamp, clock)).toBeGreaterThan(0);
        expect(restarted.replica.version).toBeGreaterThan(image.version);
        const byCell = (list: readonly Change[]): Change[] =>
          list
            .filter((change) => change.column !== 'done')
            .sort((x, y) =>
              `${toHex(x.pk)} ${x.column}`.localeCompare(`${toHex(y.pk)} ${y.column}`),
            );
        expect(byCell(restarted.replica.changesSince(0).changes)).toEqual(byCell(changes));
        sendAll(restarted, b);
        sendAll(b, restarted);
        expectConverged([restarted, b], ['todos']);
        const settled = databaseImage(restarted.replica);
        const again = await harness.restart(restarted);
        expect(databaseImage(again.replica)).toEqual(settled);
      },
      timeoutMs,
    );

    it(
      'an alter begun before a restart is committed after it',
      async () => {
        const a = await harness.peer(todos);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        a.replica.beginAlter('todos');
        a.exec('ALTER TABLE todos ADD COLUMN prio INTEGER DEFAULT 5');
        const restarted = await harness.restart(a);
        restarted.replica.commitAlter('todos');
        expect(restarted.replica.tableInfo('todos').schema.valueColumns).toEqual([
          'title',
          'done',
          'note',
          'prio',
        ]);
        const version = restarted.replica.version;
        restarted.run('UPDATE todos SET prio = 1 WHERE id = ?', ['t1']);
        expect(
          restarted.replica.changesSince(version).changes.map((change) => change.column),
        ).toEqual(['prio']);
      },
      timeoutMs,
    );
  });
}
