import { BetterSqliteDriver } from '@offsync/adapter-node';
import { openSqlJsDriver } from '@offsync/adapter-wasm';
import { runCrossDriverConformance } from '@offsync/testkit';
import Database from 'better-sqlite3';

runCrossDriverConformance(
  () => ({ driver: new BetterSqliteDriver(new Database(':memory:')) }),
  async () => ({ driver: await openSqlJsDriver() }),
  'better-sqlite3 × sql.js',
);
