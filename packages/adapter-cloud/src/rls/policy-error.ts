import { OffsyncError } from '@offsync/core';
import type { PolicyOperation } from './policy-operation.js';

/**
 * Why a policy was refused, or could not be evaluated.
 *
 * - `malformed`: a policy set is not `{ table: { operation: "expression" } }`, or the expression
 *   has a character SQL cannot hold here (NUL, a malformed blob literal).
 * - `empty`: the expression has no SQL in it.
 * - `unterminated`: a string, quoted identifier or block comment is not closed.
 * - `unbalanced-parentheses`: a `)` closes more than the expression opened, or a `(` stays open.
 * - `statement-separator`: a `;`, which could start a second statement.
 * - `parameter`: a bound parameter (`?`, `:name`, `@name`, `$name`), which would shift the
 *   positions claims bind to.
 * - `forbidden-keyword`: a statement keyword (`ATTACH`, `PRAGMA`, `INSERT`, ...).
 * - `forbidden-name`: a table or function outside what policies may read (`offsync_*`,
 *   `sqlite_*`, `pragma_*`, `dbstat`, `load_extension`, ...).
 * - `bad-claim`: `auth.` is not followed by a claim name.
 * - `too-many-claims`: more claim references than {@link MAX_CLAIM_REFERENCES}.
 * - `no-such-table`: the policy is for a table the database does not have.
 * - `does-not-compile`: SQLite refused the expression (unknown column, syntax error); `reason`
 *   carries SQLite's message.
 * - `evaluation-failed`: SQLite failed while evaluating a policy that was valid when set (the
 *   schema changed since); `reason` carries SQLite's message.
 *
 * @example
 * ```ts
 * if (error instanceof PolicyError && error.problem === 'does-not-compile') showSqlError(error);
 * ```
 */
export type PolicyProblem =
  | 'malformed'
  | 'empty'
  | 'unterminated'
  | 'unbalanced-parentheses'
  | 'statement-separator'
  | 'parameter'
  | 'forbidden-keyword'
  | 'forbidden-name'
  | 'bad-claim'
  | 'too-many-claims'
  | 'no-such-table'
  | 'does-not-compile'
  | 'evaluation-failed';

/**
 * The facts of a {@link PolicyError}.
 *
 * @example
 * ```ts
 * const facts: PolicyErrorFacts = { problem: 'empty', reason: 'the expression is empty' };
 * ```
 */
export interface PolicyErrorFacts {
  /** What kind of refusal this is. */
  readonly problem: PolicyProblem;
  /** What is wrong, with SQLite's own message when SQLite refused. */
  readonly reason: string;
  /** The table the policy is for, when known. */
  readonly table?: string | undefined;
  /** The operation the policy is for, when known. */
  readonly operation?: PolicyOperation | undefined;
  /** The expression as written, when there is one. */
  readonly expression?: string | undefined;
}

/**
 * A row-level security policy was refused (it does not compile, reads what policies may not read,
 * or names a table that does not exist), or failed to evaluate. Nothing was changed: a policy
 * being replaced stays in force.
 *
 * @example
 * ```ts
 * try {
 *   setPolicy(driver, 'todos', 'select', 'ownr_id = auth.sub');
 * } catch (error) {
 *   if (error instanceof PolicyError) console.log(error.table, error.operation, error.reason);
 *   // todos select does not compile: no such column: ownr_id (reason)
 * }
 * ```
 */
export class PolicyError extends OffsyncError {
  readonly type = 'PolicyError';
  /** What kind of refusal this is. */
  readonly problem: PolicyProblem;
  /** What is wrong, with SQLite's own message when SQLite refused. */
  readonly reason: string;
  /** The table the policy is for, when known. */
  readonly table: string | undefined;
  /** The operation the policy is for, when known. */
  readonly operation: PolicyOperation | undefined;
  /** The expression as written, when there is one. */
  readonly expression: string | undefined;

  constructor(facts: PolicyErrorFacts) {
    const where = [facts.table, facts.operation].filter((part) => part !== undefined).join(' ');
    const outcome = facts.problem === 'evaluation-failed' ? 'failed' : 'refused';
    super(
      `row-level security policy${where === '' ? '' : ` for ${where}`} ${outcome}: ${facts.reason}`,
    );
    this.problem = facts.problem;
    this.reason = facts.reason;
    this.table = facts.table;
    this.operation = facts.operation;
    this.expression = facts.expression;
  }

  /**
   * The same refusal, placed on a table and operation (an expression compiled on its own does
   * not know where it is going).
   *
   * @example
   * ```ts
   * throw error.at('todos', 'select');
   * ```
   */
  at(table: string, operation: PolicyOperation): PolicyError {
    const { problem, reason, expression } = this;
    return new PolicyError({ problem, reason, expression, table, operation });
  }
}
