import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRuns, runDriverConformance, sharedFileFixture } from '@offsync/testkit';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BetterSqliteDriver } from './better-sqlite3-driver.js';

runDriverConformance(
  () => ({ driver: new BetterSqliteDriver(new Database(':memory:')) }),
  'better-sqlite3 :memory:',
);

// Every commit of a file database does real I/O: a tenth of the property runs (FC_RUNS scales it).
runDriverConformance(
  () => {
    const directory = mkdtempSync(join(tmpdir(), 'offsync-conformance-'));
    const path = join(directory, 'replica.db');
    return sharedFileFixture(
      () => {
        const db = new Database(path);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        return new BetterSqliteDriver(db);
      },
      () => rmSync(directory, { recursive: true, force: true }),
    );
  },
  'better-sqlite3 file (WAL)',
  { numRuns: Math.max(10, Math.floor(defaultRuns() / 10)) },
);

describe('the driver the suites run on', () => {
  it('reads INTEGER as bigint and REAL as number, exactly', () => {
    const driver = new BetterSqliteDriver(new Database(':memory:'));
    expect(driver.prepare('SELECT 9223372036854775807, 2.0, ?').all([2.0])).toEqual([
      [2n ** 63n - 1n, 2, 2],
    ]);
    driver.close();
  });
});
