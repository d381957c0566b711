import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqliteDriver } from '@offsync/core';
import type { ApiKeyStore } from '../auth/api-key-store.js';
import type { ApiKeyRole, Principal } from '../auth/principal.js';
import type { CentralStore } from './central-store.js';
import { RequestError } from './sync-service.js';

/** WebSocket close code of a session ended by an admin (a revoked device or key, a deleted database). */
export const ADMIN_CLOSED_CODE = 4403;

/**
 * What an admin operation may see of a live WebSocket session.
 *
 * @example
 * ```ts
 * const mine = (session: SessionView) => session.database === 'todos' && session.site === site;
 * ```
 */
export interface SessionView {
  /** The database the session syncs. */
  readonly database: string;
  /** Its device, once it said hello. */
  readonly site: string | undefined;
  /** Who it authenticated as, once it said hello. */
  readonly principal: Principal | undefined;
}

/**
 * What the operator routes need from the running server.
 *
 * @example
 * ```ts
 * const context: AdminOperationsContext = { store, apiKeys, closeSessions, now: Date.now };
 * ```
 */
export interface AdminOperationsContext {
  /** The databases. */
  readonly store: CentralStore;
  /** The server's API keys. */
  readonly apiKeys: ApiKeyStore;
  /** Closes every session that matches (with {@link ADMIN_CLOSED_CODE}) and counts them. */
  readonly closeSessions: (match: (session: SessionView) => boolean, reason: string) => number;
  /** Clock. */
  readonly now: () => number;
}

/**
 * An admin answer that is a file rather than JSON (a backup). The HTTP layer streams it with
 * {@link sendAdminFile}, which removes it afterwards.
 *
 * @example
 * ```ts
 * if (result instanceof AdminFile) return sendAdminFile(response, result);
 * ```
 */
export class AdminFile {
  constructor(
    /** A temporary file, removed once sent. */
    readonly path: string,
    /** Its media type. */
    readonly contentType: string,
    /** The name offered for saving it. */
    readonly filename: string,
    /** Removes the file (and its temporary folder). */
    readonly dispose: () => Promise<void>,
  ) {}
}

/**
 * Handles the operator routes (database deletion, API keys, device revocation, backup), or
 * returns `undefined` when the request is not one of them so `handleAdmin` goes on. The caller
 * has checked the admin key.
 *
 * `DELETE /databases/:db` → `{deleted}`; `GET /keys` → `[{id, name, role, createdAt,
 * lastUsedAt?, revokedAt?}]`; `POST /keys {name, role?, databases?}` → `{id, name, key}`;
 * `DELETE /keys/:id` → `{revoked}`; `DELETE /databases/:db/devices/:site` →
 * `{revoked, closedSessions}`; `GET /databases/:db/backup` → an {@link AdminFile}.
 *
 * @example
 * ```ts
 * const answer = adminOperation(context, 'DELETE', ['keys', id], undefined);
 * if (answer !== undefined) return await answer;
 * ```
 */
export function adminOperation(
  context: AdminOperationsContext,
  method: string,
  path: readonly string[],
  body: unknown,
): Promise<unknown> | undefined {
  const [first, name, section, item] = path;
  if (first === 'keys') {
    if (name === undefined && method === 'GET') return Promise.resolve(listKeys(context));
    if (name === undefined && method === 'POST') return createKey(context, body);
    if (name !== undefined && section === undefined && method === 'DELETE')
      return revokeKey(context, name);
    return undefined;
  }
  if (first !== 'databases' || name === undefined) return undefined;
  if (section === undefined && method === 'DELETE') return run(() => deleteDatabase(context, name));
  if (section === 'devices' && item !== undefined && path.length === 4 && method === 'DELETE')
    return run(() => revokeDevice(context, name, item));
  if (section === 'backup' && path.length === 3 && method === 'GET') return backup(context, name);
  return undefined;
}

function run<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}

function deleteDatabase(context: AdminOperationsContext, name: string): { deleted: string } {
  context.store.open(name); // not-found / invalid-name before any session is touched
  context.closeSessions((session) => session.database === name, 'database deleted');
  context.store.delete(name);
  return { deleted: name };
}

function revokeDevice(
  context: AdminOperationsContext,
  name: string,
  site: string,
): { revoked: string; closedSessions: number } {
  const database = context.store.open(name);
  if (database.devices.get(site) === undefined)
    throw new RequestError('no-such-device', 404, `database ${name} has no device ${site}`);
  database.devices.revocations.revoke(site, context.now());
  const closedSessions = context.closeSessions(
    (session) => session.database === name && session.site === site,
    'device revoked',
  );
  return { revoked: site, closedSessions };
}

function listKeys(context: AdminOperationsContext): unknown[] {
  return context.apiKeys.list().map((info) => {
    const lastUsedAt = context.apiKeys.lastUsedAt(info.id);
    return {
      id: info.id,
      name: info.label,
      role: info.role,
      createdAt: Date.parse(info.createdAt),
      ...(lastUsedAt === undefined ? {} : { lastUsedAt }),
      ...(info.revokedAt === undefined ? {} : { revokedAt: Date.parse(info.revokedAt) }),
      ...(info.databases === undefined ? {} : { databases: info.databases }),
    };
  });
}

const MAX_KEY_NAME = 200;

async function createKey(
  context: AdminOperationsContext,
  body: unknown,
): Promise<{ id: string; name: string; key: string; role: ApiKeyRole }> {
  const request = body === undefined ? {} : object(body);
  const name = request.name ?? '';
  if (typeof name !== 'string' || name.length > MAX_KEY_NAME)
    throw new RequestError('bad-request', 400, `name must be text of at most ${MAX_KEY_NAME}`);
  const role = request.role ?? 'admin';
  if (role !== 'admin' && role !== 'service')
    throw new RequestError('bad-request', 400, 'role must be "admin" or "service"');
  const databases = request.databases;
  if (
    databases !== undefined &&
    (!Array.isArray(databases) || !databases.every((each) => typeof each === 'string'))
  )
    throw new RequestError('bad-request', 400, 'databases must be a list of database names');
  const { id, key } = await context.apiKeys.create(
    role,
    name,
    databases === undefined ? {} : { databases: databases as string[] },
  );
  return { id, name, key, role };
}

async function revokeKey(
  context: AdminOperationsContext,
  id: string,
): Promise<{ revoked: string }> {
  const active = context.apiKeys.list().filter((info) => info.revokedAt === undefined);
  const target = active.find((info) => info.id === id);
  if (target === undefined) throw new RequestError('no-such-key', 404, `no active API key ${id}`);
  // Revoking the last admin key would leave a server nobody can administer without its files.
  if (target.role === 'admin' && active.filter((info) => info.role === 'admin').length === 1)
    throw new RequestError(
      'last-admin-key',
      409,
      `${id} is the last active admin key; create another before revoking it`,
    );
  await context.apiKeys.revoke(id);
  // A WebSocket authenticates once, at hello: its open session would outlive the key.
  context.closeSessions(
    (session) => session.principal !== undefined && keyIdOf(session.principal) === id,
    'API key revoked',
  );
  return { revoked: id };
}

async function backup(context: AdminOperationsContext, name: string): Promise<AdminFile> {
  const database = context.store.open(name);
  const folder = await mkdtemp(join(tmpdir(), 'offsync-backup-'));
  const dispose = (): Promise<void> => rm(folder, { recursive: true, force: true });
  const file = join(folder, `${name}.db`);
  try {
    // VACUUM INTO reads one snapshot and runs to completion on this thread, so no push lands in
    // the middle of it: the copy is the database as of one instant, compacted, without a WAL.
    database.replica.driver.prepare('VACUUM INTO ?').run([file]);
    checkIntegrity(database.replica.driver, file);
  } catch (error) {
    await dispose();
    throw error;
  }
  return new AdminFile(file, 'application/vnd.sqlite3', `${name}.db`, dispose);
}

function checkIntegrity(driver: SqliteDriver, file: string): void {
  // A copy that does not open or check is refused here rather than handed over as a backup.
  // ATTACH reads it through the same SQLite without switching it to WAL as a replica open would.
  driver.prepare('ATTACH ? AS offsync_backup_check').run([file]);
  try {
    const [row] = driver.prepare('PRAGMA offsync_backup_check.integrity_check').all();
    if (row?.[0] !== 'ok')
      throw new RequestError(
        'backup-failed',
        500,
        `the copy failed its integrity check: ${String(row?.[0])}`,
      );
  } finally {
    driver.exec('DETACH offsync_backup_check');
  }
}

/**
 * Streams an {@link AdminFile} as the answer, then removes it (also when the client goes away).
 *
 * @example
 * ```ts
 * if (result instanceof AdminFile) return sendAdminFile(response, result);
 * ```
 */
export function sendAdminFile(response: ServerResponse, file: AdminFile): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      void file.dispose().then(resolve, resolve);
    };
    response.writeHead(200, {
      'content-type': file.contentType,
      'content-disposition': `attachment; filename="${file.filename}"`,
      'cache-control': 'no-store',
    });
    const stream = createReadStream(file.path);
    stream.on('error', () => {
      response.destroy();
      finish();
    });
    response.on('close', finish);
    stream.pipe(response);
  });
}

function keyIdOf(principal: Principal): string | undefined {
  return principal.kind === 'user' ? undefined : principal.keyId;
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError('bad-request', 400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}
