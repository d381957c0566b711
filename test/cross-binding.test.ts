import { BetterSqliteDriver } from '@offsync/adapter-node';
import { openSqlJsDriver } from '@offsync/adapter-wasm';
import { runCrossDriverConformance } from '@offsync/testkit';
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
});
