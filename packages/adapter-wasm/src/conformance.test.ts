import { runDriverConformance } from '@offsync/testkit';
import { describe, expect, it } from 'vitest';
import { openSqlJsDriver, type SqlJsDriver } from './sqljs-driver.js';

runDriverConformance(
  async () => ({
    driver: await openSqlJsDriver(),
    // sql.js databases live in memory: a restart re-opens the bytes the database exported.
    reopen: async (driver) => {
      const bytes = (driver as SqlJsDriver).export();
      driver.close();
      return openSqlJsDriver({ data: bytes });
    },
  }),
  'sql.js',
);

describe('the driver the suite runs on', () => {
  it('reads INTEGER as bigint and REAL as number, exactly', async () => {
    const driver = await openSqlJsDriver();
    expect(driver.prepare('SELECT 9223372036854775807, 2.0, ?').all([2.0])).toEqual([
      [2n ** 63n - 1n, 2, 2],
    ]);
    driver.close();
  });
});
