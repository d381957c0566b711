import { BetterSqliteDriver } from '@offsync/adapter-node';
import { openSqliteWasmDriver } from '@offsync/adapter-wasm';
import { exactRows, runCrossDriverConformance } from '@offsync/testkit';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

runCrossDriverConformance(
  () => ({ driver: new BetterSqliteDriver(new Database(':memory:')) }),
  async () => ({ driver: await openSqliteWasmDriver() }),
  'better-sqlite3 × sqlite-wasm',
);

describe('better-sqlite3 and sqlite-wasm', () => {
  it('store the same bytes for the same bound values, edge values included', async () => {
    const node = new BetterSqliteDriver(new Database(':memory:'));
    const wasm = await openSqliteWasmDriver();
    const values = [
      2n ** 63n - 1n,
      -(2n ** 63n),
      2,
      -0,
      -5e-324,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      0.1,
      'a\0b',
      'a\uD800b',
      'é🙂',
      '',
      new Uint8Array(0),
      new Uint8Array([0, 255]),
      null,
    ];
    for (const driver of [node, wasm]) {
      driver.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, v)');
      const insert = driver.prepare('INSERT INTO t(id, v) VALUES (?, ?)');
      values.forEach((value, i) => {
        insert.run([BigInt(i), value]);
      });
    }
    expect(exactRows(wasm, 't', 'id')).toEqual(exactRows(node, 't', 'id'));
    const bytes = 'SELECT id, typeof(v), quote(v), hex(v) FROM t ORDER BY id';
    expect(wasm.prepare(bytes).all()).toEqual(node.prepare(bytes).all());
    node.close();
    wasm.close();
  });
});
