import {
  type Changeset,
  describeSchemaDifference,
  SchemaMismatchError,
  type SchemaUpgrade,
  type TableRefusal,
} from '@offsync/core';
import { decodeChangeset, encodeChangeset } from '@offsync/core/codec';
import type { CentralDatabase, Negotiation } from './central-database.js';
import { migrationLog } from './migration-log.js';

/**
 * A client's view of a table a migration left it behind on: the fingerprint it declares and the
 * columns it has (those it is sent; the others keep their server values).
 *
 * @example
 * ```ts
 * const view: TableView = { fingerprint: 'v1:…', columns: new Set(['id', 'title']) };
 * ```
 */
export interface TableView {
  /** The client's fingerprint. */
  readonly fingerprint: string;
  /** Its columns. */
  readonly columns: ReadonlySet<string>;
}

/**
 * Reviews a hello's negotiation in the light of the migration history: a table a client
 * declares at an older schema that the server only added to is synced after all (the columns
 * both sides have) and listed as an `additive` upgrade; one a later migration changed
 * destructively is refused as `schema-outdated` with the reason. A client that migrated first
 * keeps today's `schema-mismatch` (naming the column it has and the server lacks): nothing tells
 * it from a client with another schema, and it syncs again once the server migrates.
 *
 * @example
 * ```ts
 * const { tables, refused, upgrades } = reviewNegotiation(database, hello.schemas, database.negotiate(hello.schemas));
 * ```
 */
export function reviewNegotiation(
  database: CentralDatabase,
  schemas: Readonly<Record<string, { readonly canonical: string; readonly fingerprint: string }>>,
  negotiation: Negotiation,
): Negotiation & { readonly upgrades: SchemaUpgrade[] } {
  const log = migrationLog(database);
  const tables = [...negotiation.tables];
  const refused: Record<string, TableRefusal> = { ...negotiation.refused };
  const upgrades: SchemaUpgrade[] = [];
  for (const [table, refusal] of Object.entries(negotiation.refused)) {
    const declared = schemas[table];
    if (refusal.code !== 'schema-mismatch' || declared === undefined) continue;
    const info = database.replica.tableInfo(table);
    const known = log.resolve(table, declared.fingerprint);
    if (known.kind === 'additive' && known.canonical === declared.canonical) {
      delete refused[table];
      tables.push(table);
      upgrades.push({
        table,
        fingerprint: info.fingerprint,
        kind: 'additive',
        migration: known.migration,
      });
    } else if (known.kind === 'destructive' && known.canonical === declared.canonical) {
      const difference = describeSchemaDifference(info.schema, declared.canonical);
      refused[table] = {
        code: 'schema-outdated',
        message: `table ${table} was migrated on the server (migration ${known.migration}) in a way this app's schema cannot sync across${difference ? ` (${difference.text.replace(/locally/g, 'on the server').replace(/remotely/g, 'on the client')})` : ''}: run the same migration on the device (replica.migrate) to reach ${info.fingerprint}`,
        ...(difference?.column === undefined ? {} : { column: difference.column }),
      };
      upgrades.push({
        table,
        fingerprint: info.fingerprint,
        kind: 'destructive',
        migration: known.migration,
      });
    }
  }
  return { tables, refused, upgrades };
}

/**
 * The `migration` field of a server message: absent before any migration.
 *
 * @example
 * ```ts
 * const welcome = { type: 'welcome', ...migrationField(database) };
 * ```
 */
export function migrationField(database: CentralDatabase): { migration?: number } {
  const latest = migrationLog(database).latest();
  return latest === 0 ? {} : { migration: latest };
}

/**
 * A push from a client at an older, additively migrated schema: the changeset's fingerprints of
 * those tables become the server's (it writes only columns the server has, which the push check
 * still verifies), and the views say which columns a repair sent back may carry. A fingerprint
 * the history does not bless is left for the push check to refuse.
 *
 * @example
 * ```ts
 * const { changeset, views } = liftPush(database, decodeChangeset(bytes));
 * ```
 */
export function liftPush(
  database: CentralDatabase,
  changeset: Changeset,
): { readonly changeset: Changeset; readonly views: ReadonlyMap<string, TableView> } {
  const views = viewsOf(database, changeset.fingerprints ?? {}, false);
  if (views.size === 0) return { changeset, views };
  const fingerprints = { ...changeset.fingerprints };
  for (const table of views.keys())
    fingerprints[table] = database.replica.tableInfo(table).fingerprint;
  return { changeset: { changes: changeset.changes, fingerprints }, views };
}

/**
 * The views of the tables a pull names at older fingerprints; a table whose fingerprint the
 * server cannot serve (migrated destructively, or never its schema) is refused with 409
 * `schema-mismatch`, so the client says hello again and learns why.
 *
 * @example
 * ```ts
 * const views = pullViews(database, pull.fingerprints, tables);
 * ```
 */
export function pullViews(
  database: CentralDatabase,
  fingerprints: Readonly<Record<string, string>> | undefined,
  tables: readonly string[],
): ReadonlyMap<string, TableView> {
  if (fingerprints === undefined) return new Map();
  const named = Object.fromEntries(
    tables.filter((table) => fingerprints[table] !== undefined).map((t) => [t, fingerprints[t]!]),
  );
  return viewsOf(database, named, true);
}

function viewsOf(
  database: CentralDatabase,
  fingerprints: Readonly<Record<string, string>>,
  strict: boolean,
): Map<string, TableView> {
  const views = new Map<string, TableView>();
  const synced = new Set(database.replica.syncedTables());
  const log = migrationLog(database);
  for (const [table, fingerprint] of Object.entries(fingerprints)) {
    if (!synced.has(table)) continue;
    const known = log.resolve(table, fingerprint);
    if (known.kind === 'current') continue;
    if (known.kind === 'additive') {
      views.set(table, { fingerprint, columns: new Set(known.columns) });
    } else if (strict) {
      throw new SchemaMismatchError(
        table,
        database.replica.tableInfo(table).fingerprint,
        fingerprint,
        known.kind === 'destructive'
          ? `migration ${known.migration} changed it in a way the client's schema cannot sync across; send hello again`
          : "the client's schema is not in the server's migration history; send hello again",
      );
    }
  }
  return views;
}

/**
 * A changeset for a client with older views of some tables: their cells of columns the client
 * lacks are left out (its merge would refuse them) and their fingerprints are the client's.
 * Returned as is when there is no view.
 *
 * @example
 * ```ts
 * const bytes = narrowChangeset(page.changeset, views);
 * ```
 */
export function narrowChangeset(
  bytes: Uint8Array,
  views: ReadonlyMap<string, TableView>,
): Uint8Array {
  if (views.size === 0 || bytes.length === 0) return bytes;
  const decoded = decodeChangeset(bytes);
  const changes = decoded.changes.filter((change) => {
    const view = views.get(change.table);
    return view === undefined || change.column === null || view.columns.has(change.column);
  });
  const fingerprints: Record<string, string> = { ...decoded.fingerprints };
  for (const [table, view] of views)
    if (table in fingerprints) fingerprints[table] = view.fingerprint;
  return encodeChangeset({ changes, fingerprints });
}
