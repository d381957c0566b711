import { type Change, MemoryReplica, quoteIdentifier, type SqlValue } from '@offsync/core';
import { decodeChangeset } from '@offsync/core/codec';
import { expect } from 'vitest';
import { storedWithoutAffinity } from './affinity.js';
import type { Harness } from './harness.js';
import type { HistoryStep } from './history-steps.js';
import { HISTORY_SQL, HISTORY_TABLES, type HistoryTable } from './history-tables.js';
import { MANUAL_START_MS } from './manual-env.js';
import type { Peer } from './peer.js';
import { prng, scramble, split } from './scramble.js';
import { showSqlValue, toHex } from './show-value.js';

/**
 * How to run a history.
 *
 * @example
 * ```ts
 * const options: HistoryOptions = { harnesses: [h, h, h], seed: 7, reference: true };
 * ```
 */
export interface HistoryOptions {
  /** Where each replica's database comes from, one per replica (mix setups to mix drivers). */
  readonly harnesses: readonly Harness[];
  /** Seed of the final exchange's shuffles, duplicates and splits. */
  readonly seed: number;
  /**
   * Mirror every step on a `MemoryReplica` (the reference model) and check after every step that
   * each SQLite replica's dump equals its mirror's. Local writes are then flushed one by one (so
   * each gets its own stamp, as in the model) and `INSERT OR REPLACE` is not used.
   */
  readonly reference?: boolean;
}

/**
 * The replicas after a history and its final exchange (everything every replica published,
 * delivered to every replica, shuffled, duplicated and split).
 *
 * @example
 * ```ts
 * const { peers } = await runHistory(steps, options);
 * ```
 */
export interface HistoryOutcome {
  /** The SQLite replicas. */
  readonly peers: readonly Peer[];
  /** Their mirrors in the reference model (with `reference`). */
  readonly mirrors: readonly MemoryReplica[] | undefined;
  /** Messages published. */
  readonly messages: number;
}

function where(table: HistoryTable): string {
  return table.keyColumns.map((column) => `${quoteIdentifier(column)} = ?`).join(' AND ');
}

/**
 * The rows of a history table on a SQLite replica, shown exactly, sorted.
 *
 * @example
 * ```ts
 * expect(tableRows(b, 'items')).toEqual(tableRows(a, 'items'));
 * ```
 */
export function tableRows(peer: Peer, table: string): string[] {
  return peer
    .all(`SELECT * FROM ${quoteIdentifier(table)}`)
    .map((row) => row.map(showSqlValue).join(' | '))
    .sort();
}

/**
 * The rows of a history table in the reference model, shown like {@link tableRows}.
 *
 * @example
 * ```ts
 * expect(tableRows(peer, 'items')).toEqual(mirrorRows(mirror, HISTORY_TABLES[0]!));
 * ```
 */
export function mirrorRows(mirror: MemoryReplica, table: HistoryTable): string[] {
  return mirror
    .rows(table.name)
    .map((row) =>
      table.memory.columns.map((column) => showSqlValue(row[column] ?? null)).join(' | '),
    )
    .sort();
}

/**
 * Runs a random history on fresh SQLite replicas (one database per replica, from its harness):
 * app writes through each replica's own driver as plain SQL, exchanges by cursor pages and
 * version vectors, deliveries repeated and out of order, flushes, restarts and clock ticks; then
 * the final exchange. The caller compares the replicas (and disposes of the harnesses).
 *
 * @example
 * ```ts
 * const outcome = await runHistory(steps, { harnesses: [h, h, h], seed });
 * const dumps = outcome.peers.map((peer) => toHex(peer.replica.dump()));
 * expect(new Set(dumps).size).toBe(1);
 * ```
 */
export async function runHistory(
  steps: readonly HistoryStep[],
  options: HistoryOptions,
): Promise<HistoryOutcome> {
  const count = options.harnesses.length;
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) {
    peers.push(
      await options.harnesses[i]!.peer({
        seed: i + 1,
        startMs: MANUAL_START_MS + i * 7,
        sql: HISTORY_SQL,
        sync: HISTORY_TABLES.map((table) => table.name),
      }),
    );
  }
  const mirrors = options.reference
    ? peers.map((peer) => {
        const mirror = new MemoryReplica({ env: peer.env, site: peer.replica.site });
        for (const table of HISTORY_TABLES) mirror.createTable(table.memory);
        return mirror;
      })
    : undefined;
  // Paged reads keep where their run of pages began (`origins`) and resume after the last page
  // (`cursors`): a page's cursor alone would lose older cells of rows listed later.
  const origins = peers.map(() => 0);
  const cursors = peers.map(() => 0);
  const messages: Uint8Array[] = [];

  const apply = (replica: number, input: Uint8Array | readonly Change[]): void => {
    peers[replica]!.replica.applyChanges(input);
    mirrors?.[replica]?.apply(input instanceof Uint8Array ? decodeChangeset(input).changes : input);
  };
  const check = (replica: number, index: number, step: HistoryStep | 'final'): void => {
    if (!mirrors) return;
    const where = `replica ${replica} after step ${index} ${JSON.stringify(step, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
    expect(toHex(peers[replica]!.replica.dump()), `dump of ${where}`).toBe(
      toHex(mirrors[replica]!.dump()),
    );
  };

  for (const [index, step] of steps.entries()) {
    switch (step.kind) {
      case 'insert': {
        const peer = peers[step.replica]!;
        const table = HISTORY_TABLES[step.table]!;
        const key = table.key(step.key);
        const values = table.valueColumns.map((_, i) => step.values[i] ?? null);
        const present = peer.all(`SELECT 1 FROM ${table.name} WHERE ${where(table)}`, key).length;
        const columns = [...table.keyColumns, ...table.valueColumns].join(', ');
        const params = new Array(columns.split(',').length).fill('?').join(', ');
        if (!present) {
          peer.run(`INSERT INTO ${table.name}(${columns}) VALUES (${params})`, [...key, ...values]);
          if (mirrors) {
            const row: Record<string, SqlValue> = {};
            table.keyColumns.forEach((column, i) => {
              row[column] = key[i]!;
            });
            table.valueColumns.forEach((column, i) => {
              row[column] = storedWithoutAffinity(values[i]!);
            });
            mirrors[step.replica]!.insert(table.name, row);
          }
        } else if (step.replace && !mirrors) {
          peer.run(`INSERT OR REPLACE INTO ${table.name}(${columns}) VALUES (${params})`, [
            ...key,
            ...values,
          ]);
        }
        break;
      }
      case 'update': {
        const peer = peers[step.replica]!;
        const table = HISTORY_TABLES[step.table]!;
        const set = new Map<string, SqlValue>();
        for (const { column, value } of step.set) {
          set.set(table.valueColumns[column % table.valueColumns.length]!, value);
        }
        const assignments = [...set.keys()].map((column) => `${column} = ?`).join(', ');
        const key = table.key(step.key);
        peer.run(`UPDATE ${table.name} SET ${assignments} WHERE ${where(table)}`, [
          ...set.values(),
          ...key,
        ]);
        if (mirrors) {
          const values: Record<string, SqlValue> = {};
          for (const [column, value] of set) values[column] = storedWithoutAffinity(value);
          mirrors[step.replica]!.update(table.name, key, values);
        }
        break;
      }
      case 'delete': {
        const table = HISTORY_TABLES[step.table]!;
        const key = table.key(step.key);
        peers[step.replica]!.run(`DELETE FROM ${table.name} WHERE ${where(table)}`, key);
        mirrors?.[step.replica]?.delete(table.name, key);
        break;
      }
      case 'publish': {
        const page = peers[step.replica]!.replica.changesetSince(origins[step.replica]!, {
          after: cursors[step.replica]!,
          ...(step.limit === undefined ? {} : { limit: step.limit }),
        });
        expect(page.cursor).toBeGreaterThanOrEqual(cursors[step.replica]!);
        cursors[step.replica] = page.cursor;
        if (!page.hasMore) origins[step.replica] = page.cursor;
        if (page.rows > 0) messages.push(page.bytes);
        break;
      }
      case 'deliver': {
        if (messages.length === 0) break;
        const message = messages[step.message % messages.length]!;
        if (step.slice) {
          const changes = decodeChangeset(message).changes;
          if (changes.length === 0) break;
          const from = step.from % changes.length;
          const to = from + 1 + (step.to % (changes.length - from));
          apply(step.replica, changes.slice(from, to));
        } else {
          apply(step.replica, message);
        }
        break;
      }
      case 'pull': {
        const into = peers[step.replica]!.replica;
        const changes = peers[step.from]!.replica.changesSinceVector(into.versionVector());
        apply(step.replica, changes);
        break;
      }
      case 'flush':
        peers[step.replica]!.replica.flush();
        break;
      case 'restart':
        peers[step.replica] = await options.harnesses[step.replica]!.restart(peers[step.replica]!);
        break;
      case 'tick':
        for (const peer of peers) peer.env.advance(step.ms);
        break;
    }
    if (mirrors && step.kind !== 'tick') {
      // Each local write gets its own stamp, as in the model.
      peers[step.replica]!.replica.flush();
      check(step.replica, index, step);
    }
  }

  const random = prng(options.seed);
  // What is left is published in pages of random size, as a hub serves a pull.
  for (const [i, peer] of peers.entries()) {
    for (;;) {
      const limit = random() < 0.5 ? 1 + Math.floor(random() * 3) : undefined;
      const page = peer.replica.changesetSince(origins[i]!, {
        after: cursors[i]!,
        ...(limit === undefined ? {} : { limit }),
      });
      cursors[i] = page.cursor;
      if (!page.hasMore) origins[i] = page.cursor;
      if (page.rows > 0) messages.push(page.bytes);
      if (!page.hasMore) break;
    }
  }
  for (let replica = 0; replica < count; replica++) {
    for (const message of scramble(messages, random)) {
      if (random() < 0.3) {
        for (const slice of split(decodeChangeset(message).changes, random)) apply(replica, slice);
      } else {
        apply(replica, message);
      }
    }
    check(replica, steps.length, 'final');
  }
  return { peers, mirrors, messages: messages.length };
}
