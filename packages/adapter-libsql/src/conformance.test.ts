import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkLimitations,
  defaultRuns,
  detectRealToText,
  runDriverConformance,
  sharedFileFixture,
} from '@offsync/testkit';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { LIBSQL_LIMITATIONS } from './known-limitations.js';
import { LibsqlDriver } from './libsql-driver.js';

// better-sqlite3 runs the kit at full strength in the suite; here a tenth of the property runs
// (a fiftieth on a file, where every commit does real I/O) keeps the suite short. FC_RUNS scales
// both: FC_RUNS=10000 certifies libsql at the kit's full 1,000 runs.
runDriverConformance(
  () => ({ driver: new LibsqlDriver(new Database(':memory:')) }),
  'libsql :memory:',
  { numRuns: Math.max(20, Math.floor(defaultRuns() / 10)), limitations: LIBSQL_LIMITATIONS },
);

runDriverConformance(
  () => {
    const directory = mkdtempSync(join(tmpdir(), 'offsync-libsql-conformance-'));
    const path = join(directory, 'replica.db');
    return sharedFileFixture(
      () => {
        const db = new Database(path);
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = NORMAL');
        return new LibsqlDriver(db);
      },
      () => rmSync(directory, { recursive: true, force: true }),
    );
  },
  'libsql file (WAL)',
  { numRuns: Math.max(10, Math.floor(defaultRuns() / 50)), limitations: LIBSQL_LIMITATIONS },
);

// A declaration that stops being true would hide a check that libsql now passes: each declared
// limitation is checked against this build, so a libsql upgrade that fixes one fails here.
describe('the limitations libsql declares to the kit', () => {
  it('are valid for the kit and still true of this libsql build', () => {
    expect(checkLimitations(LIBSQL_LIMITATIONS).map((limitation) => limitation.id)).toEqual([
      'text-nul',
      'real-to-text-digits',
      'invalid-text-read',
    ]);
    const driver = new LibsqlDriver(new Database(':memory:'));
    // text-nul: the bytes are stored whole, but the TEXT reads back cut at the NUL.
    expect(driver.prepare('SELECT hex(?), ?').all(['a\u0000b', 'a\u0000b'])).toEqual([
      ['610062', 'a'],
    ]);
    // real-to-text-digits: SQLite 3.45 converts REAL to TEXT with 15 significant digits.
    expect(detectRealToText(driver)).toBe('15-digits');
    expect(driver.prepare('SELECT sqlite_version()').all()).toEqual([['3.45.1']]);
    // invalid-text-read aborts the process, so it is shown in a child process by
    // libsql-driver.test.ts, not here.
    driver.close();
  });
});
