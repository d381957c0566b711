import type { SqlValue } from '../changes/value.js';
import { IntegerPrecisionError } from './errors.js';
import type { QueryOptions } from './query-options.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Turns the exact rows a driver read into the shape `options` asks for. With the defaults the
 * rows are returned as they are (no copy). `names` is only called when names are needed: object
 * rows, or naming the column of an {@link IntegerPrecisionError}.
 *
 * @example
 * ```ts
 * shapeRows([[1n, 'a']], { rows: 'object', integers: 'number' }, () => ['n', 's']);
 * // [{ n: 1, s: 'a' }]
 * ```
 */
export function shapeRows<Row>(
  rows: SqlValue[][],
  options: QueryOptions | undefined,
  names: () => readonly string[],
): Row[] {
  const integers = options?.integers ?? 'bigint';
  const objects = options?.rows === 'object';
  if (!objects && integers === 'bigint') return rows as Row[];
  const columns = objects ? names() : undefined;
  const convert = (value: SqlValue, index: number): unknown => {
    if (typeof value !== 'bigint' || integers === 'bigint') return value;
    if (integers === 'string') return value.toString();
    if (value > MAX_SAFE || value < -MAX_SAFE)
      throw new IntegerPrecisionError(columnName(columns ?? names(), index), value);
    return Number(value);
  };
  if (!objects) return rows.map((row) => row.map(convert)) as Row[];
  return rows.map((row) => {
    // A null-prototype object would not survive some UI libraries' equality checks; a plain
    // object with own enumerable keys is what JSON.stringify and spread expect.
    const object: Record<string, unknown> = {};
    for (let i = 0; i < row.length; i++) {
      const key = columnName(columns!, i);
      const value = convert(row[i]!, i);
      // A column aliased `__proto__` must become a key, not replace the object's prototype.
      if (key === '__proto__')
        Object.defineProperty(object, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else object[key] = value;
    }
    return object as Row;
  });
}

function columnName(columns: readonly string[], index: number): string {
  return columns[index] ?? `column ${index}`;
}
