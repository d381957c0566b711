/**
 * The known limitations of libsql 0.5.29 (SQLite 3.45.1), in the shape the testkit's
 * `runDriverConformance(..., { limitations })` takes, so an app or a kit run states the same
 * reasons. Each is shown by a test of this package.
 *
 * - `'text-nul'`: TEXT is read up to its first NUL (`'a\0b'` reads as `'a'`), though the bytes
 *   are stored whole.
 * - `'real-to-text-digits'`: a REAL converted to TEXT keeps 15 significant digits.
 * - `'invalid-text-read'`: reading TEXT that is not valid UTF-8 aborts the process (a panic
 *   inside libsql), see {@link LIBSQL_INVALID_TEXT_READ}. libsql would also bind a lone
 *   surrogate as U+FFFD, so the driver refuses such a string. See the package README.
 *
 * @example
 * ```ts
 * runDriverConformance(setup, 'libsql', { limitations: LIBSQL_LIMITATIONS });
 * ```
 */
export const LIBSQL_LIMITATIONS: readonly {
  readonly id: 'text-nul' | 'real-to-text-digits' | 'invalid-text-read';
  readonly reason: string;
}[] = [
  {
    id: 'text-nul',
    reason:
      "libsql 0.5.29 reads TEXT up to its first NUL ('a\\0b' reads as 'a'; the bytes are stored whole)",
  },
  {
    id: 'real-to-text-digits',
    reason:
      'libsql 0.5.29 is SQLite 3.45.1, which converts REAL to TEXT with 15 significant digits',
  },
  {
    id: 'invalid-text-read',
    reason: 'libsql 0.5.29 aborts the process (a panic) when it reads TEXT that is not valid UTF-8',
  },
];

/**
 * Why the kit's invalid-text checks cannot run on libsql: reading TEXT that is not valid UTF-8
 * (`CAST(x'ff' AS TEXT)`) aborts the process inside libsql 0.5.29 (a Rust panic on
 * `Utf8Error`), which no driver can catch; declared to the kit as `'invalid-text-read'`.
 *
 * @example
 * ```ts
 * console.log(LIBSQL_INVALID_TEXT_READ); // why the invalid-UTF-8 check is skipped
 * ```
 */
export const LIBSQL_INVALID_TEXT_READ =
  'libsql 0.5.29 aborts the process (a panic) when it reads TEXT that is not valid UTF-8';
