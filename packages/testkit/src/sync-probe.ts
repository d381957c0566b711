import type { SqliteDriver } from '@offsync/core';
import type { DriverSetup } from './fixture.js';

/**
 * Why the driver cannot be one, or `undefined` when it is synchronous: opens one database through
 * `setup` and calls `exec`, `prepare`, `run`, `all` and `close` once each, looking for a Promise
 * (any thenable) where the contract wants a plain value. An async binding would otherwise fail
 * dozens of checks with `all(...).map is not a function`; the kit stops at this one message.
 *
 * @example
 * ```ts
 * const problem = await asyncDriverProblem(() => ({ driver: new MyDriver(':memory:') }));
 * if (problem) throw new Error(problem);
 * ```
 */
export async function asyncDriverProblem(setup: DriverSetup): Promise<string | undefined> {
  const fixture = await setup();
  const driver: SqliteDriver = fixture.driver;
  const found: string[] = [];
  // Each call runs even after a thenable, so the message names every async method at once; a
  // rejected Promise must not become an unhandled rejection.
  const look = (method: string, result: unknown): unknown => {
    if (isThenable(result)) {
      found.push(method);
      Promise.resolve(result).catch(() => undefined);
    }
    return result;
  };
  try {
    look('exec', driver.exec('CREATE TABLE offsync_probe(v)'));
    const statement = look('prepare', driver.prepare('INSERT INTO offsync_probe VALUES (?)'));
    if (!isThenable(statement)) {
      look('run', (statement as ReturnType<SqliteDriver['prepare']>).run([1n]));
    }
    const select = look('prepare', driver.prepare('SELECT v FROM offsync_probe'));
    if (!isThenable(select)) {
      const rows = look('all', (select as ReturnType<SqliteDriver['prepare']>).all());
      if (!isThenable(rows) && !Array.isArray(rows)) {
        found.push(`all (returned ${typeof rows}, not an array)`);
      }
    }
  } finally {
    look('close', driver.close());
    await fixture.teardown?.();
  }
  if (found.length === 0) return undefined;
  const methods = [...new Set(found)].join(', ');
  return (
    `the driver is asynchronous (${methods} returned a Promise), but the SqliteDriver contract is ` +
    'synchronous: every method returns when SQLite is done. Wrap a synchronous binding ' +
    '(see docs/testkit.md, "A synchronous contract"); the rest of the suite is skipped.'
  );
}

function isThenable(value: unknown): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
