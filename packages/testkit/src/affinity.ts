import type { SqliteDriver, SqlValue } from '@offsync/core';

/**
 * What SQLite stores for a value bound into a column WITHOUT a declared type (no affinity): the
 * value itself, exactly, except NaN, which SQLite turns into NULL (`sqlite3_bind_double` stores
 * NaN as NULL, in every binding). `-0.0` stays the REAL `-0.0`.
 *
 * @example
 * ```ts
 * storedWithoutAffinity(Number.NaN); // null
 * storedWithoutAffinity(-0); // -0
 * storedWithoutAffinity(2.0); // 2 (still a REAL)
 * ```
 */
export function storedWithoutAffinity(value: SqlValue): SqlValue {
  return typeof value === 'number' && Number.isNaN(value) ? null : value;
}

/**
 * The declared column types the affinity cases cover: none, and the four SQLite type names.
 *
 * @example
 * ```ts
 * const type: AffinityColumn = 'REAL';
 * ```
 */
export type AffinityColumn = '' | 'INTEGER' | 'REAL' | 'TEXT' | 'BLOB';

/**
 * A value written into each kind of column and what SQLite stores, as it documents (type
 * affinity, https://sqlite.org/datatype3.html) and as measured identically on better-sqlite3 and
 * sql.js. Every binding must give exactly these.
 *
 * @example
 * ```ts
 * const nan: AffinityCase = AFFINITY_CASES.find((c) => c.name === 'NaN')!;
 * nan.stored.REAL; // null
 * ```
 */
export interface AffinityCase {
  /** What the case shows. */
  readonly name: string;
  /** The value bound. */
  readonly value: SqlValue;
  /** What each kind of column stores (SQLite converting REAL to TEXT with up to 17 digits). */
  readonly stored: Readonly<Record<AffinityColumn, SqlValue>>;
  /**
   * Where a SQLite that converts REAL to TEXT with 15 significant digits (3.45.1 measured)
   * stores something else: the TEXT column of some REALs. Sync carries the stored text exactly
   * either way.
   */
  readonly fifteenDigits?: Readonly<Partial<Record<AffinityColumn, SqlValue>>>;
}

/**
 * How a binding's SQLite converts a REAL to TEXT (in a TEXT column, `CAST`, `||`): with up to 17
 * significant digits, so the text reads back as the same double (recent SQLite, as in
 * better-sqlite3, sql.js and `@sqlite.org/sqlite-wasm`), or with 15 (older SQLite, as in libsql on
 * 3.45.1).
 *
 * @example
 * ```ts
 * const conversion: RealToText = detectRealToText(driver);
 * ```
 */
export type RealToText = '17-digits' | '15-digits';

/**
 * Measures how the driver's SQLite converts a REAL to TEXT: by behaviour rather than by
 * `sqlite_version()`, so a build with its own patches is judged by what it does.
 *
 * @example
 * ```ts
 * detectRealToText(driver); // '17-digits' on SQLite 3.53
 * ```
 */
export function detectRealToText(driver: SqliteDriver): RealToText {
  const rows = driver.prepare('SELECT CAST(? AS TEXT)').all([2 ** 53]);
  return rows[0]?.[0] === '9.00719925474099e+15' ? '15-digits' : '17-digits';
}

/**
 * What `c` stores in a column of `type` under `conversion`.
 *
 * @example
 * ```ts
 * expectedStored(AFFINITY_CASES[0]!, 'TEXT', '15-digits');
 * ```
 */
export function expectedStored(
  c: AffinityCase,
  type: AffinityColumn,
  conversion: RealToText,
): SqlValue {
  const older = conversion === '15-digits' ? c.fifteenDigits : undefined;
  return older && type in older ? (older[type] as SqlValue) : c.stored[type];
}

const MAX = 2n ** 63n - 1n;

/**
 * The affinity cases: NaN, signed zero, integral REALs, 64-bit INTEGER extremes, numeric-looking
 * TEXT, infinities, and values no affinity touches.
 *
 * - NaN is stored as NULL in every column.
 * - `-0.0` keeps its sign only where no affinity applies (no declared type, BLOB); a REAL column
 *   stores `0.0` (SQLite keeps integral REALs as integers on disk), INTEGER stores `0`, and TEXT
 *   stores `'0.0'` (SQLite prints -0.0 as 0.0).
 * - `2.0` stays REAL except in an INTEGER column; `2n` becomes REAL in a REAL column.
 *
 * @example
 * ```ts
 * for (const { value, stored } of AFFINITY_CASES) insert(value), check(stored);
 * ```
 */
export const AFFINITY_CASES: readonly AffinityCase[] = [
  { name: 'NaN', value: Number.NaN, stored: all(null) },
  {
    name: '-0.0',
    value: -0,
    stored: { '': -0, INTEGER: 0n, REAL: 0, TEXT: '0.0', BLOB: -0 },
  },
  { name: '0.0', value: 0, stored: { '': 0, INTEGER: 0n, REAL: 0, TEXT: '0.0', BLOB: 0 } },
  { name: 'REAL 2.0', value: 2, stored: { '': 2, INTEGER: 2n, REAL: 2, TEXT: '2.0', BLOB: 2 } },
  {
    name: 'INTEGER 2',
    value: 2n,
    stored: { '': 2n, INTEGER: 2n, REAL: 2, TEXT: '2', BLOB: 2n },
  },
  {
    name: 'REAL 0.5',
    value: 0.5,
    stored: { '': 0.5, INTEGER: 0.5, REAL: 0.5, TEXT: '0.5', BLOB: 0.5 },
  },
  {
    name: 'INTEGER 2^63-1',
    value: MAX,
    stored: { '': MAX, INTEGER: MAX, REAL: 2 ** 63, TEXT: String(MAX), BLOB: MAX },
  },
  {
    name: 'INTEGER -2^63',
    value: -MAX - 1n,
    stored: {
      '': -MAX - 1n,
      INTEGER: -MAX - 1n,
      REAL: -(2 ** 63),
      TEXT: String(-MAX - 1n),
      BLOB: -MAX - 1n,
    },
  },
  {
    name: 'REAL 2^53',
    value: 2 ** 53,
    stored: {
      '': 2 ** 53,
      INTEGER: 2n ** 53n,
      REAL: 2 ** 53,
      TEXT: '9007199254740992.0',
      BLOB: 2 ** 53,
    },
    fifteenDigits: { TEXT: '9.00719925474099e+15' },
  },
  {
    name: 'REAL -5e-324 (smallest subnormal)',
    value: -5e-324,
    stored: {
      '': -5e-324,
      INTEGER: -5e-324,
      REAL: -5e-324,
      TEXT: '-4.9406564584124654e-324',
      BLOB: -5e-324,
    },
    fifteenDigits: { TEXT: '-4.94065645841247e-324' },
  },
  {
    name: 'REAL 1/3',
    value: 1 / 3,
    stored: {
      '': 1 / 3,
      INTEGER: 1 / 3,
      REAL: 1 / 3,
      TEXT: '0.33333333333333332',
      BLOB: 1 / 3,
    },
    fifteenDigits: { TEXT: '0.333333333333333' },
  },
  {
    name: 'REAL 9.3e18 (beyond INTEGER)',
    value: 9.3e18,
    stored: { '': 9.3e18, INTEGER: 9.3e18, REAL: 9.3e18, TEXT: '9.3e+18', BLOB: 9.3e18 },
  },
  {
    name: 'Infinity',
    value: Number.POSITIVE_INFINITY,
    stored: {
      '': Number.POSITIVE_INFINITY,
      INTEGER: Number.POSITIVE_INFINITY,
      REAL: Number.POSITIVE_INFINITY,
      TEXT: 'Inf',
      BLOB: Number.POSITIVE_INFINITY,
    },
  },
  {
    name: '-Infinity',
    value: Number.NEGATIVE_INFINITY,
    stored: {
      '': Number.NEGATIVE_INFINITY,
      INTEGER: Number.NEGATIVE_INFINITY,
      REAL: Number.NEGATIVE_INFINITY,
      TEXT: '-Inf',
      BLOB: Number.NEGATIVE_INFINITY,
    },
  },
  {
    name: "TEXT '12'",
    value: '12',
    stored: { '': '12', INTEGER: 12n, REAL: 12, TEXT: '12', BLOB: '12' },
  },
  {
    name: "TEXT '2.0'",
    value: '2.0',
    stored: { '': '2.0', INTEGER: 2n, REAL: 2, TEXT: '2.0', BLOB: '2.0' },
  },
  {
    name: "TEXT '-0.0'",
    value: '-0.0',
    stored: { '': '-0.0', INTEGER: 0n, REAL: 0, TEXT: '-0.0', BLOB: '-0.0' },
  },
  {
    name: "TEXT '9223372036854775808' (beyond INTEGER)",
    value: '9223372036854775808',
    stored: {
      '': '9223372036854775808',
      INTEGER: 2 ** 63,
      REAL: 2 ** 63,
      TEXT: '9223372036854775808',
      BLOB: '9223372036854775808',
    },
  },
  { name: "TEXT '0x10'", value: '0x10', stored: all('0x10') },
  { name: "TEXT 'a\\0b' (embedded NUL)", value: 'a\u0000b', stored: all('a\u0000b') },
  { name: "TEXT ''", value: '', stored: all('') },
  { name: 'BLOB x31', value: new Uint8Array([0x31]), stored: all(new Uint8Array([0x31])) },
  { name: 'BLOB empty', value: new Uint8Array(0), stored: all(new Uint8Array(0)) },
  { name: 'NULL', value: null, stored: all(null) },
];

function all(value: SqlValue): Record<AffinityColumn, SqlValue> {
  return { '': value, INTEGER: value, REAL: value, TEXT: value, BLOB: value };
}
