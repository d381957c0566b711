import { describe, expect, it } from 'vitest';
import { compilePolicy, MAX_CLAIM_REFERENCES } from './compile-policy.js';
import { PolicyError } from './policy-error.js';
import { policyErrorOf } from './test-support/todo-database.js';

describe('compilePolicy rewrites auth.<claim>', () => {
  it('replaces each claim with a positional parameter, in order', () => {
    expect(compilePolicy('tenant_id = auth.tenant AND owner_id = auth.sub')).toEqual({
      expression: 'tenant_id = auth.tenant AND owner_id = auth.sub',
      sql: 'tenant_id = ? AND owner_id = ?',
      claims: ['tenant', 'sub'],
      paths: [['tenant'], ['sub']],
    });
  });

  it('matches auth case-insensitively and quoted, but keeps the claim name verbatim', () => {
    const compiled = compilePolicy('AUTH.Sub = Auth.sub OR "auth".role = [auth].`Tier`');
    expect(compiled.sql).toBe('? = ? OR ? = ?');
    expect(compiled.claims).toEqual(['Sub', 'sub', 'role', 'Tier']);
  });

  it('reads quoted claim names, unescaping doubled quotes', () => {
    const compiled = compilePolicy(
      '"org-id" = auth."org-id" OR x = auth.`org id` OR y = auth.[a.b] OR z = auth."say ""hi"""',
    );
    expect(compiled.sql).toBe('"org-id" = ? OR x = ? OR y = ? OR z = ?');
    expect(compiled.claims).toEqual(['org-id', 'org id', 'a.b', 'say "hi"']);
  });

  it('leaves string literals alone, with their escaped quotes', () => {
    const compiled = compilePolicy("note = 'auth.sub' OR note = 'it''s auth.sub' OR a = auth.b");
    expect(compiled.sql).toBe("note = 'auth.sub' OR note = 'it''s auth.sub' OR a = ?");
    expect(compiled.claims).toEqual(['b']);
  });

  it('leaves quoted identifiers alone', () => {
    const compiled = compilePolicy('"auth.sub" = 1 AND `auth.x` = [auth.y]');
    expect(compiled.sql).toBe('"auth.sub" = 1 AND `auth.x` = [auth.y]');
    expect(compiled.claims).toEqual([]);
  });

  it('drops comments and never rewrites inside them', () => {
    const compiled = compilePolicy('owner_id = auth.sub -- or auth.admin\n/* auth.x */ AND true');
    expect(compiled.sql).toBe('owner_id = ?  \n  AND true');
    expect(compiled.claims).toEqual(['sub']);
  });

  it('a trailing line comment cannot swallow what the expression is embedded in', () => {
    const compiled = compilePolicy('true -- a comment');
    expect(compiled.sql).toBe('true');
    expect(`WHERE (${compiled.sql}) LIMIT 0`).toBe('WHERE (true) LIMIT 0');
  });

  it('accepts spaces and comments around the dot', () => {
    const compiled = compilePolicy('owner_id = auth . /* c */ sub');
    expect(compiled.sql).toBe('owner_id = ?');
    expect(compiled.claims).toEqual(['sub']);
  });

  it('reads nested claims as a path', () => {
    const compiled = compilePolicy('org_id = auth.org.id AND auth."https://x.io/roles".admin');
    expect(compiled.sql).toBe('org_id = ? AND ?');
    expect(compiled.claims).toEqual(['org', 'https://x.io/roles']);
    expect(compiled.paths).toEqual([
      ['org', 'id'],
      ['https://x.io/roles', 'admin'],
    ]);
  });

  it('leaves auth alone when it is not followed by a dot, or is itself qualified', () => {
    const compiled = compilePolicy('auth = 1 AND m.auth.x = 2 AND auth.sub = 3');
    expect(compiled.sql).toBe('auth = 1 AND m.auth.x = 2 AND ? = 3');
    expect(compiled.claims).toEqual(['sub']);
  });

  it('allows subqueries over application tables', () => {
    const compiled = compilePolicy(
      'EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = auth.sub)',
    );
    expect(compiled.sql).toBe(
      'EXISTS (SELECT 1 FROM members m WHERE m.list_id = todos.list_id AND m.user_id = ?)',
    );
    expect(compiled.claims).toEqual(['sub']);
  });

  it('allows a `;` and keywords inside strings, and REPLACE/END which expressions use', () => {
    const compiled = compilePolicy(
      "title <> 'a; DROP TABLE todos; ATTACH' AND replace(title, 'x', 'y') <> CASE WHEN true THEN 'z' END",
    );
    expect(compiled.claims).toEqual([]);
    expect(compiled.sql).toContain("'a; DROP TABLE todos; ATTACH'");
  });
});

describe('compilePolicy refuses', () => {
  const refused = (expression: string) => policyErrorOf(() => compilePolicy(expression));

  it('statement separators', () => {
    const error = refused('true; DROP TABLE todos');
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toMatchObject({
      type: 'PolicyError',
      problem: 'statement-separator',
      expression: 'true; DROP TABLE todos',
    });
    expect(error.reason).toContain("';'");
    expect(refused('true;').problem).toBe('statement-separator');
  });

  it('statement keywords, in any case', () => {
    expect(refused("ATTACH 'x.db' AS x").problem).toBe('forbidden-keyword');
    expect(refused('attach').problem).toBe('forbidden-keyword');
    expect(refused('PRAGMA user_version').problem).toBe('forbidden-keyword');
    expect(refused('(SELECT 1 FROM todos) AND vacuum').problem).toBe('forbidden-keyword');
    expect(refused('owner_id = auth.sub AND DeLeTe').problem).toBe('forbidden-keyword');
    expect(refused('x = 1 RETURNING *').problem).toBe('forbidden-keyword');
    expect(refused('PRAGMA user_version').reason).toContain('PRAGMA');
  });

  it('reading offsync_* tables, however the name is written', () => {
    for (const expression of [
      'EXISTS (SELECT 1 FROM offsync_server_policies)',
      'EXISTS (SELECT 1 FROM OFFSYNC_STATE)',
      'EXISTS (SELECT 1 FROM "offsync_state")',
      'EXISTS (SELECT 1 FROM [offsync_state])',
      'EXISTS (SELECT 1 FROM main.offsync_state)',
      // SQLite takes a string literal where only a table name can go as that table's name.
      "EXISTS (SELECT 1 FROM 'offsync_state')",
    ]) {
      expect(refused(expression).problem, expression).toBe('forbidden-name');
    }
  });

  it('the schema, PRAGMA functions, dbstat and extension loading', () => {
    expect(refused("EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'x')").problem).toBe(
      'forbidden-name',
    );
    expect(refused("EXISTS (SELECT 1 FROM pragma_table_info('todos'))").problem).toBe(
      'forbidden-name',
    );
    expect(refused("EXISTS (SELECT 1 FROM 'pragma_table_info'('todos'))").problem).toBe(
      'forbidden-name',
    );
    expect(refused('EXISTS (SELECT 1 FROM dbstat)').problem).toBe('forbidden-name');
    expect(refused("load_extension('evil') IS NULL").problem).toBe('forbidden-name');
    expect(refused('"load_extension"(\'evil\') IS NULL').problem).toBe('forbidden-name');
  });

  it('bound parameters, which would shift the claims', () => {
    for (const expression of ['owner_id = ?', 'owner_id = ?1', 'a = :x', 'a = @x', 'a = $x']) {
      expect(refused(expression).problem, expression).toBe('parameter');
    }
  });

  it('unbalanced parentheses, which could escape the WHERE clause they are put in', () => {
    expect(refused('true) OR (1 = 1').problem).toBe('unbalanced-parentheses');
    expect(refused('(true').problem).toBe('unbalanced-parentheses');
    expect(compilePolicy("')' = ')' AND \"(\" = 1").sql).toBe("')' = ')' AND \"(\" = 1");
  });

  it('unterminated strings, identifiers and comments', () => {
    expect(refused("owner_id = 'x").problem).toBe('unterminated');
    expect(refused('owner_id = "x').problem).toBe('unterminated');
    expect(refused('true /* ) OR (1').problem).toBe('unterminated');
  });

  it('auth. without a claim name', () => {
    expect(refused('owner_id = auth.').problem).toBe('bad-claim');
    expect(refused("owner_id = auth.'sub'").problem).toBe('bad-claim');
    expect(refused('auth.* IS NULL').problem).toBe('bad-claim');
  });

  it('empty expressions', () => {
    expect(refused('').problem).toBe('empty');
    expect(refused('  \n ').problem).toBe('empty');
    expect(refused('-- nothing').problem).toBe('empty');
  });

  it('more claim references than the limit', () => {
    const many = Array.from({ length: MAX_CLAIM_REFERENCES + 1 }, () => 'auth.sub').join(' || ');
    expect(refused(many).problem).toBe('too-many-claims');
    const most = Array.from({ length: MAX_CLAIM_REFERENCES }, () => 'auth.sub').join(' || ');
    expect(compilePolicy(most).claims).toHaveLength(MAX_CLAIM_REFERENCES);
  });

  it('claim names are not checked as SQL (they never reach SQLite)', () => {
    expect(compilePolicy('auth.offsync_x = auth.pragma').claims).toEqual(['offsync_x', 'pragma']);
  });
});
