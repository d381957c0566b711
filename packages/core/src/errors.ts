/**
 * Base class of every error OffSync throws at an API boundary.
 *
 * Errors are data: each subclass has a literal `type` discriminant and readonly fields with the
 * facts needed to act, so callers switch on `type` instead of matching messages, and the error
 * survives `structuredClone`/`postMessage` with its fields intact.
 *
 * @example
 * ```ts
 * try {
 *   replica.applyChanges(bytes);
 * } catch (error) {
 *   if (error instanceof OffsyncError && error.type === 'DecodeError') console.log(error.offset);
 * }
 * ```
 */
export abstract class OffsyncError extends Error {
  /** Discriminant naming the kind of error, identical to the class name. */
  abstract readonly type: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** The error's data as a plain object (what crosses a wire or a worker boundary). */
  toJSON(): Record<string, unknown> {
    const data: Record<string, unknown> = { type: this.type, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      data[key] = typeof value === 'bigint' ? value.toString() : value;
    }
    return data;
  }
}

/**
 * A value that is not one of SQLite's five storage classes, or an INTEGER outside 64 bits.
 *
 * @example
 * ```ts
 * assertSqlValue(2n ** 64n); // throws InvalidValueError
 * ```
 */
export class InvalidValueError extends OffsyncError {
  readonly type = 'InvalidValueError';
  /** Why the value was refused. */
  readonly reason: string;

  constructor(reason: string) {
    super(`invalid SQL value: ${reason}`);
    this.reason = reason;
  }
}
