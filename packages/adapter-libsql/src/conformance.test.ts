import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultRuns, runDriverConformance } from '@offsync/testkit';
import Database from 'libsql';
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
    const open = (): LibsqlDriver => {
      const db = new Database(path);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      return new LibsqlDriver(db);
    };
    return {
      driver: open(),
      reopen: (driver) => {
        driver.close();
        return open();
      },
      connect: open,
      teardown: () => rmSync(directory, { recursive: true, force: true }),
    };
  },
  'libsql file (WAL)',
  { numRuns: Math.max(10, Math.floor(defaultRuns() / 50)), limitations: LIBSQL_LIMITATIONS },
);
