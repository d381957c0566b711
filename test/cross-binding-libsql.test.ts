import { LibsqlDriver } from '@offsync/adapter-libsql';
import { BetterSqliteDriver } from '@offsync/adapter-node';
import { openSqlJsDriver } from '@offsync/adapter-wasm';
import { SqliteReplica, type SqlValue } from '@offsync/core';
import Database from 'better-sqlite3';
import Libsql from 'libsql';
import { describe, expect, it } from 'vitest';

// libsql joins by a direct exchange: the kit's cross-driver suite does not take its declared
// limitations (REAL-to-TEXT digits, NUL in TEXT), so the values here avoid exactly those two.
describe('libsql beside better-sqlite3 and sql.js', () => {
  const VALUES: readonly SqlValue[] = [
    null,
    0n,
    -(2n ** 63n),
    2n ** 63n - 1n,
    2,
    -0,
    0.1,
    5e-324,
    -5e-324,
    1.7976931348623157e308,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    '',
    'é',
    '\u{1F600}',
    '9007199254740993',
    ' 12 ',
    new Uint8Array(),
    new Uint8Array([0, 255, 0]),
  ];
  const SCHEMA =
    'CREATE TABLE vals(id TEXT PRIMARY KEY NOT NULL, v, i INTEGER, r REAL, n NUMERIC, b BLOB)';
  const COLUMNS = ['id', 'v', 'i', 'r', 'n', 'b'];
  // quote() and hex() print a REAL through SQLite's own text conversion, which changed after
  // 3.45 ('Inf' became '9.0e+999'): a REAL is compared as the double each driver reads, exact.
  const exact = (c: string) =>
    `typeof(${c}), CASE typeof(${c}) WHEN 'real' THEN ${c} ELSE quote(${c}) END, CASE typeof(${c}) WHEN 'real' THEN NULL ELSE hex(${c}) END`;
  const BYTES = `SELECT ${COLUMNS.map(exact).join(', ')} FROM vals ORDER BY id`;

  it('a changeset written on any of the three reaches the other two byte for byte', async () => {
    const open = async () => [
      SqliteReplica.open(new LibsqlDriver(new Libsql(':memory:'))),
      SqliteReplica.open(new BetterSqliteDriver(new Database(':memory:'))),
      SqliteReplica.open(await openSqlJsDriver()),
    ];
    for (const origin of [0, 1, 2]) {
      const replicas = await open();
      for (const replica of replicas) {
        replica.driver.exec(SCHEMA);
        replica.enableSync('vals');
      }
      const insert = replicas[origin]!.driver.prepare('INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?)');
      for (const [id, value] of VALUES.entries())
        insert.run([`k${id}`, value, value, value, value, value]);
      const changes = replicas[origin]!.changesetSince(0).bytes;
      for (const replica of replicas)
        if (replica !== replicas[origin]) replica.applyChanges(changes);
      const stored = replicas.map((replica) => replica.driver.prepare(BYTES).all());
      expect(stored[0]!.length).toBe(VALUES.length);
      expect(stored[1], `from ${origin}`).toEqual(stored[0]);
      expect(stored[2], `from ${origin}`).toEqual(stored[0]);
      const dumps = replicas.map((replica) => replica.dump());
      expect(dumps[1]).toEqual(dumps[0]);
      expect(dumps[2]).toEqual(dumps[0]);
      for (const replica of replicas) replica.close();
    }
  });
});
