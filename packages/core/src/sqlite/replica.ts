import type { Change } from '../changes/change.js';
import { type Changeset, decodeChangeset, encodeChangeset } from '../changes/codec.js';
import {
  createEncoder,
  toBytes,
  writeBytes,
  writeRaw,
  writeString,
  writeU8,
  writeVarUint,
} from '../changes/encoding.js';
import { comparePackedKeys } from '../changes/primary-key.js';
import type { SqlValue } from '../changes/value.js';
import { writeSqlValue } from '../changes/value-codec.js';
import { defaultEnv, type Env } from '../env.js';
import { compareHlc, type Hlc, HybridClock } from '../hlc/hlc.js';
import { newSiteId, type SiteId, siteIdFromBytes, siteIdToBytes } from '../hlc/site-id.js';
import { ChangeFeed, type ListenerErrorHandler } from '../live/change-feed.js';
import type { QueryOptions } from '../live/query-options.js';
import type { LiveQuery, ReplicaChange } from '../live/replica-change.js';
import { type ApplyGuard, applyMerge } from './apply.js';
import { BulkWriter } from './bulk.js';
import { withoutCapture } from './capture.js';
import {
  type ChangePage,
  type ChangesSinceOptions,
  readChangesSince,
  readRows,
} from './changes-since.js';
import type { ReplicaContext } from './context.js';
import type { SqliteDriver } from './driver.js';
import { NotSyncedError, SchemaError, SchemaMismatchError } from './errors.js';
import { assertExactRowText, mayBeInexactText } from './exact-text.js';
import { foldLog, newFlushStamps, planFlushStamps } from './fold.js';
import { collectFreshRows, writeFreshRows } from './fresh-rows.js';
import { createMetadataTables, METADATA_FORMAT, upgradeMetadata } from './metadata.js';
import { type MigrateOptions, type MigrationResult, runMigration } from './migrate.js';
import { decodeRowClocks } from './row-clocks.js';
import {
  canonicalSchema,
  checkSyncable,
  type EnableSyncOptions,
  readTableSchema,
  schemaFingerprint,
  type TableSchema,
} from './schema.js';
import {
  createShadowTables,
  createTriggers,
  dropShadowTables,
  dropTriggers,
  LogOp,
} from './shadow-tables.js';
import { inSavepoint, quoteIdentifier } from './sql.js';
import { StampStore } from './stamp-store.js';
import { type SyncedColumn, SyncedTable, toMetaRow } from './synced-table.js';

/** Options of {@link SqliteReplica.open}. */
export interface SqliteReplicaOptions {
  /** Clock and randomness (tests inject fakes). */
  readonly env?: Env;
  /** Drift bound for received stamps (default 5 minutes). */
  readonly maxDriftMs?: number;
}

/**
 * What {@link SqliteReplica.applyChanges} did.
 *
 * @example
 * ```ts
 * const { rows } = replica.applyChanges(bytes);
 * ```
 */
export interface ApplyResult {
  /** Rows whose state changed. */
  readonly rows: number;
  /** The replica's version (local sequence) after the merge. */
  readonly version: number;
}

/**
 * A synced table's schema as the replica records it.
 *
 * @example
 * ```ts
 * replica.tableInfo('todos').fingerprint; // 'v1:…'
 * ```
 */
export interface SyncedTableInfo {
  /** Table name. */
  readonly name: string;
  /** Schema. */
  readonly schema: TableSchema;
  /** Canonical schema text (what fingerprints hash; sent in sync handshakes). */
  readonly canonical: string;
  /** Schema fingerprint. */
  readonly fingerprint: string;
  /** The checks `enableSync` was told to waive for this table. */
  readonly options: EnableSyncOptions;
}

/**
 * Greatest stamp seen from each site: what a peer already has, for peer-to-peer exchange.
 *
 * @example
 * ```ts
 * const vector: VersionVector = replica.versionVector();
 * ```
 */
export type VersionVector = Readonly<Record<SiteId, Hlc>>;

/** Options of {@link SqliteReplica.applyChanges}. */
export interface ApplyOptions {
  /** Checks run inside the merge's transaction (the server's row-level security). */
  readonly guard?: ApplyGuard;
}

/** Options of {@link SqliteReplica.commitAlter}. */
export interface CommitAlterOptions {
  /** Columns renamed by the ALTER, old name → new name (detected automatically otherwise). */
  readonly renamed?: Readonly<Record<string, string>>;
}

/**
 * A SQLite database whose tables sync: the SQLite mapping of OffSync, written once against a
 * {@link SqliteDriver}. The app reads and writes its tables with plain SQL through its own
 * connection; triggers capture every write into a change log, folded into per-row metadata
 * (causal length and per-column clocks) whenever changes are read or merged.
 *
 * @example
 * ```ts
 * const replica = SqliteReplica.open(driver);
 * driver.exec('CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER DEFAULT 0)');
 * replica.enableSync('todos');
 * driver.exec("INSERT INTO todos(id, title) VALUES ('t1', 'milk')");
 * const page = replica.changesSince(0);
 * other.applyChanges(page.changes);
 * ```
 */
export class SqliteReplica {
  /** The connection. */
  readonly driver: SqliteDriver;
  #site: SiteId;
  readonly #env: Env;
  readonly #clock: HybridClock;
  readonly #stamps: StampStore;
  readonly #context: ReplicaContext;
  readonly #tables = new Map<string, SyncedTable>();
  readonly #altering = new Set<string>();
  /** Synced tables whose schema was changed without beginAlter, in a way that cannot be absorbed. */
  readonly #drifted = new Map<string, SchemaError>();
  /** `PRAGMA schema_version` when the synced tables' schemas were last compared with SQLite's. */
  #schemaVersion = -1;
  #seq = 0;
  #depth = 0;
  readonly #feed: ChangeFeed;

  private constructor(driver: SqliteDriver, site: SiteId, clock: HybridClock, env: Env) {
    this.driver = driver;
    this.#site = site;
    this.#env = env;
    this.#clock = clock;
    this.#stamps = new StampStore(driver);
    this.#feed = new ChangeFeed({
      driver,
      tables: () => this.#tables.values(),
      seq: () => this.#seq,
      flush: () => this.flush(),
    });
    const siteOf = (): SiteId => this.#site;
    this.#context = {
      driver,
      get site(): SiteId {
        return siteOf();
      },
      clock,
      stamps: this.#stamps,
      bulk: new BulkWriter(driver),
      nextSeq: () => ++this.#seq,
      reserveSeqs: (count) => {
        const first = this.#seq + 1;
        this.#seq += count;
        return first;
      },
    };
  }

  /**
   * Opens a replica over a connection: creates the metadata tables on first use, and reloads the
   * site id, clock and synced tables after that.
   */
  static open(driver: SqliteDriver, options: SqliteReplicaOptions = {}): SqliteReplica {
    const env = options.env ?? defaultEnv;
    createMetadataTables(driver);
    const state = readState(driver);
    const format = state.get('format');
    if (
      format !== undefined &&
      !(
        Number.isInteger(Number(format)) &&
        Number(format) >= 1 &&
        Number(format) <= METADATA_FORMAT
      )
    ) {
      throw new SchemaError(
        'offsync_state',
        'reserved-name',
        `metadata format ${String(format)} is not supported`,
        'upgrade @offsync/core',
      );
    }
    let site: SiteId;
    const stored = state.get('site');
    if (stored instanceof Uint8Array) {
      site = siteIdFromBytes(stored);
    } else {
      site = newSiteId(env);
      driver
        .prepare(
          "INSERT INTO offsync_state(key, value) VALUES ('site', ?), ('format', ?), ('seq', 0)",
        )
        .run([siteIdToBytes(site), BigInt(METADATA_FORMAT)]);
    }
    const clock = new HybridClock(site, {
      env,
      ...(options.maxDriftMs === undefined ? {} : { maxDriftMs: options.maxDriftMs }),
      last: {
        wall: Number(state.get('clock_wall') ?? 0),
        counter: Number(state.get('clock_counter') ?? 0),
      },
    });
    const replica = new SqliteReplica(driver, site, clock, env);
    replica.#seq = Number(state.get('seq') ?? 0);
    replica.#loadTables();
    if (format !== undefined && Number(format) < METADATA_FORMAT) {
      const tables = [...replica.#tables.values()].map((table) => ({
        shadow: table.shadow,
        valueColumns: valueColumnsOf(table.schema),
        altering: replica.#altering.has(table.name),
      }));
      inSavepoint(driver, () => upgradeMetadata(driver, Number(format), tables));
    }
    return replica;
  }

  /** The latest local sequence number: every change up to it is readable with `changesSince`. */
  get version(): number {
    this.flush();
    return this.#seq;
  }

  /** The clock's last stamp. */
  get clock(): Hlc {
    return this.#clock.last;
  }

  /** Names of the synced tables, sorted. */
  syncedTables(): string[] {
    return [...this.#tables.keys()].sort();
  }

  /** Schema and fingerprint of a synced table. */
  tableInfo(table: string): SyncedTableInfo {
    const synced = this.#table(table);
    return {
      name: table,
      schema: synced.schema,
      canonical: canonicalSchema(synced.schema),
      fingerprint: synced.fingerprint,
      options: synced.options,
    };
  }

  /**
   * Starts syncing a table (idempotent). Checks the schema first and refuses with a
   * {@link SchemaError} naming the column and the fix; then creates the metadata and triggers and
   * records every existing row as a change.
   */
  enableSync(table: string, options: EnableSyncOptions = {}): void {
    if (this.#tables.has(table)) return;
    this.#operation(() => {
      const schema = readTableSchema(this.driver, table);
      checkSyncable(this.driver, schema, options);
      const id = Number(
        this.driver
          .prepare(
            'INSERT INTO offsync_tables(name, schema, fingerprint, options) VALUES (?, ?, ?, ?) RETURNING id',
          )
          .all([
            table,
            JSON.stringify(schema),
            schemaFingerprint(schema),
            JSON.stringify(options),
          ])[0]![0],
      );
      schema.valueColumns.forEach((name, position) => {
        this.driver
          .prepare(
            'INSERT INTO offsync_columns(table_id, id, name, position, added_seq) VALUES (?, ?, ?, ?, 0)',
          )
          .run([BigInt(id), BigInt(position + 1), name, BigInt(position)]);
      });
      const synced = this.#loadTable(id);
      createShadowTables(this.driver, synced.shadow, schema);
      createTriggers(this.driver, synced.shadow, valueColumnsOf(schema));
      const keys = synced.shadow.keys.join(', ');
      this.driver.exec(
        `INSERT INTO ${synced.shadow.log}(op, ${keys}) SELECT ${LogOp.Insert}, ${synced.shadow.baseKeys.join(', ')} FROM ${synced.shadow.table}`,
      );
      this.#tables.set(table, synced);
      this.#fold();
    });
  }

  /** Stops syncing a table: drops its triggers and metadata, keeps its data. */
  disableSync(table: string): void {
    const synced = this.#tables.get(table);
    if (!synced) return;
    this.#operation(() => {
      dropShadowTables(this.driver, synced.shadow);
      this.driver
        .prepare('DELETE FROM offsync_columns WHERE table_id = ?')
        .run([BigInt(synced.id)]);
      this.driver.prepare('DELETE FROM offsync_tables WHERE id = ?').run([BigInt(synced.id)]);
    });
    this.#tables.delete(table);
    this.#altering.delete(table);
  }

  /**
   * Folds captured local writes into the sync metadata, stamping them. Reading changes and
   * merging do it first, so calling it is only needed to bound the log's size. Returns the number
   * of rows folded.
   */
  flush(): number {
    return this.#operation(() => this.#fold());
  }

  /**
   * Changes with a local sequence above `seq`, in sequence order, current values (an index range
   * scan per table). Page with `limit` and the returned `cursor`.
   */
  changesSince(seq: number, options: ChangesSinceOptions = {}): ChangePage {
    return this.#operation(() => {
      this.#fold();
      const tables = (options.tables ?? this.syncedTables()).map((name) => this.#table(name));
      for (const table of tables) {
        const drift = this.#drifted.get(table.name);
        if (drift) throw drift;
      }
      return readChangesSince(this.#context, tables, seq, options, this.#seq);
    });
  }

  /**
   * {@link SqliteReplica.changesSince} encoded as a changeset (with each table's schema
   * fingerprint), ready to send.
   */
  changesetSince(
    seq: number,
    options: ChangesSinceOptions = {},
  ): { readonly bytes: Uint8Array } & Omit<ChangePage, 'changes'> {
    const page = this.changesSince(seq, options);
    const tables = options.tables ?? this.syncedTables();
    const fingerprints = Object.fromEntries(
      tables.map((name) => [name, this.#table(name).fingerprint]),
    );
    return {
      bytes: encodeChangeset({ changes: page.changes, fingerprints }),
      cursor: page.cursor,
      hasMore: page.hasMore,
      rows: page.rows,
    };
  }

  /**
   * Merges remote changes: encoded bytes, a decoded changeset or a list of changes. All or
   * nothing, in one transaction. Refused whole, with the database exactly as before, on: a
   * malformed changeset (`DecodeError`), a table not synced here ({@link NotSyncedError}), an
   * unknown column or a fingerprint that differs ({@link SchemaMismatchError}), a stamp beyond
   * the drift bound (`DriftError`), or a write SQLite refuses (`ApplyError`).
   */
  applyChanges(
    input: Uint8Array | Changeset | readonly Change[],
    options: ApplyOptions = {},
  ): ApplyResult {
    if (input instanceof Uint8Array && !options.guard) {
      const fresh = this.#applyFresh(input);
      if (fresh) return fresh;
    }
    const changeset: Changeset =
      input instanceof Uint8Array
        ? decodeChangeset(input)
        : Array.isArray(input)
          ? { changes: input as readonly Change[] }
          : (input as Changeset);
    this.#validate(changeset);
    return this.#operation(() => {
      this.#fold();
      this.#feed.remoteFrom(this.#seq);
      const outcome = applyMerge(
        this.#context,
        this.#tables,
        changeset.changes,
        { nowMs: this.#clock.physicalNow(), maxDriftMs: this.#clock.maxDriftMs },
        options.guard,
      );
      if (outcome.maxStamp) this.#clock.observe(outcome.maxStamp);
      return { rows: outcome.rows, version: this.#seq };
    });
  }

  // Whole rows this replica has never held (an initial sync, most batches of inserts) are written
  // straight from the bytes: no change objects, no merge decisions. Anything else returns
  // undefined with nothing written, and takes the general path.
  #applyFresh(bytes: Uint8Array): ApplyResult | undefined {
    const maxWall = this.#clock.physicalNow() + this.#clock.maxDriftMs;
    const batch = collectFreshRows(
      bytes,
      this.#tables,
      (name) => this.#altering.has(name),
      maxWall,
    );
    if (!batch) return undefined;
    return this.#operation(() => {
      this.#fold();
      this.#feed.remoteFrom(this.#seq);
      const outcome = writeFreshRows(this.#context, batch);
      if (!outcome) return undefined;
      if (outcome.maxStamp) this.#clock.observe(outcome.maxStamp);
      return { rows: outcome.rows, version: this.#seq };
    });
  }

  /**
   * This replica's site id (persisted in the database). It changes only when
   * {@link SqliteReplica.renewSite} finds the replica restored from a backup.
   */
  get site(): SiteId {
    return this.#site;
  }

  /**
   * The local sequence at which this replica first stored `stamp` (issued or received it), or
   * `undefined` when it does not hold it. A sync server's greatest stamp from this replica's site
   * that the replica does not hold means the replica was restored from a backup taken before
   * that stamp was issued.
   *
   * @example
   * ```ts
   * if (replica.stampSeq(serverStamp) === undefined) replica.renewSite(acked, serverStamp);
   * ```
   */
  stampSeq(stamp: Hlc): number | undefined {
    const row = this.driver
      .prepare('SELECT seq FROM offsync_stamps WHERE wall = ? AND counter = ? AND site = ?')
      .all([BigInt(stamp.wall), BigInt(stamp.counter), siteIdToBytes(stamp.site)])[0];
    return row ? Number(row[0]) : undefined;
  }

  /**
   * The greatest stamp this replica holds from `site`, or `undefined` (an index range read: what
   * a sync server tells a device in `welcome`).
   *
   * @example
   * ```ts
   * const latest = central.latestStampFrom(device.site);
   * ```
   */
  latestStampFrom(site: SiteId): Hlc | undefined {
    const row = this.driver
      .prepare(
        'SELECT wall, counter FROM offsync_stamps WHERE site = ? ORDER BY wall DESC, counter DESC LIMIT 1',
      )
      .all([siteIdToBytes(site)])[0];
    return row ? { wall: Number(row[0]), counter: Number(row[1]), site } : undefined;
  }

  /**
   * Takes a new site id, for a replica restored from a backup: its clock and sequence went back
   * to the backup's, so its next stamps could repeat stamps its earlier self already issued with
   * other values. Local writes not yet delivered (stamps first stored after local sequence
   * `deliveredUpTo`, the server's acknowledgement) move to the new site with their times kept,
   * so they are sent as the new site's and merge as any other device's writes; everything older
   * keeps its stamps. `seen` (the greatest stamp the server holds from the old site) is observed
   * so the clock runs past it. Returns the new site id.
   *
   * @example
   * ```ts
   * const site = replica.renewSite(acked, serverStamp);
   * ```
   */
  renewSite(deliveredUpTo: number, seen?: Hlc): SiteId {
    return this.#operation(() => {
      const old = this.#site;
      const site = newSiteId(this.#env);
      this.#site = site;
      this.#clock.changeSite(site);
      if (seen) this.#clock.observe(seen);
      this.driver
        .prepare("UPDATE offsync_state SET value = ? WHERE key = 'site'")
        .run([siteIdToBytes(site)]);
      // Writes still in the log are stamped for the new site directly; folded ones move over.
      this.#fold();
      this.driver
        .prepare('UPDATE offsync_stamps SET site = ? WHERE site = ? AND seq > ?')
        .run([siteIdToBytes(site), siteIdToBytes(old), BigInt(deliveredUpTo)]);
      // Cached stamps still name the old site.
      this.#stamps.reset();
      return site;
    });
  }

  /** The greatest stamp this replica holds from each site (its own included). */
  versionVector(): VersionVector {
    const vector: Record<SiteId, Hlc> = {};
    this.#operation(() => this.#fold());
    for (const [wall, counter, siteBytes] of this.driver
      .prepare('SELECT wall, counter, site FROM offsync_stamps')
      .all()) {
      const stamp: Hlc = {
        wall: Number(wall),
        counter: Number(counter),
        site: siteIdFromBytes(siteBytes as Uint8Array),
      };
      const known = vector[stamp.site];
      if (!known || compareHlc(stamp, known) > 0) vector[stamp.site] = stamp;
    }
    return vector;
  }

  /**
   * Every change a peer with version vector `vector` may lack: those whose stamp is newer than the
   * peer's entry for the stamp's site. Apply the result whole (it is one batch).
   */
  changesSinceVector(vector: VersionVector): Change[] {
    return this.#operation(() => {
      this.#fold();
      let fromSeq = Number.POSITIVE_INFINITY;
      for (const [wall, counter, siteBytes, seq] of this.driver
        .prepare('SELECT wall, counter, site, seq FROM offsync_stamps')
        .all()) {
        const stamp: Hlc = {
          wall: Number(wall),
          counter: Number(counter),
          site: siteIdFromBytes(siteBytes as Uint8Array),
        };
        const known = vector[stamp.site];
        if (!known || compareHlc(stamp, known) > 0) fromSeq = Math.min(fromSeq, Number(seq));
      }
      if (fromSeq === Number.POSITIVE_INFINITY) return [];
      const page = readChangesSince(
        this.#context,
        [...this.#tables.values()],
        fromSeq - 1,
        {},
        this.#seq,
      );
      return page.changes.filter((change) => {
        const known = vector[change.stamp.site];
        return !known || compareHlc(change.stamp, known) > 0;
      });
    });
  }

  /**
   * Prepares a synced table for `ALTER TABLE`: folds pending writes and lifts the triggers. Run
   * the ALTER statements, then {@link SqliteReplica.commitAlter}. Writes in between are not
   * synced, and the table's remote changes are refused until the commit.
   */
  beginAlter(table: string): void {
    const synced = this.#table(table);
    this.#operation(() => {
      this.#fold();
      dropTriggers(this.driver, synced.shadow);
      this.driver
        .prepare('UPDATE offsync_tables SET altering = ? WHERE id = ?')
        .run([canonicalSchema(synced.schema), BigInt(synced.id)]);
    });
    this.#altering.add(table);
  }

  /**
   * Takes up the new schema after {@link SqliteReplica.beginAlter} and the ALTER statements:
   * added columns get new ids (no row is rewritten: rows written before have no value for them),
   * dropped columns are forgotten, renamed columns keep their history. A column that disappeared
   * and one that appeared at the same position with the same declared type count as a rename,
   * unless `renamed` says otherwise. Changing the primary key is refused.
   */
  commitAlter(table: string, options: CommitAlterOptions = {}): void {
    const synced = this.#table(table);
    if (!this.#altering.has(table)) {
      throw new SchemaError(
        table,
        'altering',
        'commitAlter was called without beginAlter',
        `call beginAlter('${table}') before the ALTER statements`,
      );
    }
    this.#operation(() => {
      const schema = readTableSchema(this.driver, table);
      checkSyncable(this.driver, schema, synced.options);
      if (JSON.stringify(schema.primaryKey) !== JSON.stringify(synced.schema.primaryKey)) {
        throw new SchemaError(
          table,
          'altering',
          'the primary key changed',
          'disable sync, change the key, and enable sync again',
        );
      }
      const renamed = new Map(Object.entries(options.renamed ?? {}));
      const oldByName = new Map(synced.columns.map((column) => [column.name, column]));
      const kept = new Set(
        schema.valueColumns.filter((name) => oldByName.has(name) && !renamed.has(name)),
      );
      const vanished = synced.columns.filter(
        (column) => !schema.valueColumns.includes(column.name) || renamed.has(column.name),
      );
      if (!options.renamed) {
        // Heuristic: same position, same declared type.
        for (const column of vanished) {
          const oldSchema = synced.schema.columns.find((c) => c.name === column.name)!;
          const position = synced.schema.columns.indexOf(oldSchema);
          const candidate = schema.columns[position];
          if (
            candidate &&
            !oldByName.has(candidate.name) &&
            candidate.primaryKey === 0 &&
            candidate.type === oldSchema.type
          ) {
            renamed.set(column.name, candidate.name);
          }
        }
      }
      const idOfNew = new Map<string, number>();
      for (const name of kept) idOfNew.set(name, oldByName.get(name)!.id);
      for (const [from, to] of renamed) {
        const column = oldByName.get(from);
        if (column && schema.valueColumns.includes(to)) idOfNew.set(to, column.id);
      }
      let nextId = Math.max(0, ...synced.columns.map((column) => column.id)) + 1;
      const addedSeq = this.#context.nextSeq();
      this.driver
        .prepare('DELETE FROM offsync_columns WHERE table_id = ?')
        .run([BigInt(synced.id)]);
      schema.valueColumns.forEach((name, position) => {
        const existing = idOfNew.get(name);
        const previous = existing === undefined ? undefined : synced.columnsById.get(existing);
        this.driver
          .prepare(
            'INSERT INTO offsync_columns(table_id, id, name, position, added_seq) VALUES (?, ?, ?, ?, ?)',
          )
          .run([
            BigInt(synced.id),
            BigInt(existing ?? nextId++),
            name,
            BigInt(position),
            BigInt(previous?.addedSeq ?? addedSeq),
          ]);
      });
      this.driver
        .prepare(
          'UPDATE offsync_tables SET schema = ?, fingerprint = ?, altering = NULL WHERE id = ?',
        )
        .run([JSON.stringify(schema), schemaFingerprint(schema), BigInt(synced.id)]);
      const updated = this.#loadTable(synced.id);
      this.driver.exec(`DROP TABLE IF EXISTS ${updated.shadow.log}`);
      createShadowTables(this.driver, updated.shadow, schema);
      createTriggers(this.driver, updated.shadow, valueColumnsOf(schema));
      this.#tables.set(table, updated);
    });
    this.#altering.delete(table);
  }

  /**
   * Runs a migration file (the same file the sync server ran with `offsync migrate`), all or
   * nothing: `ALTER TABLE` (add, drop, rename a column), `CREATE TABLE` and `CREATE INDEX` only,
   * each synced table it touches altered between {@link SqliteReplica.beginAlter} and
   * {@link SqliteReplica.commitAlter}, so it ends with the server's fingerprint. Applying the
   * same file again does nothing (`applied: false`). Throws `MigrationError` with nothing
   * changed. See `docs/migrations.md`.
   *
   * @example
   * ```ts
   * replica.migrate('ALTER TABLE todos ADD COLUMN due TEXT');
   * ```
   */
  migrate(sql: string, options: MigrateOptions = {}): MigrationResult {
    return runMigration(this, sql, options, () => this.#reload());
  }

  // After a rolled-back migration the database is as before, but beginAlter/commitAlter moved
  // the in-memory tables on: read them again.
  #reload(): void {
    this.#tables.clear();
    this.#altering.clear();
    this.#drifted.clear();
    this.#schemaVersion = -1;
    this.#seq = Number(readState(this.driver).get('seq') ?? 0);
    this.#loadTables();
  }

  /**
   * A canonical byte image of the replicated state, in the same format as `MemoryReplica.dump`:
   * tables by name, rows by packed key with causal length, each column's value and stamp. Two
   * replicas that received the same changes have equal dumps.
   */
  dump(): Uint8Array {
    return this.#operation(() => {
      this.#fold();
      const encoder = createEncoder(1024);
      for (const name of this.syncedTables()) {
        const table = this.#table(name);
        const { shadow } = table;
        const join = shadow.keys
          .map((key, i) => `t.${shadow.baseKeys[i]} = m.${key}`)
          .join(' AND ');
        const values = table.columns
          .map((column) => `, t.${quoteIdentifier(column.name)}`)
          .join('');
        const rows = this.driver
          .prepare(
            `SELECT ${shadow.keys.map((key) => `m.${key}`).join(', ')}, m.cl, m.seq, m.sid, m.dseq, m.clocks${values} FROM ${shadow.meta} m LEFT JOIN ${shadow.table} t ON ${join}`,
          )
          .all()
          .map((row) => ({ row, pk: table.packKey(row.slice(0, table.keyWidth)) }))
          .sort((a, b) => comparePackedKeys(a.pk, b.pk));
        writeString(encoder, name);
        writeVarUint(encoder, rows.length);
        for (const { row, pk } of rows) {
          // A dump of text read inexactly would call byte-different replicas equal.
          if (row.some(mayBeInexactText)) {
            assertExactRowText(this.driver, table, row, table.keyWidth + 5);
          }
          const meta = toMetaRow(row.slice(0, table.keyWidth), row, table.keyWidth);
          const slots = decodeRowClocks(meta, table.columns);
          writeBytes(encoder, pk);
          writeVarUint(encoder, meta.cl);
          table.columns.forEach((column, i) => {
            const clock = slots.get(column.id)!;
            if (clock.sid === 0) {
              writeU8(encoder, 0);
              return;
            }
            const stamp = this.#stamps.stamp(clock.sid);
            writeU8(encoder, 1);
            writeSqlValue(encoder, row[table.keyWidth + 5 + i] as SqlValue);
            writeVarUint(encoder, stamp.wall);
            writeVarUint(encoder, stamp.counter);
            writeRaw(encoder, siteIdToBytes(stamp.site));
          });
        }
      }
      return toBytes(encoder);
    });
  }

  /**
   * The whole current state of some rows (sentinel and every cell of the current life), by packed
   * key; rows this replica does not know are left out.
   */
  rowsState(table: string, pks: readonly Uint8Array[]): Change[] {
    const synced = this.#table(table);
    return this.#operation(() => {
      this.#fold();
      return readRows(
        this.#context,
        synced,
        pks.map((pk) => synced.unpackKey(pk)),
      );
    });
  }

  /** A setting this replica keeps for its user (sync cursors, ...), or `undefined`. */
  readSetting(key: string): string | undefined {
    const row = this.driver
      .prepare('SELECT value FROM offsync_state WHERE key = ?')
      .all([`setting:${key}`])[0];
    return row === undefined || row[0] === null ? undefined : String(row[0]);
  }

  /** Stores (or, with `null`, removes) a setting. */
  writeSetting(key: string, value: string | null): void {
    if (value === null)
      this.driver.prepare('DELETE FROM offsync_state WHERE key = ?').run([`setting:${key}`]);
    else
      this.driver
        .prepare('INSERT OR REPLACE INTO offsync_state(key, value) VALUES (?, ?)')
        .run([`setting:${key}`, value]);
  }

  /**
   * A number that changes whenever any connection writes to a synced table (the captured log
   * grows) or the replica merges: cheap enough to poll for "local commit" detection.
   */
  localChangeMark(): number {
    let mark = this.#seq;
    for (const table of this.#tables.values()) {
      mark += Number(
        this.driver.prepare(`SELECT coalesce(max(id), 0) FROM ${table.shadow.log}`).all()[0]![0],
      );
    }
    return mark;
  }

  /**
   * Drops rows locally without recording a change: they left this user's row-level-security scope
   * on the server. Keys are packed primary keys. Unknown tables and rows are ignored.
   */
  evict(rows: readonly { readonly table: string; readonly pk: Uint8Array }[]): number {
    return this.#operation(() => {
      this.#fold();
      return this.#dropRows(rows);
    });
  }

  /**
   * Takes the server's state for rows it refused: the listed rows are dropped locally (with their
   * unsent local changes) and replaced by `changes`, and `evictions` are dropped, all silently and
   * in one transaction.
   */
  takeBack(
    changes: readonly Change[],
    evictions: readonly { readonly table: string; readonly pk: Uint8Array }[],
  ): void {
    this.#validate({ changes });
    this.#operation(() => {
      this.#fold();
      this.#feed.remoteFrom(this.#seq);
      this.#dropRows([
        ...changes.map((change) => ({ table: change.table, pk: change.pk })),
        ...evictions,
      ]);
      const outcome = applyMerge(this.#context, this.#tables, changes, {
        nowMs: this.#clock.physicalNow(),
        maxDriftMs: this.#clock.maxDriftMs,
      });
      if (outcome.maxStamp) this.#clock.observe(outcome.maxStamp);
    });
  }

  /**
   * Removes every row of every synced table locally, with its metadata, recording no change:
   * what logging out of a sync account does. Tables stay synced; settings under `sync:` go.
   */
  clearSyncedData(): void {
    this.#operation(() => {
      this.#fold();
      withoutCapture(this.driver, this.#tables.values(), () => {
        this.#feed.clearing(this.#tables.values());
        for (const table of this.#tables.values()) {
          const { shadow } = table;
          this.driver.exec(`DELETE FROM ${shadow.table}; DELETE FROM ${shadow.meta};`);
        }
      });
      this.driver.exec("DELETE FROM offsync_state WHERE key LIKE 'setting:sync:%'");
    });
  }

  /**
   * Subscribes to changes of the synced tables: one event per commit or merge (never one per
   * row), with the tables and readable primary keys touched; returns the unsubscribe function.
   * Merges by this replica are delivered as they commit; writes committed through any connection
   * (`replica.driver` included) when the replica next looks: at {@link SqliteReplica.notifyChanges},
   * at every sync-client poll, and at every replica operation (reading changes, merging). A
   * listener that throws does not affect the merge or other listeners: see
   * {@link SqliteReplica.onListenerError}. Guide: docs/live-queries.md.
   *
   * @example
   * ```ts
   * const stop = replica.onChange(({ source, tables, rows }) => console.log(source, tables, rows));
   * ```
   */
  onChange(listener: (change: ReplicaChange) => void): () => void {
    return this.#feed.onChange(listener);
  }

  /**
   * Keeps a query's result up to date: it re-runs only when a table the query reads changed
   * (found from SQLite's plan, so views, joins and subqueries count) and calls back only when the
   * result differs, value by value, from the last one. The first result is `rows` of the returned
   * {@link LiveQuery}; the callback receives later ones. A query that reads tables which are not
   * synced also re-runs on any commit {@link SqliteReplica.notifyChanges} sees.
   *
   * @example
   * ```ts
   * const live = replica.watch<{ id: string }>('SELECT id FROM todos WHERE done = ?', [0n], render, {
   *   rows: 'object',
   * });
   * render(live.rows);
   * live.stop();
   * ```
   */
  watch<Row = SqlValue[]>(
    sql: string,
    params: readonly SqlValue[],
    callback: (rows: readonly Row[]) => void,
    options?: QueryOptions,
  ): LiveQuery<Row> {
    return this.#feed.watch(sql, params, callback, options);
  }

  /**
   * Runs a query and returns its rows: exact positional arrays by default, or plain objects and
   * JSON-safe integers as `options` asks ({@link QueryOptions}).
   *
   * @example
   * ```ts
   * replica.query<{ id: string; done: number }>('SELECT id, done FROM todos', [], {
   *   rows: 'object',
   *   integers: 'number',
   * }); // [{ id: 't1', done: 0 }]
   * ```
   */
  query<Row = SqlValue[]>(
    sql: string,
    params: readonly SqlValue[] = [],
    options?: QueryOptions,
  ): Row[] {
    return this.#feed.query<Row>(sql, params, options);
  }

  /**
   * Looks now for writes committed by any connection or process since the last look, and
   * delivers them to change listeners and live queries. Costs one small query when nothing was
   * committed. Call it after writing through `replica.driver` for an immediate update; the sync
   * client also calls it at every poll (`pollMs`, 250 ms by default). Inside an open transaction
   * it does nothing: the next call after COMMIT delivers.
   *
   * @example
   * ```ts
   * replica.driver.prepare('UPDATE todos SET done = 1 WHERE id = ?').run(['t1']);
   * replica.notifyChanges(); // listeners and live queries run now
   * ```
   */
  notifyChanges(): void {
    this.#feed.notify();
  }

  /**
   * Registers a handler for errors thrown by change listeners and live queries (a
   * {@link ListenerError}); returns the unregister function. Without any handler they go to
   * `console.error`. Either way the merge or commit that fired the event is unaffected.
   *
   * @example
   * ```ts
   * replica.onListenerError((error) => report(error.cause));
   * ```
   */
  onListenerError(handler: ListenerErrorHandler): () => void {
    return this.#feed.onListenerError(handler);
  }

  /** Closes the connection. */
  close(): void {
    this.driver.close();
  }

  #table(name: string): SyncedTable {
    const table = this.#tables.get(name);
    if (!table) throw new NotSyncedError(name);
    return table;
  }

  #validate(changeset: Changeset): void {
    // A schema changed behind the replica's back must be seen before changes are judged by it.
    this.#operation(() => this.#checkSchema());
    const fingerprints = changeset.fingerprints ?? {};
    for (const [name, fingerprint] of Object.entries(fingerprints)) {
      const table = this.#tables.get(name);
      if (table && fingerprint !== table.fingerprint) {
        throw new SchemaMismatchError(
          name,
          table.fingerprint,
          fingerprint,
          'schema fingerprints differ',
        );
      }
    }
    let last: SyncedTable | undefined;
    for (const change of changeset.changes) {
      if (last?.name !== change.table) {
        last = this.#tables.get(change.table);
        if (!last) throw new NotSyncedError(change.table);
        const drift = this.#drifted.get(change.table);
        if (drift) throw drift;
        if (this.#altering.has(change.table)) {
          throw new SchemaError(
            change.table,
            'altering',
            'the table is being altered',
            `finish with commitAlter('${change.table}')`,
          );
        }
      }
      if (change.column !== null && !last.columnsByName.has(change.column)) {
        throw new SchemaMismatchError(
          change.table,
          last.fingerprint,
          fingerprints[change.table] ?? 'unknown',
          `remote changes write column ${change.column}, which this replica's table does not have`,
          change.column,
        );
      }
    }
  }

  #dropRows(rows: readonly { readonly table: string; readonly pk: Uint8Array }[]): number {
    let dropped = 0;
    withoutCapture(this.driver, this.#tables.values(), () => {
      for (const { table: name, pk } of rows) {
        const table = this.#tables.get(name);
        if (!table) continue;
        const key = table.unpackKey(pk);
        this.#feed.dropped(table, key);
        const { shadow } = table;
        const base = shadow.baseKeys.map((column) => `${column} = ?`).join(' AND ');
        const meta = shadow.keys.map((column) => `${column} = ?`).join(' AND ');
        this.driver.prepare(`DELETE FROM ${shadow.table} WHERE ${base}`).run(key);
        this.driver.prepare(`DELETE FROM ${shadow.meta} WHERE ${meta}`).run(key);
        dropped++;
      }
    });
    return dropped;
  }

  /**
   * Synced tables whose schema was changed without {@link SqliteReplica.beginAlter} in a way
   * that cannot be taken up on its own (a renamed, dropped or retyped column), each with a
   * {@link SchemaError} (`schema-drift`) naming the table and the fix. Their changes are neither
   * read nor merged until fixed; other tables keep syncing. Checked cheaply, through SQLite's
   * `schema_version`, before every read or merge.
   */
  schemaDrift(): ReadonlyMap<string, SchemaError> {
    this.#operation(() => this.#checkSchema());
    return new Map(this.#drifted);
  }

  /**
   * Compares each synced table with SQLite's schema when `schema_version` moved. An ALTER made
   * without beginAlter used to be silent (an added column never synced) or to break every sync
   * (`no such column` after a rename): an added column is now taken up as commitAlter would, and
   * anything else stops that table with a typed error.
   */
  #checkSchema(): void {
    const version = Number(this.driver.prepare('PRAGMA schema_version').all()[0]?.[0] ?? 0);
    if (version === this.#schemaVersion) return;
    this.#schemaVersion = version;
    let absorbed = false;
    for (const table of [...this.#tables.values()]) {
      if (this.#altering.has(table.name)) continue;
      const live = readTableSchema(this.driver, table.name);
      if (live.columns.length > 0 && schemaFingerprint(live) === table.fingerprint) {
        this.#drifted.delete(table.name);
        continue;
      }
      if (onlyAddedColumns(table.schema, live)) {
        // What beginAlter + commitAlter do; the writes made since the ALTER to the new column
        // were not captured (as between beginAlter and commitAlter), later ones are.
        this.beginAlter(table.name);
        this.commitAlter(table.name);
        this.#drifted.delete(table.name);
        absorbed = true;
        continue;
      }
      this.#drifted.set(
        table.name,
        new SchemaError(
          table.name,
          'schema-drift',
          live.columns.length === 0
            ? 'the table was dropped or renamed while synced'
            : 'its columns were renamed, dropped or changed without beginAlter, so its changes cannot be read or merged',
          `call beginAlter('${table.name}') then commitAlter('${table.name}'${live.columns.length === 0 ? '' : ', { renamed: { old: "new" } }'}) to take up the new schema (or disableSync('${table.name}')); next time run ALTER TABLE between beginAlter and commitAlter`,
        ),
      );
    }
    if (absorbed)
      this.#schemaVersion = Number(this.driver.prepare('PRAGMA schema_version').all()[0]?.[0] ?? 0);
  }

  #fold(): number {
    this.#checkSchema();
    const stamp = newFlushStamps();
    const tables = [...this.#tables.values()].filter(
      (table) => !this.#altering.has(table.name) && !this.#drifted.has(table.name),
    );
    planFlushStamps(this.#context, tables, stamp);
    let rows = 0;
    for (const table of tables) rows += foldLog(this.#context, table, stamp);
    return rows;
  }

  /** Runs `fn` in a transaction; the outermost call refreshes and persists the replica state. */
  #operation<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.#depth++;
    let committed = false;
    try {
      const outcome = inSavepoint(this.driver, () => {
        // Another connection may have moved the state on; stamps cached by a rolled-back
        // transaction must not be trusted, so caches live for one operation.
        this.#stamps.reset();
        this.#seq = Number(readState(this.driver).get('seq') ?? this.#seq);
        const result = fn();
        const last = this.#clock.last;
        this.driver
          .prepare(
            "INSERT OR REPLACE INTO offsync_state(key, value) VALUES ('seq', ?), ('clock_wall', ?), ('clock_counter', ?)",
          )
          .run([BigInt(this.#seq), BigInt(last.wall), BigInt(last.counter)]);
        return result;
      });
      committed = true;
      return outcome;
    } finally {
      this.#depth--;
      this.#feed.afterOperation(committed);
    }
  }

  #loadTables(): void {
    for (const [id, name, altering] of this.driver
      .prepare('SELECT id, name, altering FROM offsync_tables')
      .all()) {
      this.#tables.set(String(name), this.#loadTable(Number(id)));
      if (altering !== null) this.#altering.add(String(name));
    }
  }

  #loadTable(id: number): SyncedTable {
    const [schemaText, fingerprint, options] = this.driver
      .prepare('SELECT schema, fingerprint, options FROM offsync_tables WHERE id = ?')
      .all([BigInt(id)])[0]!;
    const columns: SyncedColumn[] = this.driver
      .prepare(
        'SELECT id, name, position, added_seq FROM offsync_columns WHERE table_id = ? ORDER BY position',
      )
      .all([BigInt(id)])
      .map(([columnId, columnName, position, addedSeq]) => ({
        id: Number(columnId),
        name: String(columnName),
        position: Number(position),
        addedSeq: Number(addedSeq),
      }));
    const schema = JSON.parse(String(schemaText)) as TableSchema;
    return new SyncedTable(
      this.driver,
      id,
      schema,
      String(fingerprint),
      columns,
      JSON.parse(String(options)) as EnableSyncOptions,
    );
  }
}

/**
 * The live schema only adds value columns at the end that ADD COLUMN could add to a synced table
 * (nullable or with a default); every earlier column and the key are as they were.
 */
function onlyAddedColumns(synced: TableSchema, live: TableSchema): boolean {
  if (live.columns.length <= synced.columns.length) return false;
  if (JSON.stringify(live.primaryKey) !== JSON.stringify(synced.primaryKey)) return false;
  const same = synced.columns.every(
    (column, i) => JSON.stringify(column) === JSON.stringify(live.columns[i]),
  );
  if (!same) return false;
  return live.columns
    .slice(synced.columns.length)
    .every(
      (column) => column.primaryKey === 0 && (!column.notNull || column.defaultValue !== null),
    );
}

function valueColumnsOf(schema: TableSchema): TableSchema['columns'] {
  return schema.columns.filter((column) => column.primaryKey === 0);
}

function readState(driver: SqliteDriver): Map<string, SqlValue> {
  return new Map(
    driver
      .prepare('SELECT key, value FROM offsync_state')
      .all()
      .map(([key, value]) => [String(key), value ?? null]),
  );
}
