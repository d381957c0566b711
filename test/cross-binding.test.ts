import { BetterSqliteDriver } from '@offsync/adapter-node';
import { openSqlJsDriver } from '@offsync/adapter-wasm';
import { exactRows, runCrossDriverConformance, showRows } from '@offsync/testkit';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

runCrossDriverConformance(
  () => ({ driver: new BetterSqliteDriver(new Database(':memory:')) }),
  async () => ({ driver: await openSqlJsDriver() }),
  'better-sqlite3 × sql.js',
);

describe('the two bindings the suite compares', () => {
  it('store and read the same bytes for the same values', async () => {
    const node = new BetterSqliteDriver(new Database(':memory:'));
    const wasm = await openSqlJsDriver();
    const query = "SELECT -9223372036854775808, 0.1, 'é', x'00ff', NULL, typeof(2.0)";
    expect(wasm.prepare(query).all()).toEqual(
      node
        .prepare(query)
        .all()
        .map((row) =>
          row.map((value) => (value instanceof Uint8Array ? new Uint8Array(value) : value)),
        ),
    );
    node.close();
    wasm.close();
  });

  it('compare rows by stored bytes: text read alike as U+FFFD but stored differently is told apart', async () => {
    const node = new BetterSqliteDriver(new Database(':memory:'));
    const wasm = await openSqlJsDriver();
    for (const driver of [node, wasm])
      driver.exec('CREATE TABLE t(id TEXT PRIMARY KEY NOT NULL, v)');
    // What the origin stores, and what a replica that received the decoded string would store.
    node.exec("INSERT INTO t VALUES ('cast', CAST(x'ff41c3' AS TEXT))");
    wasm.exec("INSERT INTO t VALUES ('cast', CAST(x'efbfbd41efbfbd' AS TEXT))");
    node.prepare('INSERT INTO t VALUES (?, ?)').run(['lone', 'a\uD800b']);
    wasm.prepare('INSERT INTO t VALUES (?, ?)').run(['lone', 'a\uFFFD\uFFFD\uFFFDb']);
    const decoded = (driver: typeof node | typeof wasm) =>
      showRows(driver.prepare('SELECT * FROM t ORDER BY id').all());
    expect(decoded(wasm)).toEqual(decoded(node));
    expect(exactRows(node, 't', 'id')).toEqual([
      ['TEXT "cast"', 'TEXT xff41c3 (not valid UTF-8)'],
      ['TEXT "lone"', 'TEXT x61eda08062 (not valid UTF-8)'],
    ]);
    expect(exactRows(wasm, 't', 'id')).toEqual(decoded(wasm));
    node.close();
    wasm.close();
  });
});
