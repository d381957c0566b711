import { isPolicyOperation } from '../rls/index.js';
import { type AdminOperationsContext, adminOperation } from './admin-operations.js';
import { adminUserRevocation, type UserRevocationContext } from './admin-user-revocation.js';
import type { CentralDatabase, TableStatus } from './central-database.js';
import type { CentralStore } from './central-store.js';
import { handleMigrationAdmin } from './migrations-admin.js';
import { listRefusals, type RefusalLog } from './observability/refusal-log.js';
import { RequestError } from './sync-service.js';

/**
 * What an admin request needs to know about the running server.
 *
 * @example
 * ```ts
 * const context: AdminContext = { store, connected: (db) => sessions.count(db), now: Date.now };
 * ```
 */
export interface AdminContext extends AdminOperationsContext {
  /** The databases. */
  readonly store: CentralStore;
  /** Site ids of devices connected to a database right now (WebSocket sessions). */
  readonly connected: (database: string) => ReadonlySet<string>;
  /** Clock. */
  readonly now: () => number;
  /** Server start time. */
  readonly startedAt: number;
  /** Tells a database's connected clients it changed (after a migration: `migration` is its number). */
  readonly notify?: (database: string, version: number, migration: number) => void;
  /** The latest refusals per database (`GET /databases/:db/refusals`). */
  readonly refusals?: RefusalLog;
  /** Revoked users' sessions (`POST /databases/:db/users/:user/revoke`). */
  readonly userRevocations?: UserRevocationContext['userRevocations'];
}

/**
 * Handles one admin API request (the caller has checked the admin key) and returns the JSON
 * body. Throws `RequestError`, `DatabaseError`, `SchemaError` or `PolicyError` for refusals; the
 * HTTP layer turns them into status codes with the error's data.
 *
 * Routes (all under `/v1/admin`):
 * `GET /databases`, `POST /databases {name, schema?}`, `GET /databases/:db`,
 * `GET /databases/:db/tables`, `PUT /databases/:db/tables/:table/sync {enabled, allowIntegerPrimaryKey?, allowForeignKeys?}`,
 * `GET /databases/:db/devices`, `GET /databases/:db/metrics?minutes=60`,
 * `GET /databases/:db/policies`, `PUT /databases/:db/policies/:table/:operation {expression}`,
 * `POST /databases/:db/sql {sql}`, `GET /status`; the operator routes of `admin-operations.ts`
 * (`DELETE /databases/:db`, `GET|POST /keys`, `DELETE /keys/:id`,
 * `DELETE /databases/:db/devices/:site`, `GET /databases/:db/backup`); the migration routes of
 * `migrations-admin.ts` (`POST /databases/:db/migrate {sql, name?}`,
 * `GET /databases/:db/migrations`).
 *
 * @example
 * ```ts
 * const body = handleAdmin(context, 'GET', ['databases'], new URLSearchParams(), undefined);
 * ```
 */
export function handleAdmin(
  context: AdminContext,
  method: string,
  path: readonly string[],
  query: URLSearchParams,
  body: unknown,
): unknown {
  const { store } = context;
  // Database deletion, API keys, device revocation and backup (admin-operations.ts); a promise.
  const operated = adminOperation(context, method, path, body);
  if (operated !== undefined) return operated;
  const revoked = adminUserRevocation(context, method, path);
  if (revoked !== undefined) return revoked;
  const [first, name, section, table, operation] = path;
  if (first === 'status' && path.length === 1 && method === 'GET') {
    return {
      ok: true,
      databases: store.list().length,
      uptimeMs: context.now() - context.startedAt,
    };
  }
  if (first !== 'databases')
    throw new RequestError('not-found', 404, `no admin route ${method} /${path.join('/')}`);
  if (name === undefined) {
    if (method === 'GET') return store.list().map((database) => summary(context, database));
    if (method === 'POST') {
      const request = object(body);
      const schema = request.schema;
      if (schema !== undefined && typeof schema !== 'string')
        throw new RequestError('bad-request', 400, 'schema must be SQL text');
      store.create(string(request, 'name'), schema);
      return summary(context, string(request, 'name'));
    }
  } else {
    const database = store.open(name);
    const migrated = handleMigrationAdmin(
      database,
      method,
      section,
      body,
      context.now(),
      context.notify,
    );
    if (migrated !== undefined) return migrated;
    if (section === undefined && method === 'GET') return summary(context, name);
    if (section === 'tables' && table === undefined && method === 'GET')
      return database.tables().map((status) => withRows(database, status));
    if (section === 'tables' && table !== undefined && operation === 'sync' && method === 'PUT') {
      const request = object(body);
      const enabled = request.enabled;
      if (typeof enabled !== 'boolean')
        throw new RequestError('bad-request', 400, 'enabled must be true or false');
      if (enabled)
        database.enableTable(table, {
          allowIntegerPrimaryKey: request.allowIntegerPrimaryKey === true,
          allowForeignKeys: request.allowForeignKeys === true,
        });
      else database.disableTable(table);
      const status = database.tables().find((each) => each.name === table);
      return status && withRows(database, status);
    }
    if (section === 'devices' && method === 'GET') {
      const connected = context.connected(name);
      return database.devices.list().map((device) => {
        const revokedAt = database.devices.revocations.revokedAt(device.site);
        return {
          ...device,
          connected: connected.has(device.site),
          ...(revokedAt === undefined ? {} : { revokedAt }),
        };
      });
    }
    if (section === 'metrics' && method === 'GET') {
      const minutes = Math.min(24 * 60, Math.max(1, Number(query.get('minutes') ?? 60) || 60));
      return {
        totals: database.devices.totals(),
        series: database.devices.metrics(minutes, context.now()),
      };
    }
    if (section === 'refusals' && table === undefined && method === 'GET')
      return listRefusals(context.refusals, name, query);
    if (section === 'policies' && table === undefined && method === 'GET')
      return database.policies();
    if (
      section === 'policies' &&
      table !== undefined &&
      operation !== undefined &&
      method === 'PUT'
    ) {
      if (!isPolicyOperation(operation))
        throw new RequestError('bad-request', 400, `unknown operation ${operation}`);
      const expression = object(body).expression;
      if (expression !== null && typeof expression !== 'string')
        throw new RequestError('bad-request', 400, 'expression must be SQL text or null');
      database.setPolicy(table, operation, expression);
      return database.policies();
    }
    if (section === 'sql' && method === 'POST') {
      runAdminSql(database, string(object(body), 'sql'));
      return { ok: true };
    }
  }
  throw new RequestError('not-found', 404, `no admin route ${method} /${path.join('/')}`);
}

/**
 * Runs admin SQL all or nothing (`a; b` where `b` fails leaves `a` undone too) and answers a
 * refusal with SQLite's own message as a 400: it is the admin's SQL, so the message is theirs to
 * read, while a stack or file path never leaves the server.
 */
function runAdminSql(database: CentralDatabase, sql: string): void {
  const driver = database.replica.driver;
  // A savepoint rather than BEGIN: it nests, so it also holds inside a transaction the SQL opens.
  driver.exec('SAVEPOINT offsync_admin_sql');
  try {
    driver.exec(sql);
  } catch (error) {
    try {
      driver.exec('ROLLBACK TO offsync_admin_sql; RELEASE offsync_admin_sql');
    } catch {
      // The SQL ended the transaction itself (COMMIT/ROLLBACK); there is nothing left to undo.
    }
    throw new RequestError('sql', 400, error instanceof Error ? error.message : String(error));
  }
  try {
    driver.exec('RELEASE offsync_admin_sql');
  } catch {
    // The SQL's own COMMIT or ROLLBACK already closed the savepoint.
  }
}

function summary(context: AdminContext, name: string): unknown {
  const database = context.store.open(name);
  return {
    name,
    sizeBytes: context.store.sizeOf(name),
    syncedTables: database.replica.syncedTables().length,
    tables: database.tables().length,
    devices: database.devices.list().length,
    connectedDevices: context.connected(name).size,
    version: database.version,
  };
}

// The dashboard shows row counts so an admin sees a client's rows arrive. count(*) scans the
// table, which is fine at admin-request rates.
function withRows(database: CentralDatabase, status: TableStatus): TableStatus & { rows: number } {
  const [row] = database.replica.driver
    .prepare(`SELECT count(*) FROM "${status.name.replaceAll('"', '""')}"`)
    .all();
  return { ...status, rows: Number(row?.[0] ?? 0) };
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError('bad-request', 400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function string(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0)
    throw new RequestError('bad-request', 400, `${field} must be a non-empty string`);
  return value;
}
