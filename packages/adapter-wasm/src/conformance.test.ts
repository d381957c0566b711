import { runDriverConformance } from '@offsync/testkit';
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
