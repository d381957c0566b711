import { fc, test } from '@fast-check/vitest';
import type { Change } from '@offsync/core';
import { primaryKeyString } from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import type { ResolvedOptions } from '../conformance-options.js';
import type { Harness } from '../harness.js';
import type { Peer } from '../peer.js';
import { historyValueArbitrary } from '../value-arbitraries.js';
import { expectConverged } from './sync-helpers.js';
import { showChange, TODOS_SQL } from './todos.js';

/**
 * `changesSince` with `limit`: pages add up to the unpaged result, cursors move forward, rows are
 * never split, and the last page says so.
 *
 * @example
 * ```ts
 * describePaging(harness, resolveOptions());
 * ```
 */
export function describePaging(harness: Harness, options: ResolvedOptions): void {
  const { timeoutMs } = options;
  const schema = {
    sql: `${TODOS_SQL}; CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body)`,
    sync: ['todos', 'notes'],
  };

  const write = fc.record({
    kind: fc.constantFrom('insert' as const, 'update' as const, 'delete' as const),
    on: fc.constantFrom('a' as const, 'b' as const),
    key: fc.nat({ max: 3 }),
    column: fc.constantFrom('title', 'done', 'body'),
    value: historyValueArbitrary(),
  });
  type Write = typeof write extends fc.Arbitrary<infer W> ? W : never;
  const step = fc.oneof(
    write,
    fc.record({ kind: fc.constantFrom('flush' as const, 'merge' as const) }),
  );
  const apply = (peer: Peer, w: Write): void => {
    const table = w.column === 'body' ? 'notes' : 'todos';
    const id = `k${w.key}`;
    if (w.kind === 'insert') {
      peer.run(`INSERT OR IGNORE INTO ${table}(id, ${w.column}) VALUES (?, ?)`, [id, w.value]);
    } else if (w.kind === 'update') {
      peer.run(`UPDATE ${table} SET ${w.column} = ? WHERE id = ?`, [w.value, id]);
    } else {
      peer.run(`DELETE FROM ${table} WHERE id = ?`, [id]);
    }
  };

  describe('paging', () => {
    test.prop(
      [fc.array(step, { maxLength: 30, size: 'max' }), fc.nat(), fc.integer({ min: 1, max: 4 })],
      {
        numRuns: options.numRuns,
        seed: options.seed,
      },
    )(
      'pages of any size from any cursor add up to the changes since that cursor (random writes, folds, merges)',
      async (steps, start, limit) => {
        try {
          const a = await harness.peer(schema);
          const b = await harness.peer(schema);
          for (const s of steps) {
            if (s.kind === 'flush') a.replica.flush();
            else if (s.kind === 'merge') a.replica.applyChanges(b.replica.changesetSince(0).bytes);
            else if ('on' in s) apply(s.on === 'a' ? a : b, s);
          }
          const version = a.replica.version;
          const from = start % (version + 1);
          const pages: Change[] = [];
          let cursor = from;
          for (;;) {
            // Later pages resume after the previous one but keep every cell changed after `from`.
            const page = a.replica.changesSince(from, { limit, after: cursor });
            pages.push(...page.changes);
            cursor = page.cursor;
            if (!page.hasMore) break;
          }
          expect(pages).toEqual(a.replica.changesSince(from).changes);
        } finally {
          await harness.dispose();
        }
      },
      timeoutMs,
    );

    it(
      'pages of changesSince(limit) add up to the unpaged changes; cursors increase; hasMore is false at the end',
      async () => {
        const a = await harness.peer(schema);
        const b = await harness.peer(schema);
        for (let i = 0; i < 12; i++) {
          a.run('INSERT INTO todos(id, title) VALUES (?, ?)', [`t${i}`, `todo ${i}`]);
          a.run('INSERT INTO notes VALUES (?, ?)', [`n${i}`, BigInt(i)]);
          if (i % 3 === 0) a.replica.flush();
        }
        a.run('UPDATE todos SET done = 1 WHERE id IN (?, ?)', ['t3', 't7']);
        a.run('DELETE FROM notes WHERE id = ?', ['n5']);
        b.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['b1', 'from b']);
        a.replica.applyChanges(b.replica.changesetSince(0).bytes);
        a.run('UPDATE notes SET body = ? WHERE id = ?', ['last', 'n0']);

        const full = a.replica.changesSince(0);
        const version = a.replica.version;
        expect(full.hasMore).toBe(false);
        expect(full.cursor).toBe(version);
        const rowsOf = (changes: readonly Change[]): Set<string> =>
          new Set(changes.map((change) => `${change.table} ${primaryKeyString(change.pk)}`));
        expect(full.rows).toBe(rowsOf(full.changes).size);

        for (const limit of [1, 2, 3, 7, 24, 25, 1000]) {
          const pages: Change[][] = [];
          let cursor = 0;
          for (;;) {
            const page = a.replica.changesSince(0, { limit, after: cursor });
            expect(page.rows, `limit ${limit}`).toBeLessThanOrEqual(limit);
            expect(page.rows).toBe(rowsOf(page.changes).size);
            pages.push(page.changes);
            if (!page.hasMore) {
              expect(page.cursor, 'the last cursor is the version').toBe(version);
              break;
            }
            expect(page.rows, 'a page that says more follows is full').toBe(limit);
            expect(page.cursor, 'cursors increase').toBeGreaterThan(cursor);
            cursor = page.cursor;
          }
          expect(pages.flat(), `limit ${limit}`).toEqual(full.changes);
          const seen = new Set<string>();
          for (const page of pages) {
            const rows = rowsOf(page);
            for (const row of rows)
              expect(seen.has(row), `row ${row} split across pages`).toBe(false);
            for (const row of rows) seen.add(row);
          }
        }
        const end = a.replica.changesSince(version, { limit: 5 });
        expect(end).toEqual({ changes: [], cursor: version, hasMore: false, rows: 0 });
      },
      timeoutMs,
    );

    it(
      'a page never drops the older cells of a row whose newest write falls in it',
      async () => {
        // t1's row and title are written at sequence 1, its done at 3: the page after 2 holds t1
        // and must still carry t1's row and title, which no earlier page carried (a paged read
        // keeps its start, 0, and resumes `after` the previous page).
        const a = await harness.peer(schema);
        const b = await harness.peer(schema);
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t1', 'milk']);
        a.replica.flush();
        a.run('INSERT INTO todos(id, title) VALUES (?, ?)', ['t2', 'bread']);
        a.replica.flush();
        a.run('UPDATE todos SET done = 1 WHERE id = ?', ['t1']);
        const full = a.replica.changesSince(0).changes;
        const paged: Change[] = [];
        let cursor = 0;
        for (;;) {
          const page = a.replica.changesSince(0, { limit: 1, after: cursor });
          paged.push(...page.changes);
          b.replica.applyChanges(page.changes);
          cursor = page.cursor;
          if (!page.hasMore) break;
        }
        expect(paged.map(showChange).sort()).toEqual(full.map(showChange).sort());
        expectConverged([a, b], ['todos']);
      },
      timeoutMs,
    );

    it(
      'paged changesets applied one by one bring another replica to the same state',
      async () => {
        const a = await harness.peer(schema);
        const b = await harness.peer(schema);
        for (let i = 0; i < 10; i++) {
          a.run('INSERT INTO todos(id, title) VALUES (?, ?)', [`t${i}`, `todo ${i}`]);
          a.run('INSERT INTO notes VALUES (?, ?)', [`n${i}`, new Uint8Array([i])]);
        }
        a.run('DELETE FROM todos WHERE id = ?', ['t4']);
        let cursor = 0;
        let pages = 0;
        for (;;) {
          const page = a.replica.changesetSince(0, { limit: 3, after: cursor });
          b.replica.applyChanges(page.bytes);
          pages++;
          cursor = page.cursor;
          if (!page.hasMore) break;
        }
        expect(pages).toBe(7);
        expectConverged([a, b], ['todos', 'notes']);
      },
      timeoutMs,
    );
  });
}
