/**
 * Runs `fn` and returns what it threw; fails the test if it returned normally. Use it to assert
 * an error's fields (its `type` discriminant and data), not only its class.
 *
 * @example
 * ```ts
 * const error = thrownBy(() => replica.enableSync('nope'));
 * expect(error).toMatchObject({ type: 'SchemaError', problem: 'no-such-table' });
 * ```
 */
export function thrownBy(fn: () => unknown): Record<string, unknown> & Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error as Record<string, unknown> & Error;
    throw new Error(`expected an Error to be thrown, got ${String(error)}`);
  }
  throw new Error('expected a throw, but the call returned normally');
}
