import { PolicyError, type PolicyProblem } from './policy-error.js';
import { type SqlToken, tokenizeSql } from './sql-tokens.js';

/**
 * Most `auth.<claim>` references one expression may hold, so that most of SQLite's 999 bound
 * parameters are left for the keys a policy is evaluated on.
 *
 * @example
 * ```ts
 * const perChunk = MAX_PARAMETERS - MAX_CLAIM_REFERENCES; // keys of one column, at the least
 * ```
 */
export const MAX_CLAIM_REFERENCES = 100;

/**
 * A policy expression made ready to evaluate: every `auth.<claim>` replaced by a positional `?`.
 *
 * @example
 * ```ts
 * const compiled: CompiledPolicy = compilePolicy('owner_id = auth.sub');
 * // { expression: 'owner_id = auth.sub', sql: 'owner_id = ?', claims: ['sub'], paths: [['sub']] }
 * ```
 */
export interface CompiledPolicy {
  /** The expression as written. */
  readonly expression: string;
  /** The expression with claims as `?` and comments removed; embed it in parentheses. */
  readonly sql: string;
  /** For each `?` in order, the top-level claim it reads (`org` for `auth.org.id`). */
  readonly claims: readonly string[];
  /** For each `?` in order, the full claim path (`['org', 'id']` for `auth.org.id`). */
  readonly paths: readonly (readonly string[])[];
}

// Statement keywords: none has a meaning inside an expression, so their presence means someone is
// trying to get a statement through (or wrote the policy in the wrong place). Keywords that also
// name functions (REPLACE) or end expressions (END) are not here.
const FORBIDDEN_KEYWORDS = new Set([
  'alter',
  'analyze',
  'attach',
  'begin',
  'commit',
  'create',
  'delete',
  'detach',
  'drop',
  'insert',
  'pragma',
  'reindex',
  'release',
  'returning',
  'rollback',
  'savepoint',
  'transaction',
  'update',
  'vacuum',
]);

// offsync_*: our metadata and shadow tables (clocks, site ids, these very policies); sqlite_*: the
// schema and internals (sqlite_master, sqlite_dbpage); pragma_*: table-valued PRAGMA functions,
// which read the schema and settings as PRAGMA itself would.
const FORBIDDEN_PREFIXES = ['offsync_', 'sqlite_', 'pragma_'];
// Virtual tables and functions that read outside the row's tables or touch the file system.
const FORBIDDEN_NAMES = new Set([
  'bytecode',
  'dbstat',
  'fts3_tokenizer',
  'load_extension',
  'readfile',
  'tables_used',
  'writefile',
]);

const isName = (token: SqlToken | undefined): token is SqlToken =>
  token !== undefined && (token.kind === 'word' || token.kind === 'quoted');
const isPunct = (token: SqlToken | undefined, text: string): boolean =>
  token !== undefined && token.kind === 'punct' && token.text === text;

function refuse(problem: PolicyProblem, reason: string, expression: string): PolicyError {
  return new PolicyError({ problem, reason, expression });
}

/** Refuses a token that policies may not contain; claim names never reach this check. */
function checkToken(token: SqlToken, expression: string): void {
  if (token.kind === 'punct' && token.text === ';') {
    throw refuse('statement-separator', `';' at offset ${token.start}`, expression);
  }
  if (token.kind === 'variable') {
    throw refuse(
      'parameter',
      `bound parameter ${token.text} at offset ${token.start}: refer to claims as auth.<claim>`,
      expression,
    );
  }
  if (token.kind === 'word' && FORBIDDEN_KEYWORDS.has(token.value.toLowerCase())) {
    throw refuse(
      'forbidden-keyword',
      `${token.value.toUpperCase()} at offset ${token.start} is not allowed in a policy (quote it if it is a column name)`,
      expression,
    );
  }
  // String literals too: SQLite takes `FROM 'offsync_state'` as a table name.
  if (token.kind === 'word' || token.kind === 'quoted' || token.kind === 'string') {
    const name = token.value.toLowerCase();
    if (FORBIDDEN_NAMES.has(name) || FORBIDDEN_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      throw refuse(
        'forbidden-name',
        `${token.text} at offset ${token.start}: policies may not read offsync_*, sqlite_* or pragma_* tables, dbstat or file functions`,
        expression,
      );
    }
  }
}

/**
 * Compiles a row-level security expression: replaces every `auth.<claim>` with a positional `?`
 * and lists the claims in parameter order, ready for {@link bindClaims}.
 *
 * - `auth` is matched case-insensitively, quoted or not; the claim name is taken verbatim (JWT
 *   claims are case-sensitive) and may be quoted: `auth."org-id"`, `` auth.`org-id` ``,
 *   `auth.[org-id]`. `auth.org.id` reads the nested claim `org` → `id`. Every `auth.<name>` is a
 *   claim, so do not name a table or alias `auth`.
 * - Strings, quoted identifiers and comments are skipped by a tokenizer that cuts text as SQLite
 *   does: `'auth.sub'` stays a string. Comments are dropped.
 * - Refused ({@link PolicyError}): `;`, bound parameters, unbalanced parentheses, statement
 *   keywords (`ATTACH`, `PRAGMA`, `INSERT`, ...), and names of tables and functions policies may
 *   not read: `offsync_*`, `sqlite_*`, `pragma_*`, `dbstat`, `load_extension`, file functions.
 *   Subqueries over the application's own tables are allowed:
 *   `EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = auth.sub)`.
 *
 * Whether the SQL compiles against a table is {@link validatePolicy}'s job.
 *
 * @example
 * ```ts
 * compilePolicy("tenant_id = auth.tenant AND note <> 'auth.sub' -- auth.x");
 * // sql: "tenant_id = ? AND note <> 'auth.sub'", claims: ['tenant']
 * ```
 */
export function compilePolicy(expression: string): CompiledPolicy {
  const tokens = tokenizeSql(expression);
  const significant = tokens.filter((token) => token.kind !== 'space' && token.kind !== 'comment');
  if (significant.length === 0) throw refuse('empty', 'the expression is empty', expression);

  const out: string[] = [];
  const claims: string[] = [];
  const paths: string[][] = [];
  let depth = 0;
  // Index into `significant` of the next meaningful token, to look past spaces and comments.
  let s = 0;
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind === 'space') {
      out.push(token.text);
      continue;
    }
    if (token.kind === 'comment') {
      // A space keeps the tokens either side apart, as the comment did.
      out.push(' ');
      continue;
    }
    const previous = significant[s - 1];
    s++;
    if (
      isName(token) &&
      token.value.toLowerCase() === 'auth' &&
      isPunct(significant[s], '.') &&
      !isPunct(previous, '.')
    ) {
      const path: string[] = [];
      while (isPunct(significant[s], '.')) {
        const name = significant[s + 1];
        if (!isName(name)) {
          if (path.length > 0) break;
          throw refuse(
            'bad-claim',
            `auth. at offset ${token.start} must be followed by a claim name`,
            expression,
          );
        }
        path.push(name.value);
        s += 2;
      }
      // Skip the tokens the reference spans, spaces and comments inside it included.
      const last = significant[s - 1]!;
      while (tokens[t + 1] !== undefined && tokens[t + 1]!.start <= last.start) t++;
      out.push('?');
      claims.push(path[0]!);
      paths.push(path);
      continue;
    }
    checkToken(token, expression);
    if (isPunct(token, '(')) depth++;
    if (isPunct(token, ')') && --depth < 0) {
      throw refuse(
        'unbalanced-parentheses',
        `')' at offset ${token.start} closes a parenthesis the expression did not open`,
        expression,
      );
    }
    out.push(token.text);
  }
  if (depth !== 0) {
    throw refuse('unbalanced-parentheses', `${depth} parenthesis(es) left open`, expression);
  }
  if (claims.length > MAX_CLAIM_REFERENCES) {
    throw refuse(
      'too-many-claims',
      `${claims.length} claim references, at most ${MAX_CLAIM_REFERENCES}`,
      expression,
    );
  }
  return { expression, sql: out.join('').trim(), claims, paths };
}
