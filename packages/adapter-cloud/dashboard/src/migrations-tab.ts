import { errorText } from './api.js';
import { confirmDialog } from './confirm-dialog.js';
import { h } from './dom.js';
import { formatAgo, formatTime } from './format.js';
import { fill, type View } from './view.js';

/**
 * One applied migration, as `GET /v1/admin/databases/:db/migrations` lists it.
 *
 * @example
 * ```ts
 * const first: MigrationInfo = { id: 1, name: '0002-due.sql', sql: 'ALTER TABLE …', appliedAt: 0, tables: [] };
 * ```
 */
export interface MigrationInfo {
  /** The migration's number (the database's schema version after it). */
  readonly id: number;
  /** Its name, or `null`. */
  readonly name: string | null;
  /** The SQL it ran. */
  readonly sql: string;
  /** When (ms since the epoch). */
  readonly appliedAt: number;
  /** What it did to each synced table. */
  readonly tables: readonly {
    readonly table: string;
    readonly kind: 'additive' | 'destructive';
    readonly previous: string;
    readonly fingerprint: string;
  }[];
}

/**
 * The Migrations tab: the migrations applied to a database, newest first, with what each did
 * to every synced table (additive: devices on the older schema keep syncing; destructive:
 * they are refused for that table until they run it), and a form that applies a new one after a
 * confirmation. Devices run the same file with `replica.migrate(sql)`.
 *
 * @example
 * ```ts
 * panel.append(migrationsTab(view, 'app'));
 * ```
 */
export function migrationsTab(view: View, database: string): HTMLElement {
  const list = h('div', { testid: 'migrations-list' });
  const load = (refresh: boolean): Promise<void> =>
    fill(
      view,
      list,
      async () => {
        const migrations = await view.api.get<MigrationInfo[]>([
          'databases',
          database,
          'migrations',
        ]);
        if (migrations.length === 0)
          return [
            h(
              'p',
              { class: 'empty', testid: 'migrations-empty' },
              'No migration applied yet: the schema is the one the database was created with.',
            ),
          ];
        return [migrationsTable([...migrations].reverse(), view.now())];
      },
      { refresh },
    );
  void load(false);

  const name = h('input', {
    type: 'text',
    id: 'migration-name',
    testid: 'migration-name',
    placeholder: '0002-due-dates.sql',
    maxlength: 200,
  });
  const sql = h('textarea', {
    id: 'migration-sql',
    testid: 'migration-sql',
    rows: 6,
    spellcheck: false,
    placeholder: 'ALTER TABLE todos ADD COLUMN due TEXT;',
    required: true,
  });
  const status = h('p', { role: 'status', testid: 'migration-status' });
  const apply = h(
    'button',
    { type: 'submit', class: 'primary', testid: 'migration-apply' },
    'Apply migration…',
  );
  const form = h(
    'form',
    { class: 'migration-form', testid: 'migration-form', 'aria-labelledby': 'migration-heading' },
    h('h2', { id: 'migration-heading' }, 'Apply a migration'),
    h(
      'p',
      { class: 'muted' },
      'ALTER TABLE (add, drop or rename a column), CREATE TABLE and CREATE INDEX only, applied all or nothing. ',
      'Ship the same file in the app and run it with ',
      h('code', {}, 'replica.migrate(sql)'),
      '.',
    ),
    h('label', { for: 'migration-name' }, 'Name (optional)'),
    name,
    h('label', { for: 'migration-sql' }, 'SQL'),
    sql,
    h('div', { class: 'form-actions' }, apply),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      const text = sql.value;
      if (text.trim() === '') {
        status.className = 'error';
        status.textContent = 'Write the migration’s SQL first.';
        return;
      }
      const go = await confirmDialog({
        title: `Migrate ${database}?`,
        message:
          'The statements run on the server now, all or nothing. Devices on the older schema keep syncing the columns both sides have after an additive change, and stop syncing a table a destructive change (a dropped or renamed column) touches until they run the same migration.',
        confirm: 'Apply migration',
        testid: 'migration-confirm',
      });
      if (!go) return;
      apply.disabled = true;
      status.className = 'muted';
      status.textContent = 'Applying…';
      try {
        const result = await view.api.post<{
          version: number;
          tables: MigrationInfo['tables'];
        }>(['databases', database, 'migrate'], {
          sql: text,
          ...(name.value.trim() === '' ? {} : { name: name.value.trim() }),
        });
        status.className = 'ok';
        status.textContent = `Migration ${result.version} applied${
          result.tables.length === 0
            ? ' (no synced table changed)'
            : `: ${result.tables.map((table) => `${table.table} ${table.kind}`).join(', ')}`
        }.`;
        sql.value = '';
        name.value = '';
        await load(true);
      } catch (error) {
        if (view.signal.aborted) return;
        status.className = 'error';
        status.textContent = `Not applied: ${errorText(error)}`;
      } finally {
        apply.disabled = false;
      }
    })();
  });

  return h('div', { testid: 'migrations-tab' }, h('h2', {}, 'Applied migrations'), list, form);
}

function migrationsTable(migrations: readonly MigrationInfo[], now: number): HTMLElement {
  return h(
    'table',
    { class: 'grid', testid: 'migrations-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Version'),
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'Applied'),
        h('th', { scope: 'col' }, 'Tables'),
        h('th', { scope: 'col' }, 'SQL'),
      ),
    ),
    h(
      'tbody',
      {},
      ...migrations.map((migration) =>
        h(
          'tr',
          { testid: 'migration-row' },
          h('td', { testid: 'migration-version' }, String(migration.id)),
          h('td', { testid: 'migration-row-name' }, migration.name ?? '—'),
          h('td', { title: formatTime(migration.appliedAt) }, formatAgo(migration.appliedAt, now)),
          h(
            'td',
            { testid: 'migration-tables' },
            migration.tables.length === 0
              ? '—'
              : h(
                  'ul',
                  { class: 'plain' },
                  ...migration.tables.map((table) =>
                    h(
                      'li',
                      { title: `${table.previous} → ${table.fingerprint}` },
                      h('code', {}, table.table),
                      ' ',
                      h(
                        'span',
                        {
                          class: table.kind === 'destructive' ? 'tag warn' : 'tag',
                          testid: 'migration-kind',
                        },
                        table.kind,
                      ),
                    ),
                  ),
                ),
          ),
          h(
            'td',
            {},
            h('pre', { class: 'code', testid: 'migration-sql-text' }, migration.sql.trim()),
          ),
        ),
      ),
    ),
  );
}
