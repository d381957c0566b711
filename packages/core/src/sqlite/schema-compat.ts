type CanonicalColumn = readonly [string, string, number, string | null, number];

function columnsOf(canonical: string): CanonicalColumn[] | undefined {
  try {
    const parsed: unknown = JSON.parse(canonical);
    if (!Array.isArray(parsed)) return undefined;
    const columns: CanonicalColumn[] = [];
    for (const column of parsed) {
      if (
        !Array.isArray(column) ||
        column.length !== 5 ||
        typeof column[0] !== 'string' ||
        typeof column[1] !== 'string' ||
        typeof column[2] !== 'number' ||
        !(column[3] === null || typeof column[3] === 'string') ||
        typeof column[4] !== 'number'
      )
        return undefined;
      columns.push(column as unknown as CanonicalColumn);
    }
    return columns;
  } catch {
    return undefined;
  }
}

/**
 * The columns an older schema shares with a newer one, when the newer one only adds columns the
 * older side can live without: every older column is in the newer schema with the same
 * declaration and in the same order, and every added column is outside the key and nullable or
 * defaulted (what `ALTER TABLE … ADD COLUMN` allows). A client at the older schema then keeps
 * syncing those columns (a rolling app update); `undefined` for any other difference (a
 * dropped, renamed or retyped column: a destructive change). Both arguments are
 * `canonicalSchema` texts.
 *
 * @example
 * ```ts
 * sharedColumns(before.canonical, after.canonical); // ['id', 'title'] after ADD COLUMN due
 * ```
 */
export function sharedColumns(older: string, newer: string): readonly string[] | undefined {
  const old = columnsOf(older);
  const next = columnsOf(newer);
  if (!old || !next || old.length === 0) return undefined;
  let j = 0;
  for (const column of next) {
    const same = old[j] !== undefined && JSON.stringify(old[j]) === JSON.stringify(column);
    if (same) {
      j++;
      continue;
    }
    const [, , notNull, defaultValue, primaryKey] = column;
    if (primaryKey !== 0 || (notNull === 1 && defaultValue === null)) return undefined;
  }
  if (j !== old.length) return undefined;
  return old.map((column) => column[0]);
}

/**
 * How a table's schema changed: `additive` when a client at the older schema can keep syncing
 * (see {@link sharedColumns}), `destructive` otherwise.
 *
 * @example
 * ```ts
 * changeKind(before.canonical, after.canonical); // 'additive'
 * ```
 */
export function changeKind(older: string, newer: string): 'additive' | 'destructive' {
  return sharedColumns(older, newer) === undefined ? 'destructive' : 'additive';
}
