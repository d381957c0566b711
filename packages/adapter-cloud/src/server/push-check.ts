import type { NodeReplica } from '@offsync/adapter-node';
import {
  type Change,
  type Changeset,
  type ColumnSchema,
  OffsyncError,
  type SqlValue,
  storageClassOf,
} from '@offsync/core';
import { unpackPrimaryKey } from '@offsync/core/codec';

/**
 * Why a push was refused before anything of it was applied: its changes do not fit the server's
 * schema, whatever the message claims.
 *
 * - `not-negotiated`: the table was refused (or not offered) in this device's hello;
 * - `not-enabled`: the server does not sync the table;
 * - `no-fingerprint` / `fingerprint`: the changeset carries no, or another, schema fingerprint;
 * - `key-width`: a key has another number of columns than the table's primary key;
 * - `unknown-column`: a change writes a column the server's table does not have;
 * - `storage-class`: SQLite would store the value in another storage class than the one sent (or
 *   refuse it, in a STRICT table), so the sender and the other replicas would hold other bytes.
 *
 * @example
 * ```ts
 * if (error instanceof PushSchemaError && error.code === 'storage-class') console.log(error.column);
 * ```
 */
export class PushSchemaError extends OffsyncError {
  readonly type = 'PushSchemaError';
  /** What does not fit. */
  readonly code:
    | 'not-negotiated'
    | 'not-enabled'
    | 'no-fingerprint'
    | 'fingerprint'
    | 'key-width'
    | 'unknown-column'
    | 'storage-class';
  /** The table. */
  readonly table: string;
  /** The column at fault, when one is. */
  readonly column: string | undefined;

  constructor(code: PushSchemaError['code'], table: string, detail: string, column?: string) {
    super(`push refused for table ${table}: ${detail}`);
    this.code = code;
    this.table = table;
    this.column = column;
  }
}

type Affinity = 'integer' | 'real' | 'numeric' | 'text' | 'none';

/** SQLite's rules for a declared type's affinity (https://sqlite.org/datatype3.html, 3.1). */
function affinityOf(declared: string): Affinity {
  const type = declared.toUpperCase();
  if (type.includes('INT')) return 'integer';
  if (type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT')) return 'text';
  if (type === '' || type.includes('BLOB')) return 'none';
  if (type.includes('REAL') || type.includes('FLOA') || type.includes('DOUB')) return 'real';
  return 'numeric';
}

interface ColumnRule {
  readonly name: string;
  readonly affinity: Affinity;
  /** STRICT table: the one storage class the column holds besides NULL (undefined for ANY). */
  readonly strict: 'integer' | 'real' | 'text' | 'blob' | 'any' | undefined;
}

const STRICT_CLASSES: Readonly<Record<string, ColumnRule['strict']>> = {
  INT: 'integer',
  INTEGER: 'integer',
  REAL: 'real',
  TEXT: 'text',
  BLOB: 'blob',
  ANY: 'any',
};

function ruleOf(column: ColumnSchema, strict: boolean): ColumnRule {
  return {
    name: column.name,
    affinity: affinityOf(column.type),
    strict: strict ? (STRICT_CLASSES[column.type.toUpperCase()] ?? 'any') : undefined,
  };
}

/**
 * Checks a decoded push against the server's current schema of every table it writes, before
 * anything is applied: the table is synced here (and was accepted in the device's hello, when
 * the server knows that hello), the changeset names the server's fingerprint for it, every key
 * has the primary key's width, and every key and cell value is one SQLite stores as sent.
 *
 * The last rule is why a fingerprint is not enough: a client that lies about its schema can still
 * send `'5'` (TEXT) for an INTEGER column; SQLite would store the INTEGER 5 here while the sender
 * keeps the TEXT, and the replicas would differ byte for byte. An honest client never sends such
 * a value, because its own column, of the same type, already applied the same affinity.
 *
 * @example
 * ```ts
 * checkPushSchema(replica, decodeChangeset(bytes), new Set(['todos']));
 * ```
 */
export function checkPushSchema(
  replica: NodeReplica,
  changeset: Changeset,
  negotiated: ReadonlySet<string> | undefined,
): void {
  const synced = new Set(replica.syncedTables());
  const fingerprints = changeset.fingerprints ?? {};
  const rules = new Map<string, { key: ColumnRule[]; cells: Map<string, ColumnRule> }>();
  const probes: { table: string; column: string; affinity: Affinity; value: SqlValue }[] = [];
  // A column the server lacks is the clearest account of a diverged schema: name it first.
  const columns = new Map<string, ReadonlySet<string>>();
  for (const change of changeset.changes) {
    if (change.column === null || !synced.has(change.table)) continue;
    let known = columns.get(change.table);
    if (!known) {
      known = new Set(replica.tableInfo(change.table).schema.valueColumns);
      columns.set(change.table, known);
    }
    if (!known.has(change.column))
      throw new PushSchemaError(
        'unknown-column',
        change.table,
        `the push writes column ${change.column}, which the server's table does not have`,
        change.column,
      );
  }
  for (const change of changeset.changes) {
    let rule = rules.get(change.table);
    if (!rule) {
      rule = tableRules(replica, change.table, synced, fingerprints[change.table], negotiated);
      rules.set(change.table, rule);
    }
    const key = unpackPrimaryKey(change.pk);
    if (key.length !== rule.key.length) {
      throw new PushSchemaError(
        'key-width',
        change.table,
        `a key has ${key.length} columns; the primary key (${rule.key.map((c) => c.name).join(', ')}) has ${rule.key.length}`,
      );
    }
    key.forEach((value, i) => {
      checkValue(change.table, rule.key[i]!, value, probes);
    });
    if (change.column === null) continue;
    checkValue(change.table, rule.cells.get(change.column)!, change.value, probes);
  }
  if (probes.length > 0) probeAffinity(replica, probes);
}

function tableRules(
  replica: NodeReplica,
  table: string,
  synced: ReadonlySet<string>,
  fingerprint: string | undefined,
  negotiated: ReadonlySet<string> | undefined,
): { key: ColumnRule[]; cells: Map<string, ColumnRule> } {
  if (!synced.has(table))
    throw new PushSchemaError('not-enabled', table, 'the server does not sync this table');
  if (negotiated !== undefined && !negotiated.has(table))
    throw new PushSchemaError(
      'not-negotiated',
      table,
      "this device's hello did not agree on the table (see the welcome's refused tables); fix its schema and say hello again",
    );
  const info = replica.tableInfo(table);
  if (fingerprint === undefined)
    throw new PushSchemaError(
      'no-fingerprint',
      table,
      `the changeset carries no schema fingerprint for it (the server's is ${info.fingerprint})`,
    );
  if (fingerprint !== info.fingerprint)
    throw new PushSchemaError(
      'fingerprint',
      table,
      `the changeset's schema fingerprint ${fingerprint} is not the server's ${info.fingerprint}`,
    );
  const strict =
    Number(
      replica.driver
        .prepare("SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?")
        .all([table])[0]?.[0] ?? 0,
    ) === 1;
  const byName = new Map(info.schema.columns.map((column) => [column.name, column]));
  return {
    key: info.schema.primaryKey.map((name) => ruleOf(byName.get(name)!, strict)),
    cells: new Map(
      info.schema.valueColumns.map((name) => [name, ruleOf(byName.get(name)!, strict)]),
    ),
  };
}

function refuse(table: string, column: ColumnRule, value: SqlValue, stored: string): never {
  throw new PushSchemaError(
    'storage-class',
    table,
    `column ${column.name} would store the ${storageClassOf(value).toUpperCase()} sent as ${stored}; the sender's replica cannot hold that value in a column of this type`,
    column.name,
  );
}

function checkValue(
  table: string,
  column: ColumnRule,
  value: SqlValue,
  probes: { table: string; column: string; affinity: Affinity; value: SqlValue }[],
): void {
  const kind = storageClassOf(value);
  if (kind === 'null') return;
  // SQLite stores a bound NaN as NULL, in every column.
  if (typeof value === 'number' && Number.isNaN(value)) refuse(table, column, value, 'NULL');
  if (column.strict !== undefined) {
    // STRICT columns convert like their affinity where they can and refuse the rest: either way
    // the class stored differs from the class sent unless they are the column's own.
    if (column.strict !== 'any' && column.strict !== kind)
      refuse(table, column, value, `${column.strict.toUpperCase()} or refuse it (STRICT)`);
    return;
  }
  if (kind === 'blob') return;
  switch (column.affinity) {
    case 'none':
      return;
    case 'text':
      if (kind !== 'text') refuse(table, column, value, 'TEXT');
      return;
    case 'real':
      if (kind === 'integer') refuse(table, column, value, 'REAL');
      if (kind === 'text') probes.push({ table, column: column.name, affinity: 'real', value });
      return;
    default:
      // INTEGER and NUMERIC affinity store alike: integral REALs and numeric TEXT convert.
      if (kind !== 'integer')
        probes.push({ table, column: column.name, affinity: 'numeric', value });
  }
}

/**
 * Which texts look numeric, and which REALs are integral enough to convert, is SQLite's own
 * decision (leading spaces, exponents, the 64-bit range): ask SQLite rather than imitate it.
 */
function probeAffinity(
  replica: NodeReplica,
  probes: readonly { table: string; column: string; affinity: Affinity; value: SqlValue }[],
): void {
  const { driver } = replica;
  driver.exec(
    'CREATE TEMP TABLE IF NOT EXISTS offsync_affinity_probe(numeric_value NUMERIC, real_value REAL)',
  );
  const insert = {
    numeric: driver.prepare(
      'INSERT INTO temp.offsync_affinity_probe(numeric_value) VALUES (?) RETURNING typeof(numeric_value)',
    ),
    real: driver.prepare(
      'INSERT INTO temp.offsync_affinity_probe(real_value) VALUES (?) RETURNING typeof(real_value)',
    ),
  };
  try {
    for (const probe of probes) {
      const statement = probe.affinity === 'real' ? insert.real : insert.numeric;
      const stored = String(statement.all([probe.value])[0]![0]);
      if (stored !== storageClassOf(probe.value)) {
        refuse(
          probe.table,
          { name: probe.column, affinity: probe.affinity, strict: undefined },
          probe.value,
          stored.toUpperCase(),
        );
      }
    }
  } finally {
    driver.exec('DELETE FROM temp.offsync_affinity_probe');
  }
}

/**
 * A request that speaks for another device than the session's own: a push whose changes carry
 * another site's stamps, or a push or pull whose `site` is not the one its hello named (or that
 * belongs to another user). A replica's pulls skip its own site's changes, so a change stamped
 * with another device's site would be hidden from that device forever.
 *
 * @example
 * ```ts
 * if (error instanceof SiteMismatchError) console.log(error.site, error.claimed);
 * ```
 */
export class SiteMismatchError extends OffsyncError {
  readonly type = 'SiteMismatchError';
  /** The session's own site. */
  readonly site: string;
  /** The site the request or a stamp claimed. */
  readonly claimed: string;

  constructor(site: string, claimed: string, detail: string) {
    super(`${detail} (the session's site is ${site}, the request claims ${claimed})`);
    this.site = site;
    this.claimed = claimed;
  }
}

/**
 * Refuses a push unless every change is stamped by the pushing site: a client sends only what it
 * wrote itself; only the server relays other sites' changes.
 *
 * @example
 * ```ts
 * checkPushSites(decodeChangeset(bytes).changes, message.site);
 * ```
 */
export function checkPushSites(changes: readonly Change[], site: string): void {
  for (const change of changes) {
    if (change.stamp.site !== site)
      throw new SiteMismatchError(
        site,
        change.stamp.site,
        `a change to table ${change.table} is stamped by another site; a device pushes only its own writes`,
      );
  }
}
