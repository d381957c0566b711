import { OffsyncError } from '../errors.js';

/**
 * Why a migration was refused or failed. Nothing of it was applied: the schema, the data and
 * the sync metadata are exactly as before.
 *
 * - `empty`: the file holds no statement;
 * - `parse`: a quote or comment is not closed, or a statement could not be read;
 * - `statement-not-allowed`: a statement other than `ALTER TABLE`, `CREATE TABLE` or
 *   `CREATE INDEX` (data changes, drops and triggers do not belong in a schema migration);
 * - `rename-synced-table`: `ALTER TABLE … RENAME TO` on a synced table;
 * - `unknown-table`: an `ALTER TABLE` or `CREATE INDEX` names a table that does not exist;
 * - `statement-failed`: SQLite refused a statement (its message is kept);
 * - `schema`: the new schema of a synced table cannot be synced (a UNIQUE index, a changed
 *   primary key, ...).
 *
 * @example
 * ```ts
 * try { replica.migrate(sql); } catch (error) {
 *   if (error instanceof MigrationError) console.log(error.code, error.statement, error.table);
 * }
 * ```
 */
export class MigrationError extends OffsyncError {
  readonly type = 'MigrationError';
  /** What went wrong. */
  readonly code:
    | 'empty'
    | 'parse'
    | 'statement-not-allowed'
    | 'rename-synced-table'
    | 'unknown-table'
    | 'statement-failed'
    | 'schema';
  /** The statement at fault, 1-based, when one is. */
  readonly statement: number | undefined;
  /** The table at fault, when one is. */
  readonly table: string | undefined;

  constructor(code: MigrationError['code'], detail: string, statement?: number, table?: string) {
    super(
      `migration refused${statement === undefined ? '' : ` at statement ${statement}`}: ${detail}; nothing was applied`,
    );
    this.code = code;
    this.statement = statement;
    this.table = table;
  }
}

/**
 * One statement of a migration file, with what it does to which table.
 *
 * @example
 * ```ts
 * const [statement] = parseMigration('ALTER TABLE todos ADD COLUMN due TEXT');
 * statement.action; // 'add-column'
 * ```
 */
export interface MigrationStatement {
  /** The statement's text as written (without the `;`). */
  readonly sql: string;
  /** What it does. */
  readonly action:
    | 'add-column'
    | 'drop-column'
    | 'rename-column'
    | 'rename-table'
    | 'create-table'
    | 'create-index';
  /** The table it changes (for `create-index`, the indexed table). */
  readonly table: string;
  /** For `rename-column`: old and new names; for `rename-table`: the new table name. */
  readonly from?: string;
  /** The new name (`rename-column`, `rename-table`). */
  readonly to?: string;
}

interface Token {
  /** `word` (bare or quoted identifier, keyword), `string`, or one punctuation character. */
  readonly kind: 'word' | 'string' | 'punct';
  readonly text: string;
  /** A bare word (compared case-insensitively as a keyword). */
  readonly bare: boolean;
}

const QUOTE_CLOSE: Readonly<Record<string, string>> = { '"': '"', '`': '`', '[': ']', "'": "'" };

/**
 * Reads a migration file into statements. Only schema statements are accepted: `ALTER TABLE`
 * (`ADD`, `DROP`, `RENAME` a column, `RENAME TO`), `CREATE TABLE` and `CREATE [UNIQUE] INDEX`;
 * anything else is refused with a {@link MigrationError} naming the statement. Quotes (`'`,
 * `"`, `` ` ``, `[]`) and comments (`--`, `/* *\/`) are honoured when splitting at `;`.
 *
 * @example
 * ```ts
 * parseMigration('ALTER TABLE todos ADD COLUMN due TEXT; CREATE INDEX todos_due ON todos(due);');
 * ```
 */
export function parseMigration(sql: string): MigrationStatement[] {
  const statements = splitStatements(sql).map((tokens, index) => readStatement(tokens, index + 1));
  if (statements.length === 0)
    throw new MigrationError('empty', 'the migration holds no statement');
  return statements;
}

function splitStatements(sql: string): { tokens: Token[]; text: string }[] {
  const result: { tokens: Token[]; text: string }[] = [];
  let tokens: Token[] = [];
  let start = 0;
  let i = 0;
  const end = (at: number): void => {
    if (tokens.length > 0) result.push({ tokens, text: sql.slice(start, at).trim() });
    tokens = [];
    start = at + 1;
  };
  while (i < sql.length) {
    const char = sql[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '-' && sql[i + 1] === '-') {
      const newline = sql.indexOf('\n', i);
      i = newline === -1 ? sql.length : newline + 1;
    } else if (char === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close === -1) throw new MigrationError('parse', 'a /* comment is not closed');
      i = close + 2;
    } else if (char in QUOTE_CLOSE) {
      const close = QUOTE_CLOSE[char]!;
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= sql.length)
          throw new MigrationError('parse', `a ${char} quote is not closed`, result.length + 1);
        if (sql[j] === close) {
          // A doubled quote inside quotes is the quote itself ([] has no escape).
          if (close !== ']' && sql[j + 1] === close) {
            text += close;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      tokens.push({ kind: char === "'" ? 'string' : 'word', text, bare: false });
      i = j + 1;
    } else if (char === ';') {
      end(i);
      i++;
    } else if (/[A-Za-z0-9_$\u0080-\uffff]/.test(char)) {
      let j = i;
      while (j < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      tokens.push({ kind: 'word', text: sql.slice(i, j), bare: true });
      i = j;
    } else {
      tokens.push({ kind: 'punct', text: char, bare: false });
      i++;
    }
  }
  end(sql.length);
  return result;
}

function readStatement(
  { tokens, text }: { tokens: Token[]; text: string },
  index: number,
): MigrationStatement {
  let at = 0;
  const keyword = (...words: string[]): boolean => {
    const token = tokens[at];
    if (token?.bare && words.includes(token.text.toUpperCase())) {
      at++;
      return true;
    }
    return false;
  };
  const refuse = (): never => {
    const head = tokens
      .slice(0, 3)
      .map((token) => token.text)
      .join(' ');
    throw new MigrationError(
      'statement-not-allowed',
      `"${head} …" is not a schema migration statement: a migration holds only ALTER TABLE, CREATE TABLE and CREATE INDEX (run data changes through your app, so they sync)`,
      index,
    );
  };
  const name = (): string => {
    const token = tokens[at];
    if (token?.kind !== 'word') {
      throw new MigrationError(
        'parse',
        `a name was expected after "${tokens[at - 1]?.text ?? ''}"`,
        index,
      );
    }
    at++;
    // schema.table: only the main schema is the app's database.
    if (tokens[at]?.text === '.' && tokens[at]?.kind === 'punct') {
      if (token.text.toLowerCase() !== 'main') {
        throw new MigrationError(
          'statement-not-allowed',
          `schema ${token.text} is not the app's database (only main is)`,
          index,
        );
      }
      at++;
      return name();
    }
    return token.text;
  };
  if (keyword('ALTER')) {
    if (!keyword('TABLE')) refuse();
    const table = name();
    if (keyword('ADD')) {
      keyword('COLUMN');
      return { sql: text, action: 'add-column', table, to: name() };
    }
    if (keyword('DROP')) {
      keyword('COLUMN');
      return { sql: text, action: 'drop-column', table, from: name() };
    }
    if (keyword('RENAME')) {
      if (keyword('TO')) return { sql: text, action: 'rename-table', table, to: name() };
      keyword('COLUMN');
      const from = name();
      if (!keyword('TO'))
        throw new MigrationError('parse', 'RENAME COLUMN needs TO and the new name', index);
      return { sql: text, action: 'rename-column', table, from, to: name() };
    }
    throw new MigrationError(
      'parse',
      `ALTER TABLE ${table} must ADD, DROP or RENAME (SQLite cannot change a column's type in place)`,
      index,
    );
  }
  if (keyword('CREATE')) {
    if (keyword('TABLE')) {
      if (keyword('IF')) {
        if (!(keyword('NOT') && keyword('EXISTS'))) refuse();
      }
      return { sql: text, action: 'create-table', table: name() };
    }
    keyword('UNIQUE');
    if (keyword('INDEX')) {
      if (keyword('IF')) {
        if (!(keyword('NOT') && keyword('EXISTS'))) refuse();
      }
      name();
      if (!keyword('ON')) throw new MigrationError('parse', 'CREATE INDEX needs ON table', index);
      return { sql: text, action: 'create-index', table: name() };
    }
  }
  return refuse();
}
