import { runDriverConformance } from '@offsync/testkit';
import { describe, expect, it } from 'vitest';
import { openSqliteWasmDriver } from './open.js';

let databases = 0;

runDriverConformance(async () => {
  // memdb: an in-memory database that other connections of the module can open by name, so the
  // suite's restart and second-connection checks run without a file system.
  const filename = `file:/conformance-${++databases}.db?vfs=memdb`;
  const open = () => openSqliteWasmDriver({ filename });
  return {
    driver: await open(),
    // The new connection opens first: memdb frees the database with its last connection.
    reopen: async (driver) => {
      const next = await open();
      driver.close();
      return next;
    },
    connect: open,
  };
}, 'sqlite-wasm (memdb)');

describe('the driver the suite runs on', () => {
  it('is SQLite 3.53 and reads INTEGER as bigint and REAL as number, exactly', async () => {
    const driver = await openSqliteWasmDriver();
    expect(driver.sqlite3.version.libVersion).toMatch(/^3\.53\./);
    expect(driver.prepare('SELECT 9223372036854775807, 2.0, ?, typeof(?)').all([2, 2])).toEqual([
      [2n ** 63n - 1n, 2, 2, 'real'],
    ]);
    driver.close();
  });
});
