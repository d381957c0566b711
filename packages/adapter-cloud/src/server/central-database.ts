import { type NodeReplica, openReplica } from '@offsync/adapter-node';
import {
  bytesToHex,
  type Change,
  type Changeset,
  checkSyncable,
  describeSchemaDifference,
  type EnableSyncOptions,
  type Eviction,
  inSavepoint,
  OffsyncError,
  type PlannedRow,
  RESERVED_PREFIX,
  type RowRefusal,
  readTableSchema,
  SchemaError,
  type SchemaProblem,
  type SqliteDriver,
  type SqlValue,
  type TableRefusal,
  type TableSchema,
} from '@offsync/core';
import {
  decodeChangeset,
  encodeChangeset,
  primaryKeyString,
  unpackPrimaryKey,
} from '@offsync/core/codec';
import type { Principal } from '../auth/index.js';
import {
  forbiddenKeys,
  keyString,
  type PolicyOperation,
  type PolicySet,
  policyFor,
  readPolicies,
  setPolicy,
  visibleKeys,
} from '../rls/index.js';
import { DeviceRegistry } from './device-registry.js';
import { checkPushSchema, checkPushSites } from './push-check.js';
import { SentRows } from './sent-rows.js';

/**
 * A table of a central database as the admin API and dashboard show it.
 *
 * @example
 * ```ts
 * const todos: TableStatus = database.tables().find((table) => table.name === 'todos')!;
 * ```
 */
export interface TableStatus {
  /** Table name. */
  readonly name: string;
  /** Columns with their declaration. */
  readonly columns: readonly {
    name: string;
    type: string;
    notNull: boolean;
    defaultValue: string | null;
    primaryKey: number;
  }[];
  /** Primary-key columns in key order. */
  readonly primaryKey: readonly string[];
  /** Sync is on. */
  readonly synced: boolean;
  /** Schema fingerprint (clients must have the same). */
  readonly fingerprint: string | undefined;
  /** Why sync cannot be switched on, when it cannot. */
  readonly problem: string | undefined;
  /** The `SchemaError` code of {@link problem} (`integer-primary-key`, `foreign-key`, ...). */
  readonly problemCode: SchemaProblem | undefined;
  /**
   * For a table that is not synced: the options that let sync be switched on, when the only
   * checks standing in the way are ones those options waive (both, for a rowid key and a
   * FOREIGN KEY). Absent when the table passes as it is or has a problem no option waives.
   */
  readonly waivers: readonly SyncWaiver[] | undefined;
  /** For a synced table: the checks it was enabled without (both false unless asked for). */
  readonly options: Required<EnableSyncOptions> | undefined;
}

/**
 * An `enableSync` option that waives one schema check, knowingly.
 *
 * @example
 * ```ts
 * const waiver: SyncWaiver = 'allowForeignKeys';
 * ```
 */
export type SyncWaiver = 'allowIntegerPrimaryKey' | 'allowForeignKeys';

// The schema check each waiver excuses.
const WAIVED_BY: Readonly<Partial<Record<SchemaProblem, SyncWaiver>>> = {
  'integer-primary-key': 'allowIntegerPrimaryKey',
  'foreign-key': 'allowForeignKeys',
};

/**
 * What the server tells a client it will sync with it, and why not the rest.
 *
 * @example
 * ```ts
 * const { tables, refused } = database.negotiate(hello.schemas);
 * ```
 */
export interface Negotiation {
  /** Tables synced with this client. */
  readonly tables: string[];
  /** Client tables refused, by name. */
  readonly refused: Record<string, TableRefusal>;
}

/**
 * Outcome of a push.
 *
 * @example
 * ```ts
 * const result = database.push(principal, bytes, { site, negotiated });
 * ```
 */
export interface PushOutcome {
  /** The whole batch was applied. */
  readonly accepted: boolean;
  /** Refused rows (the batch was then applied not at all). */
  readonly refusals: RowRefusal[];
  /** The server's state of the refused rows the user may see. */
  readonly repair: Uint8Array;
  /** Refused rows the user may not see. */
  readonly evictions: Eviction[];
  /** Rows changed. */
  readonly rows: number;
}

/**
 * The pages of a multi-page push unit staged so far (nothing of it is applied before its last
 * page arrives). Kept with the WebSocket session, or by site for HTTP.
 *
 * @example
 * ```ts
 * const unit: StagedUnit = { next: 1, changes: decoded.changes, fingerprints: {}, bytes: 1024 };
 * ```
 */
export interface StagedUnit {
  /** The `part` the next page must carry. */
  readonly next: number;
  /** The staged changes, in page order. */
  readonly changes: readonly Change[];
  /** The fingerprints the pages named. */
  readonly fingerprints: Readonly<Record<string, string>>;
  /** Encoded bytes received so far. */
  readonly bytes: number;
}

/**
 * A pulled page.
 *
 * @example
 * ```ts
 * const page = database.pull(principal, site, cursor, 1000, tables);
 * ```
 */
export interface PullPage {
  /** Encoded changeset. */
  readonly changeset: Uint8Array;
  /** Rows to drop on the client. */
  readonly evictions: Eviction[];
  /** Next cursor. */
  readonly cursor: number;
  /** More pages follow. */
  readonly hasMore: boolean;
  /** The page ends inside one push's changes: the client applies it with the next pages. */
  readonly continues: boolean;
}

/**
 * A push refused by row-level security: the rows and reasons. Thrown inside the merge's
 * transaction, so nothing of the batch is applied.
 *
 * @example
 * ```ts
 * if (error instanceof PushRefusedError) console.log(error.refusals);
 * ```
 */
export class PushRefusedError extends OffsyncError {
  readonly type = 'PushRefusedError';
  /** Refused rows. */
  readonly refusals: readonly (RowRefusal & { readonly rawPk: Uint8Array })[];

  constructor(refusals: readonly (RowRefusal & { readonly rawPk: Uint8Array })[]) {
    super(
      `push refused by row-level security: ${refusals.map((r) => `${r.table} ${r.pk}: ${r.reason}`).join('; ')}`,
    );
    this.refusals = refusals;
  }
}

/** Users see only what policies allow; admin and service keys see and write everything. */
function claimsOf(principal: Principal): Readonly<Record<string, unknown>> | undefined {
  return principal.kind === 'user' ? principal.claims : undefined;
}

/**
 * One central database: a SQLite file opened as a replica (durable commits), with the server's
 * own tables for devices, metrics and row-level-security policies beside the app's tables.
 *
 * @example
 * ```ts
 * const database = CentralDatabase.open('todos', '/data/databases/todos.db');
 * database.enableTable('todos');
 * ```
 */
export class CentralDatabase {
  /** Database name. */
  readonly name: string;
  /** The central replica. */
  readonly replica: NodeReplica;
  /** Devices and traffic. */
  readonly devices: DeviceRegistry;
  /** Rows each device holds under row-level security. */
  readonly #sent: SentRows;
  /**
   * The tables each device's latest hello agreed on, by site. In memory: after a restart a
   * device's pushes are still checked against the schema itself, just not against its hello.
   */
  readonly #negotiated = new Map<string, ReadonlySet<string>>();
  /** Multi-page push units staged over HTTP, by site and unit name (a WebSocket keeps its own). */
  readonly stagedUnits = new Map<string, Map<string, StagedUnit>>();
  #policies: PolicySet;

  private constructor(name: string, replica: NodeReplica) {
    this.name = name;
    this.replica = replica;
    this.devices = new DeviceRegistry(replica.driver);
    this.#sent = new SentRows(replica.driver);
    this.#policies = readPolicies(replica.driver);
    // The server's sequence ranges of each push (one transaction): pull pages must not end
    // inside one, or another device would see part of a client's transaction.
    replica.driver.exec(
      'CREATE TABLE IF NOT EXISTS offsync_server_units(first INTEGER PRIMARY KEY, last INTEGER NOT NULL)',
    );
  }

  /** Opens (or creates) the database file at `path`. */
  static open(
    name: string,
    path: string,
    options: { readonly create?: boolean } = {},
  ): CentralDatabase {
    // Every acknowledged push must survive a crash: FULL sync on every commit.
    const replica = openReplica(path, {
      synchronous: 'FULL',
      ...(options.create === false ? { fileMustExist: true } : {}),
    });
    return new CentralDatabase(name, replica);
  }

  /** The server's version (its latest local sequence). */
  get version(): number {
    return this.replica.version;
  }

  /** Every app table with its sync state and schema. */
  tables(): TableStatus[] {
    const synced = new Set(this.replica.syncedTables());
    const names = this.replica.driver
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((row) => String(row[0]))
      .filter((name) => !name.startsWith(RESERVED_PREFIX) && !name.startsWith('sqlite_'));
    return names.map((name) => {
      const schema = readTableSchema(this.replica.driver, name);
      const info = synced.has(name) ? this.replica.tableInfo(name) : undefined;
      const check = info ? undefined : syncability(this.replica.driver, schema);
      return {
        name,
        columns: schema.columns.map((column) => ({ ...column })),
        primaryKey: schema.primaryKey,
        synced: info !== undefined,
        fingerprint: info?.fingerprint,
        problem: check?.problem,
        problemCode: check?.problemCode,
        waivers: check?.waivers,
        options: info && {
          allowIntegerPrimaryKey: info.options.allowIntegerPrimaryKey === true,
          allowForeignKeys: info.options.allowForeignKeys === true,
        },
      };
    });
  }

  /** Switches sync on for a table (same schema checks as `enableSync`; throws `SchemaError`). */
  enableTable(
    table: string,
    options: {
      readonly allowIntegerPrimaryKey?: boolean;
      readonly allowForeignKeys?: boolean;
    } = {},
  ): void {
    this.replica.enableSync(table, options);
    this.devices.bumpScope();
  }

  /** Switches sync off for a table; its data stays. */
  disableTable(table: string): void {
    this.replica.disableSync(table);
    this.devices.bumpScope();
  }

  /** The row-level-security policies. */
  policies(): PolicySet {
    return this.#policies;
  }

  /** Sets (validated; the old one kept on failure) or removes one policy. */
  setPolicy(table: string, operation: PolicyOperation, expression: string | null): void {
    setPolicy(this.replica.driver, table, operation, expression);
    this.#policies = readPolicies(this.replica.driver);
    this.devices.bumpScope();
  }

  /** Matches a client's declared schemas against the server's synced tables. */
  negotiate(
    schemas: Readonly<Record<string, { canonical: string; fingerprint: string }>>,
  ): Negotiation {
    const synced = new Set(this.replica.syncedTables());
    const tables: string[] = [];
    const refused: Record<string, TableRefusal> = {};
    for (const [table, declared] of Object.entries(schemas)) {
      if (!synced.has(table)) {
        refused[table] = {
          code: 'not-enabled',
          message: `table ${table} is not enabled for sync on the server (database ${this.name})`,
        };
        continue;
      }
      const info = this.replica.tableInfo(table);
      const difference = describeSchemaDifference(info.schema, declared.canonical);
      if (difference) {
        refused[table] = {
          code: 'schema-mismatch',
          message: `table ${table}: ${sidesNamed(difference.text)} (server ${info.fingerprint}, client ${declared.fingerprint})`,
          ...(difference.column === undefined ? {} : { column: difference.column }),
        };
        continue;
      }
      tables.push(table);
    }
    return { tables, refused };
  }

  /**
   * Merges a client's changes. For users, row-level security is checked inside the merge's
   * transaction on exactly the rows that change: delete and update policies on the row before,
   * insert and update policies on the row after. One refusal rolls the whole batch back and the
   * refusals come back with the server's state of those rows.
   */
  push(
    principal: Principal,
    changeset: Uint8Array,
    options: {
      /** The pushing device's site: every change must be stamped by it. */
      readonly site?: string;
      /** The tables the device's hello agreed on, when the server knows that hello. */
      readonly negotiated?: ReadonlySet<string>;
    } = {},
  ): PushOutcome {
    const claims = claimsOf(principal);
    const decoded = decodeChangeset(changeset);
    // Checked whatever the message claims, before anything is applied: the hello's verdict is
    // advisory for an honest client, not a guarantee about what a dishonest one sends.
    if (options.site !== undefined) checkPushSites(decoded.changes, options.site);
    checkPushSchema(this.replica, decoded, options.negotiated);
    const before = this.version;
    if (claims === undefined) {
      const result = this.replica.applyChanges(decoded);
      this.#recordUnit(before);
      return {
        accepted: true,
        refusals: [],
        repair: new Uint8Array(0),
        evictions: [],
        rows: result.rows,
      };
    }
    try {
      const changed = new Set<string>();
      const result = this.replica.applyChanges(decoded, {
        guard: {
          beforeWrite: (rows) => this.#check(rows, claims, 'before'),
          afterWrite: (rows) => {
            this.#check(rows, claims, 'after');
            for (const row of rows) changed.add(rowId(row.table, row.pk));
          },
        },
      });
      this.#recordUnit(before);
      // A row the device created under a key the server holds in a later life (deleted before the
      // device ever saw it) loses, and no pull would tell the device: send the server's state back.
      const lost = this.#lostLives(decoded.changes, changed);
      const back =
        lost.length > 0
          ? this.#repair(
              lost.map((row) => ({ ...row, reason: 'superseded' })),
              claims,
            )
          : undefined;
      return {
        accepted: true,
        refusals: [],
        repair: back?.repair ?? new Uint8Array(0),
        evictions: back?.evictions ?? [],
        rows: result.rows,
      };
    } catch (error) {
      if (!(error instanceof PushRefusedError)) throw error;
      return { accepted: false, ...this.#repair(error.refusals, claims), rows: 0 };
    }
  }

  /**
   * A page of changes after `cursor` for a client. Users get whole rows they may see (a row
   * entering their scope arrives complete) and evictions for changed rows they may not see.
   * `since` is where the client's run of pages began: each row of the page brings its cells
   * written after it (default `cursor`).
   */
  pull(
    principal: Principal,
    site: string,
    cursor: number,
    limit: number,
    tables: readonly string[],
    since = cursor,
  ): PullPage {
    const claims = claimsOf(principal);
    const synced = new Set(this.replica.syncedTables());
    const wanted = tables.filter((table) => synced.has(table));
    if (wanted.length === 0) {
      return {
        changeset: encodeChangeset({ changes: [] }),
        evictions: [],
        cursor: Math.max(cursor, this.version),
        hasMore: false,
        continues: false,
      };
    }
    // `since` is where the client's run of pages began: rows come in order of their latest
    // change after `cursor`, each with every cell written after `since`.
    const page = this.replica.changesSince(since, {
      after: cursor,
      limit,
      tables: wanted,
      ...(claims === undefined ? { excludeSite: site } : { wholeRows: true }),
    });
    let changes = page.changes;
    const evictions: Eviction[] = [];
    if (claims !== undefined) {
      const visible = this.#visible(changes, claims);
      // A deleted row has no values for a policy to match, so it is never visible. A device that
      // holds it gets its tombstone rather than an eviction: evicted, the device would forget the
      // row's causal length, and its next insert of that key would start a life the server's
      // greater one discards (the re-insert lost, the device diverged for good).
      const deleted = new Set(
        page.changes
          .filter((change) => change.column === null && change.cl % 2 === 0)
          .map((change) => rowId(change.table, change.pk)),
      );
      const tombstones = new Set<string>();
      const shown = new Map<string, Map<string, Uint8Array>>();
      const hidden = new Map<string, Map<string, Uint8Array>>();
      for (const change of page.changes) {
        const target = visible.has(rowId(change.table, change.pk)) ? shown : hidden;
        let rows = target.get(change.table);
        if (!rows) {
          rows = new Map();
          target.set(change.table, rows);
        }
        rows.set(primaryKeyString(change.pk), change.pk);
      }
      inSavepoint(this.replica.driver, () => {
        for (const [table, rows] of shown) this.#sent.record(site, table, [...rows.values()]);
        for (const [table, rows] of hidden) {
          for (const pk of this.#sent.takeHeld(site, table, [...rows.values()])) {
            const id = rowId(table, pk);
            if (deleted.has(id)) tombstones.add(id);
            else evictions.push({ table, pk: bytesToHex(pk) });
          }
        }
      });
      changes = page.changes.filter((change) => {
        const id = rowId(change.table, change.pk);
        return visible.has(id) || tombstones.has(id);
      });
    }
    const fingerprints = Object.fromEntries(
      wanted.map((table) => [table, this.replica.tableInfo(table).fingerprint]),
    );
    return {
      changeset: encodeChangeset({ changes, fingerprints }),
      evictions,
      cursor: page.cursor,
      hasMore: page.hasMore,
      continues: page.hasMore && this.#insideUnit(page.cursor),
    };
  }

  /**
   * Checks a push page before it is staged, as {@link push} will check the whole unit: a bad page
   * is refused at once rather than after the client sent the rest.
   */
  checkPush(
    changeset: Changeset,
    options: { readonly site?: string; readonly negotiated?: ReadonlySet<string> } = {},
  ): void {
    if (options.site !== undefined) checkPushSites(changeset.changes, options.site);
    checkPushSchema(this.replica, changeset, options.negotiated);
  }

  /** Records the tables a device's hello agreed on; its pushes may write only those. */
  rememberNegotiation(site: string, tables: readonly string[]): void {
    this.#negotiated.set(site, new Set(tables));
  }

  /** The tables a device's latest hello (since the server started) agreed on. */
  negotiatedTables(site: string): ReadonlySet<string> | undefined {
    return this.#negotiated.get(site);
  }

  /** Forgets which rows a device holds: it is dropping its synced rows to resync. */
  forgetDevice(site: string): void {
    this.#sent.forget(site);
  }

  /** Closes the file. */
  close(): void {
    this.replica.close();
  }

  /** Notes the sequences one push took (after `before`), when it took more than one. */
  #recordUnit(before: number): void {
    if (this.version > before + 1)
      this.replica.driver
        .prepare('INSERT OR REPLACE INTO offsync_server_units(first, last) VALUES (?, ?)')
        .run([before + 1, this.version]);
  }

  /** Whether a page ending at server sequence `cursor` ends inside one push's changes. */
  #insideUnit(cursor: number): boolean {
    const unit = this.replica.driver
      .prepare('SELECT last FROM offsync_server_units WHERE first <= ? ORDER BY first DESC LIMIT 1')
      .all([cursor])[0];
    return unit !== undefined && Number(unit[0]) > cursor;
  }

  #visible(changes: readonly Change[], claims: Readonly<Record<string, unknown>>): Set<string> {
    const byTable = groupKeys(changes);
    const visible = new Set<string>();
    for (const [table, rows] of byTable) {
      const keyColumns = this.replica.tableInfo(table).schema.primaryKey;
      const allowed = visibleKeys(
        this.replica.driver,
        table,
        keyColumns,
        [...rows.values()].map((row) => row.key),
        policyFor(this.#policies, table, 'select'),
        claims,
      );
      for (const [id, row] of rows) if (allowed.has(keyString(row.key))) visible.add(id);
    }
    return visible;
  }

  #check(
    rows: readonly PlannedRow[],
    claims: Readonly<Record<string, unknown>>,
    phase: 'before' | 'after',
  ): void {
    const refusals: (RowRefusal & { rawPk: Uint8Array })[] = [];
    const byTable = new Map<string, PlannedRow[]>();
    for (const row of rows) {
      const list = byTable.get(row.table);
      if (list) list.push(row);
      else byTable.set(row.table, [row]);
    }
    for (const [table, planned] of byTable) {
      const keyColumns = this.replica.tableInfo(table).schema.primaryKey;
      const checks: { operation: PolicyOperation; rows: PlannedRow[] }[] =
        phase === 'before'
          ? [
              {
                operation: 'delete',
                rows: planned.filter((row) => row.wasPresent && row.kind !== 'update'),
              },
              { operation: 'update', rows: planned.filter((row) => row.kind === 'update') },
            ]
          : [
              { operation: 'insert', rows: planned.filter((row) => row.kind === 'insert') },
              { operation: 'update', rows: planned.filter((row) => row.kind === 'update') },
            ];
      for (const { operation, rows: subject } of checks) {
        if (subject.length === 0) continue;
        const expression = policyFor(this.#policies, table, operation);
        const denied = new Set(
          forbiddenKeys(
            this.replica.driver,
            table,
            keyColumns,
            subject.map((row) => row.key),
            expression,
            claims,
            operation,
          ).map(keyString),
        );
        for (const row of subject) {
          if (!denied.has(keyString(row.key))) continue;
          const reason =
            expression === undefined
              ? `no ${operation} policy opens table ${table} to users`
              : `the ${operation} policy of ${table} (${expression}) denies this row ${phase === 'before' ? 'as it is' : 'as it would be'}`;
          refusals.push({ table, pk: bytesToHex(row.pk), reason, rawPk: row.pk });
        }
      }
    }
    if (refusals.length > 0) throw new PushRefusedError(refusals);
  }

  /** Pushed rows left unchanged because the server holds them in a later life than the push's. */
  #lostLives(
    changes: readonly Change[],
    changed: ReadonlySet<string>,
  ): { table: string; pk: string; rawPk: Uint8Array }[] {
    const pushed = new Map<string, { table: string; pk: Uint8Array; cl: number }>();
    for (const change of changes) {
      const id = rowId(change.table, change.pk);
      if (changed.has(id)) continue;
      const known = pushed.get(id);
      if (!known || change.cl > known.cl)
        pushed.set(id, { table: change.table, pk: change.pk, cl: change.cl });
    }
    const lost: { table: string; pk: string; rawPk: Uint8Array }[] = [];
    for (const row of pushed.values()) {
      const life = this.replica
        .rowsState(row.table, [row.pk])
        .find((change) => change.column === null);
      if (life && life.cl > row.cl)
        lost.push({ table: row.table, pk: bytesToHex(row.pk), rawPk: row.pk });
    }
    return lost;
  }

  #repair(
    refusals: readonly (RowRefusal & { readonly rawPk: Uint8Array })[],
    claims: Readonly<Record<string, unknown>>,
  ): { refusals: RowRefusal[]; repair: Uint8Array; evictions: Eviction[] } {
    const state: Change[] = [];
    const byTable = new Map<string, Uint8Array[]>();
    for (const refusal of refusals) {
      const list = byTable.get(refusal.table);
      if (list) list.push(refusal.rawPk);
      else byTable.set(refusal.table, [refusal.rawPk]);
    }
    for (const [table, pks] of byTable) state.push(...this.replica.rowsState(table, pks));
    const visible = this.#visible(state, claims);
    const evictions: Eviction[] = [];
    for (const refusal of refusals) {
      if (!visible.has(rowId(refusal.table, refusal.rawPk)))
        evictions.push({ table: refusal.table, pk: refusal.pk });
    }
    return {
      refusals: refusals.map(({ table, pk, reason }) => ({ table, pk, reason })),
      repair: encodeChangeset({
        changes: state.filter((change) => visible.has(rowId(change.table, change.pk))),
      }),
      evictions,
    };
  }
}

/**
 * The describer speaks of "local" and "remote" sides; this text goes to the client, to whom
 * "local" would mean its own table, so the sides are named: local is the server, remote the client.
 */
function sidesNamed(text: string): string {
  return text
    .replace(/ exists locally but not remotely$/, ' exists on the server but not on the client')
    .replace(/ exists remotely but not locally$/, ' exists on the client but not on the server')
    .replace(/: local (.*), remote (.*)$/, ': server $1, client $2')
    .replace(/^the remote schema description/, "the client's schema description");
}

function rowId(table: string, pk: Uint8Array): string {
  return `${table}\u0000${primaryKeyString(pk)}`;
}

function groupKeys(
  rows: readonly { table: string; pk: Uint8Array }[],
): Map<string, Map<string, { key: SqlValue[] }>> {
  const byTable = new Map<string, Map<string, { key: SqlValue[] }>>();
  for (const { table, pk } of rows) {
    let keys = byTable.get(table);
    if (!keys) {
      keys = new Map();
      byTable.set(table, keys);
    }
    const id = rowId(table, pk);
    if (!keys.has(id)) keys.set(id, { key: unpackPrimaryKey(pk) });
  }
  return byTable;
}

// Runs `enableSync`'s checks, waiving one more check each time a waivable one refuses, so the
// dashboard can offer every option a table needs at once rather than one refusal at a time.
function syncability(
  driver: SqliteDriver,
  schema: TableSchema,
): {
  readonly problem: string | undefined;
  readonly problemCode: SchemaProblem | undefined;
  readonly waivers: readonly SyncWaiver[] | undefined;
} {
  const waivers: SyncWaiver[] = [];
  let first: SchemaError | undefined;
  for (;;) {
    try {
      checkSyncable(driver, schema, Object.fromEntries(waivers.map((each) => [each, true])));
      return first === undefined
        ? { problem: undefined, problemCode: undefined, waivers: undefined }
        : { problem: first.message, problemCode: first.problem, waivers };
    } catch (error) {
      if (!(error instanceof SchemaError))
        return { problem: String(error), problemCode: undefined, waivers: undefined };
      first ??= error;
      const waiver = WAIVED_BY[error.problem];
      if (waiver === undefined || waivers.includes(waiver))
        return { problem: first.message, problemCode: first.problem, waivers: undefined };
      waivers.push(waiver);
    }
  }
}
