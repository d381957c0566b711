/**
 * The number of parameters of one SQL statement, as SQLite's `sqlite3_bind_parameter_count`
 * gives it: the largest index, where `?` takes the next index, `?NNN` its own and each new
 * `:name`, `@name` or `$name` the next one. libsql exposes no such count and binds NULL for a
 * missing value, so the driver counts them itself to refuse a wrong count before anything runs.
 * Quotes, bracketed names and comments are skipped, since a `?` inside them is not a parameter.
 *
 * @param sql One SQL statement.
 * @returns The parameter count SQLite would report.
 * @example
 * ```ts
 * parameterCount("SELECT ?, ?5, :a, :a, '?' -- ?"); // 6
 * ```
 */
export function parameterCount(sql: string): number {
  const names = new Map<string, number>();
  let count = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
    } else if (c === '[') {
      const end = sql.indexOf(']', i + 1);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i + 2);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === '?') {
      let j = i + 1;
      while (j < sql.length && isDigit(sql[j]!)) j++;
      count = j > i + 1 ? Math.max(count, Number(sql.slice(i + 1, j))) : count + 1;
      i = j;
    } else if ((c === ':' || c === '@' || c === '$') && isNameChar(sql[i + 1])) {
      let j = i + 1;
      while (j < sql.length && isNameChar(sql[j])) j++;
      const name = sql.slice(i, j);
      if (!names.has(name)) names.set(name, ++count);
      i = j;
    } else {
      i++;
    }
  }
  return count;
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      // A doubled quote is an escaped quote inside the literal.
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return i;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isNameChar(c: string | undefined): boolean {
  return c !== undefined && (/[\p{L}\p{N}_]/u.test(c) || c.charCodeAt(0) > 0x7f);
}
