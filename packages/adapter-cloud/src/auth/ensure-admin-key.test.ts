import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiKey } from './api-key.js';
import { ApiKeyStore } from './api-key-store.js';
import { AuthConfigError } from './auth-error.js';
import { ensureAdminKey } from './ensure-admin-key.js';
import { useTempDirs } from './test-support/fixtures.js';

const tempDir = useTempDirs();

async function freshStore(): Promise<ApiKeyStore> {
  return ApiKeyStore.open(join(await tempDir(), 'api-keys.json'));
}

describe('ensureAdminKey', () => {
  it('generates an admin key on first start and returns it once', async () => {
    const store = await freshStore();
    const key = await ensureAdminKey(store);
    expect(key).toMatch(/^osk_admin_/);
    expect(store.verify(key!)?.kind).toBe('admin');
    expect(await ensureAdminKey(store)).toBeUndefined();
    const reopened = await ApiKeyStore.open(store.path);
    expect(await ensureAdminKey(reopened)).toBeUndefined();
    expect(reopened.list()).toHaveLength(1);
  });

  it('generates a new one when every admin key was revoked', async () => {
    const store = await freshStore();
    const first = await ensureAdminKey(store);
    await store.revoke(store.verify(first!)!.keyId);
    const second = await ensureAdminKey(store, { label: 'recovery' });
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(store.verify(second!)).toMatchObject({ kind: 'admin', label: 'recovery' });
  });

  it('does not count service keys as admin keys', async () => {
    const store = await freshStore();
    await store.create('service', 'worker');
    expect(await ensureAdminKey(store)).toMatch(/^osk_admin_/);
  });

  it('records a key from the environment without returning it', async () => {
    const store = await freshStore();
    const fromEnv = generateApiKey('admin');
    expect(await ensureAdminKey(store, { fromEnv })).toBeUndefined();
    expect(store.verify(fromEnv)?.kind).toBe('admin');
    expect(await ensureAdminKey(store, { fromEnv })).toBeUndefined();
    expect(store.list()).toHaveLength(1);
  });

  it('treats an empty environment value as unset', async () => {
    const store = await freshStore();
    expect(await ensureAdminKey(store, { fromEnv: '' })).toMatch(/^osk_admin_/);
  });

  it('refuses an environment value that is not an admin key, without echoing it', async () => {
    const store = await freshStore();
    for (const fromEnv of [generateApiKey('service'), 'hunter2-is-my-password']) {
      const error = await ensureAdminKey(store, { fromEnv }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AuthConfigError);
      expect((error as AuthConfigError).message).not.toContain(fromEnv);
    }
    expect(store.list()).toEqual([]);
  });

  it('refuses to bring back a revoked environment key', async () => {
    const store = await freshStore();
    const fromEnv = generateApiKey('admin');
    await ensureAdminKey(store, { fromEnv });
    await store.revoke(store.verify(fromEnv)!.keyId);
    await expect(ensureAdminKey(store, { fromEnv })).rejects.toBeInstanceOf(AuthConfigError);
    expect(store.verify(fromEnv)).toBeUndefined();
  });
});
