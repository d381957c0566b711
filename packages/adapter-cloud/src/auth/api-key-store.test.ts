import { timingSafeEqual } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { API_KEY_PREFIX, apiKeyRole, generateApiKey, hashApiKey } from './api-key.js';
import { ApiKeyFileError, ApiKeyStore } from './api-key-store.js';
import { AuthConfigError } from './auth-error.js';
import { clockEnv, NOW_MS, useTempDirs } from './test-support/fixtures.js';

// A spy that delegates to the real function: the comparison stays real, the test can count it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const tempDir = useTempDirs();

async function openStore(path?: string): Promise<ApiKeyStore> {
  return ApiKeyStore.open(path ?? join(await tempDir(), 'api-keys.json'), { env: clockEnv() });
}

describe('API key format', () => {
  it('makes osk_<role>_ keys of 32 random bytes in base64url', () => {
    const admin = generateApiKey('admin');
    const service = generateApiKey('service');
    expect(admin).toMatch(/^osk_admin_[A-Za-z0-9_-]{43}$/);
    expect(service).toMatch(/^osk_service_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(admin.slice('osk_admin_'.length), 'base64url')).toHaveLength(32);
    expect(generateApiKey('admin')).not.toBe(admin);
    expect(admin.startsWith(API_KEY_PREFIX)).toBe(true);
  });

  it('reads the role from the prefix and refuses anything malformed', () => {
    expect(apiKeyRole(generateApiKey('admin'))).toBe('admin');
    expect(apiKeyRole(generateApiKey('service'))).toBe('service');
    const body = generateApiKey('admin').slice('osk_admin_'.length);
    for (const bad of [
      '',
      body,
      `osk_root_${body}`,
      `osk_admin_${body.slice(1)}`,
      `osk_admin_${body}x`,
      `osk_admin_${body.slice(1)}=`,
      `OSK_ADMIN_${body}`,
      ` osk_admin_${body}`,
    ]) {
      expect(apiKeyRole(bad)).toBeUndefined();
    }
  });

  it('hashes the whole key, so the same body under another role is another key', () => {
    const body = generateApiKey('admin').slice('osk_admin_'.length);
    const admin = hashApiKey(`osk_admin_${body}`);
    const service = hashApiKey(`osk_service_${body}`);
    expect(admin).toHaveLength(32);
    expect(admin.equals(service)).toBe(false);
  });
});

describe('ApiKeyStore', () => {
  beforeEach(() => {
    vi.mocked(timingSafeEqual).mockClear();
  });

  it('creates keys that verify with their role, id and label', async () => {
    const store = await openStore();
    const admin = await store.create('admin', 'ops');
    const service = await store.create('service', 'billing worker');
    expect(admin.key).toMatch(/^osk_admin_/);
    expect(service.key).toMatch(/^osk_service_/);
    expect(admin.id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(store.verify(admin.key)).toEqual({ kind: 'admin', keyId: admin.id, label: 'ops' });
    expect(store.verify(service.key)).toEqual({
      kind: 'service',
      keyId: service.id,
      label: 'billing worker',
    });
  });

  it('refuses a wrong key, a key of another store and malformed text', async () => {
    const store = await openStore();
    const { key } = await store.create('admin', 'ops');
    const other = await openStore();
    const foreign = (await other.create('admin', 'elsewhere')).key;
    expect(store.verify(foreign)).toBeUndefined();
    expect(store.check(foreign)).toEqual({ status: 'unknown' });
    expect(store.verify(generateApiKey('admin'))).toBeUndefined();
    // Same body under the other role prefix: a different key.
    expect(store.verify(key.replace('osk_admin_', 'osk_service_'))).toBeUndefined();
    // One character changed.
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expect(store.verify(key.slice(0, -1) + last)).toBeUndefined();
    expect(store.check('osk_admin_short')).toEqual({ status: 'malformed' });
    expect(store.check('')).toEqual({ status: 'malformed' });
  });

  it('stores only hashes, never the plaintext', async () => {
    const store = await openStore();
    const { key } = await store.create('service', 'worker');
    const text = await readFile(store.path, 'utf8');
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice('osk_service_'.length));
    const file = JSON.parse(text);
    expect(file.version).toBe(1);
    expect(file.keys[0]).toEqual({
      id: expect.stringMatching(/^key_/),
      role: 'service',
      label: 'worker',
      createdAt: new Date(NOW_MS).toISOString(),
      hash: hashApiKey(key).toString('base64url'),
    });
  });

  it('compares every stored hash with timingSafeEqual, without stopping at a match', async () => {
    const store = await openStore();
    const first = await store.create('admin', 'a');
    await store.create('service', 'b');
    await store.create('service', 'c');
    const compare = vi.mocked(timingSafeEqual);
    compare.mockClear();
    expect(store.verify(first.key)?.keyId).toBe(first.id);
    expect(compare).toHaveBeenCalledTimes(3);
    for (const [presented, stored] of compare.mock.calls) {
      expect(presented).toHaveLength(32);
      expect(stored).toHaveLength(32);
    }
    compare.mockClear();
    expect(store.verify(generateApiKey('admin'))).toBeUndefined();
    expect(compare).toHaveBeenCalledTimes(3);
  });

  it('persists keys across reopening', async () => {
    const path = join(await tempDir(), 'data', 'api-keys.json');
    const store = await openStore(path);
    const admin = await store.create('admin', 'ops');
    const service = await store.create('service', 'worker');
    const reopened = await openStore(path);
    expect(reopened.verify(admin.key)?.keyId).toBe(admin.id);
    expect(reopened.verify(service.key)?.kind).toBe('service');
    expect(reopened.list()).toEqual(store.list());
  });

  it('revokes a key at once and for good, and says so', async () => {
    const path = join(await tempDir(), 'api-keys.json');
    const store = await openStore(path);
    const kept = await store.create('service', 'kept');
    const gone = await store.create('service', 'gone');
    expect(await store.revoke(gone.id)).toBe(true);
    expect(store.verify(gone.key)).toBeUndefined();
    expect(store.check(gone.key)).toEqual({ status: 'revoked', keyId: gone.id });
    expect(store.verify(kept.key)?.keyId).toBe(kept.id);
    expect(await store.revoke(gone.id)).toBe(false);
    expect(await store.revoke('key_0000000000000000')).toBe(false);

    const reopened = await openStore(path);
    expect(reopened.check(gone.key)).toEqual({ status: 'revoked', keyId: gone.id });
    expect(reopened.verify(kept.key)?.keyId).toBe(kept.id);
    const info = reopened.list().find((entry) => entry.id === gone.id);
    expect(info?.revokedAt).toBe(new Date(NOW_MS).toISOString());
  });

  it('lists key information without secrets', async () => {
    const store = await openStore();
    expect(store.list()).toEqual([]);
    const { id, key } = await store.create('admin', 'ops');
    const list = store.list();
    expect(list).toEqual([
      { id, role: 'admin', label: 'ops', createdAt: new Date(NOW_MS).toISOString() },
    ]);
    expect(JSON.stringify(list)).not.toContain(key.slice(10));
    expect(Object.isFrozen(list[0])).toBe(true);
  });

  it('writes atomically: no temporary file is left behind', async () => {
    const dir = await tempDir();
    const store = await openStore(join(dir, 'api-keys.json'));
    await store.create('admin', 'a');
    await store.revoke((await store.create('service', 'b')).id);
    expect(await readdir(dir)).toEqual(['api-keys.json']);
  });

  it('serialises concurrent changes so none is lost', async () => {
    const path = join(await tempDir(), 'api-keys.json');
    const store = await openStore(path);
    const created = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.create('service', `worker ${i}`)),
    );
    const reopened = await openStore(path);
    expect(reopened.list()).toHaveLength(10);
    for (const { key, id } of created) expect(reopened.verify(key)?.keyId).toBe(id);
  });

  it('leaves memory unchanged when the file cannot be written', async () => {
    const dir = await tempDir();
    const blocker = join(dir, 'data');
    const store = await openStore(join(blocker, 'api-keys.json'));
    // The data folder turns out to be a file: the write fails (even for root).
    await writeFile(blocker, 'x');
    await expect(store.create('admin', 'a')).rejects.toBeInstanceOf(ApiKeyFileError);
    expect(store.list()).toEqual([]);
  });

  it('refuses a corrupt or foreign key file with its path', async () => {
    const dir = await tempDir();
    const cases: Array<[string, string]> = [
      ['garbage.json', '{nope'],
      ['version.json', JSON.stringify({ version: 2, keys: [] })],
      ['entry.json', JSON.stringify({ version: 1, keys: [{ id: 'key_1', role: 'root' }] })],
    ];
    for (const [name, text] of cases) {
      const path = join(dir, name);
      await writeFile(path, text);
      const error = await ApiKeyStore.open(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiKeyFileError);
      expect((error as ApiKeyFileError).path).toBe(path);
    }
  });

  it('registers an externally made key once, and never a revoked one again', async () => {
    const store = await openStore();
    const key = generateApiKey('admin');
    const info = await store.register(key, 'bootstrap');
    expect(store.verify(key)).toEqual({ kind: 'admin', keyId: info.id, label: 'bootstrap' });
    expect(await store.register(key, 'again')).toEqual(info);
    expect(store.list()).toHaveLength(1);
    await store.revoke(info.id);
    await expect(store.register(key, 'bootstrap')).rejects.toBeInstanceOf(AuthConfigError);
    await expect(store.register('osk_admin_nope', 'x')).rejects.toBeInstanceOf(AuthConfigError);
    expect(store.check(key).status).toBe('revoked');
  });

  it("keeps a service key's databases across reopening, and refuses scoping an admin key", async () => {
    const path = join(await tempDir(), 'api-keys.json');
    const store = await openStore(path);
    const { id, key } = await store.create('service', 'billing worker', {
      databases: ['billing', 'audit'],
    });
    const reopened = await openStore(path);
    expect(reopened.verify(key)).toEqual({
      kind: 'service',
      keyId: id,
      label: 'billing worker',
      databases: ['billing', 'audit'],
    });
    await expect(store.create('admin', 'ops', { databases: ['billing'] })).rejects.toBeInstanceOf(
      AuthConfigError,
    );
    await expect(store.create('service', 'x', { databases: [] })).rejects.toBeInstanceOf(
      AuthConfigError,
    );
    await expect(store.create('service', 'x', { databases: ['../etc'] })).rejects.toBeInstanceOf(
      AuthConfigError,
    );
    expect(store.list()).toHaveLength(1);
  });
});
