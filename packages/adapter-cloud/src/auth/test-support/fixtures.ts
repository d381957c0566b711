import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultEnv, type Env } from '@offsync/core';
import { afterEach, expect } from 'vitest';
import { AuthError, type AuthErrorCode } from '../auth-error.js';

/** 2023-11-14T22:13:20Z: a fixed clock, so token times are exact. */
export const NOW_MS = 1_700_000_000_000;
/** {@link NOW_MS} in JWT seconds. */
export const NOW_S = NOW_MS / 1000;

/** Real randomness, a settable clock. */
export function clockEnv(startMs = NOW_MS): Env & { set(ms: number): void } {
  let now = startMs;
  return {
    ...defaultEnv,
    now: () => now,
    set: (ms) => {
      now = ms;
    },
  };
}

/** A fresh temporary folder per call, removed after the test. */
export function useTempDirs(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'offsync-auth-'));
    made.push(dir);
    return dir;
  };
}

/**
 * Awaits a refusal and checks it is an AuthError with `code`, the right status, and a message and
 * JSON form that do not contain `secret` (the presented credential).
 */
export async function expectAuthError(
  promise: Promise<unknown>,
  code: AuthErrorCode,
  secret?: string,
): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AuthError);
  const authError = error as AuthError;
  expect(authError.type).toBe('AuthError');
  expect(authError.code).toBe(code);
  expect(authError.status).toBe(code === 'forbidden' ? 403 : 401);
  if (secret !== undefined && secret !== '') {
    expect(authError.message).not.toContain(secret);
    expect(JSON.stringify(authError.toJSON())).not.toContain(secret);
  }
  return authError;
}
