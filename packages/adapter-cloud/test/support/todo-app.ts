import { expect } from 'vitest';

/** Calls a server's admin API; only the status of the answer is looked at. */
export type AdminCall = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ readonly status: number }>;

/**
 * Creates the database `app` from `schema`, switches sync on for its `todos` table, and opens
 * todos to user tokens, except that inserting a row titled 'forbidden' is refused: the tests of
 * refusal logs and metrics provoke a row refusal with it.
 *
 * @example
 * ```ts
 * await createTodoApp((method, path, body) => admin(method, path, body), TODOS);
 * ```
 */
export async function createTodoApp(admin: AdminCall, schema: string): Promise<void> {
  expect((await admin('POST', '/databases', { name: 'app', schema })).status).toBe(200);
  expect((await admin('PUT', '/databases/app/tables/todos/sync', { enabled: true })).status).toBe(
    200,
  );
  for (const [operation, expression] of [
    ['select', 'true'],
    ['insert', "title <> 'forbidden'"],
    ['update', 'true'],
    ['delete', 'true'],
  ] as const)
    expect(
      (await admin('PUT', `/databases/app/policies/todos/${operation}`, { expression })).status,
    ).toBe(200);
}
