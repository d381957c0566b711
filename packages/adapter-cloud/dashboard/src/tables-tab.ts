import { errorText } from './api.js';
import type { ColumnInfo, SyncWaiver, TableStatus } from './api-types.js';
import { type ConfirmCheck, confirmDialog } from './confirm-dialog.js';
import { h } from './dom.js';
import { formatCount } from './format.js';
import { labelCells } from './responsive.js';
import { fill, type View } from './view.js';

/**
 * Every table of a database with its columns, primary key, rows, schema fingerprint and a sync
 * switch. Switching on runs the server's `enableSync` checks; a refusal shows the server's reason
 * and leaves the switch off. A table refused only for checks an option waives (a rowid INTEGER
 * PRIMARY KEY, a FOREIGN KEY) offers "Enable anyway…": a confirmation with one checkbox per
 * option, each naming its consequence, then the same switch-on with those options.
 *
 * @example
 * ```ts
 * panel.append(tablesTab(view, 'app', refreshSummary));
 * ```
 */
export function tablesTab(view: View, database: string, onChange: () => void): HTMLElement {
  const body = h('div');
  const errors = new Map<string, string>();

  const load = (refresh: boolean): Promise<void> =>
    fill(
      view,
      body,
      async () => {
        const tables = await view.api.get<TableStatus[]>(['databases', database, 'tables']);
        if (tables.length === 0)
          return [
            h('p', { class: 'empty', testid: 'tables-empty' }, 'This database has no tables.'),
          ];
        return [
          h(
            'table',
            { class: 'grid align-top', testid: 'tables-table' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Sync'),
                h('th', { scope: 'col' }, 'Table'),
                h('th', { scope: 'col' }, 'Columns'),
                h('th', { scope: 'col' }, 'Primary key'),
                h('th', { scope: 'col', class: 'num' }, 'Rows'),
                h('th', { scope: 'col' }, 'Schema fingerprint / status'),
              ),
            ),
            h('tbody', {}, ...tables.map((table) => row(table))),
          ),
        ];
      },
      { refresh },
    );

  const row = (table: TableStatus): HTMLTableRowElement => {
    const element = h(
      'tr',
      { testid: `table-row-${table.name}` },
      h(
        'td',
        {},
        syncSwitch(table, (button) => void toggle(table, element, button)),
      ),
      h('th', { scope: 'row' }, h('code', {}, table.name)),
      h(
        'td',
        {},
        h(
          'ul',
          { class: 'columns' },
          ...table.columns.map((column) => h('li', {}, columnText(column))),
        ),
      ),
      h(
        'td',
        { testid: `table-pk-${table.name}` },
        table.primaryKey.length === 0
          ? h('span', { class: 'warn' }, 'none')
          : h('code', {}, table.primaryKey.join(', ')),
      ),
      h(
        'td',
        { class: 'num', testid: `table-rows-${table.name}` },
        table.rows === undefined ? '—' : formatCount(table.rows),
      ),
      h(
        'td',
        {},
        status(table, errors.get(table.name)),
        table.synced || !table.waivers?.length
          ? undefined
          : h(
              'button',
              {
                type: 'button',
                class: 'small enable-anyway',
                testid: `enable-anyway-${table.name}`,
                onclick: (event) =>
                  void enableAnyway(table, element, event.currentTarget as HTMLButtonElement),
              },
              'Enable anyway…',
            ),
      ),
    );
    return element;
  };

  const enableAnyway = async (
    table: TableStatus,
    element: HTMLTableRowElement,
    button: HTMLButtonElement,
  ): Promise<void> => {
    const waivers = table.waivers ?? [];
    const confirmed = await confirmDialog({
      title: `Enable sync for ${table.name} anyway?`,
      message: `Sync is switched on without the ${waivers.length === 1 ? 'check' : 'checks'} below. Tick each to accept what follows from it.`,
      confirm: 'Enable sync',
      testid: 'sync-options',
      checks: waivers.map((waiver) => waiverCheck(waiver, table)),
    });
    if (!confirmed) {
      button.focus();
      return;
    }
    if (view.signal.aborted) return;
    await send(
      table,
      element,
      button,
      Object.fromEntries([['enabled', true], ...waivers.map((waiver) => [waiver, true])]),
    );
  };

  const toggle = async (
    table: TableStatus,
    element: HTMLTableRowElement,
    button: HTMLButtonElement,
  ): Promise<void> => {
    // Switching off stops every device syncing the table at once: asked first, Cancel keeps it on.
    if (
      table.synced &&
      !(await confirmDialog({
        title: `Switch off sync for ${table.name}?`,
        message: `Devices stop syncing ${table.name} at once: their changes stay on the devices, unsent, until it is switched on again. The table's rows stay on the server.`,
        confirm: 'Switch off',
        testid: 'sync-off',
      }))
    ) {
      button.focus();
      return;
    }
    if (view.signal.aborted) return;
    await send(table, element, button, { enabled: !table.synced });
  };

  const send = async (
    table: TableStatus,
    element: HTMLTableRowElement,
    button: HTMLButtonElement,
    body: Readonly<Record<string, boolean>>,
  ): Promise<void> => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    let next = table;
    try {
      next = await view.api.put<TableStatus>(
        ['databases', database, 'tables', table.name, 'sync'],
        body,
      );
      errors.delete(table.name);
      onChange();
    } catch (error) {
      if (view.signal.aborted) return;
      errors.set(table.name, errorText(error));
    }
    const replacement = row(next);
    element.replaceWith(replacement);
    // From the table's parent: labelCells looks for tables below its root, not at it.
    const grid = replacement.closest('table');
    if (grid?.parentElement) labelCells(grid.parentElement);
    replacement.querySelector<HTMLButtonElement>('[role="switch"]')?.focus();
  };

  void load(false);
  return h(
    'div',
    { testid: 'tables-tab' },
    h(
      'aside',
      { class: 'note', testid: 'schema-note' },
      h('strong', {}, 'Local and cloud schemas must match. '),
      'A client syncs a table only when its schema (columns, types, NOT NULL, defaults, primary key) ' +
        'is the same as here. Compare each fingerprint with ',
      h('code', {}, "replica.tableInfo('<table>').fingerprint"),
      ' in your app, and change both sides together.',
    ),
    h(
      'div',
      { class: 'toolbar' },
      h(
        'button',
        { type: 'button', testid: 'tables-refresh', onclick: () => void load(true) },
        'Refresh',
      ),
    ),
    body,
  );
}

function syncSwitch(
  table: TableStatus,
  onToggle: (button: HTMLButtonElement) => void,
): HTMLElement {
  const button = h(
    'button',
    {
      type: 'button',
      role: 'switch',
      class: 'switch',
      'aria-checked': String(table.synced),
      'aria-label': `Sync ${table.name}`,
      testid: `sync-switch-${table.name}`,
    },
    h('span', { class: 'knob', 'aria-hidden': 'true' }),
  );
  button.addEventListener('click', () => onToggle(button));
  return h(
    'span',
    { class: 'switch-field' },
    button,
    h('span', { class: 'switch-text', 'aria-hidden': 'true' }, table.synced ? 'On' : 'Off'),
  );
}

// What each option waives, in the words of core's EnableSyncOptions and SchemaError messages.
function waiverCheck(waiver: SyncWaiver, table: TableStatus): ConfirmCheck {
  if (waiver === 'allowIntegerPrimaryKey')
    return {
      id: waiver,
      label: `Allow the INTEGER PRIMARY KEY ${table.primaryKey.join(', ')} (the rowid)`,
      detail:
        'Devices inserting offline choose the same next id and their rows collide (the last writer wins the whole row): only for ids assigned centrally.',
    };
  return {
    id: waiver,
    label: 'Allow FOREIGN KEY constraints',
    detail:
      'Changes arrive in any order and a concurrent delete can orphan a row: a batch that violates a foreign key is refused (checked at the end of each batch).',
  };
}

const WAIVER_TAGS: Readonly<Record<SyncWaiver, string>> = {
  allowIntegerPrimaryKey: 'integer key allowed',
  allowForeignKeys: 'foreign keys allowed',
};

function columnText(column: ColumnInfo): string {
  return [
    column.name,
    column.type || 'ANY',
    column.notNull ? 'NOT NULL' : '',
    column.defaultValue === null ? '' : `DEFAULT ${column.defaultValue}`,
  ]
    .filter(Boolean)
    .join(' ');
}

function status(table: TableStatus, error: string | undefined): HTMLElement {
  const refusal =
    error === undefined
      ? undefined
      : h('p', { class: 'error', role: 'alert', testid: `table-error-${table.name}` }, error);
  if (table.synced)
    return h(
      'div',
      {},
      h(
        'code',
        { class: 'fingerprint', testid: `table-fingerprint-${table.name}` },
        table.fingerprint ?? '',
      ),
      options(table),
      refusal,
    );
  return h(
    'div',
    {},
    h('span', { class: 'muted' }, 'not synced'),
    table.problem === undefined || refusal !== undefined
      ? undefined
      : h('p', { class: 'warn', testid: `table-problem-${table.name}` }, table.problem),
    refusal,
  );
}

// The checks a synced table was switched on without, so an operator sees what was accepted.
function options(table: TableStatus): HTMLElement | undefined {
  const waived = (Object.keys(WAIVER_TAGS) as SyncWaiver[]).filter(
    (waiver) => table.options?.[waiver] === true,
  );
  if (waived.length === 0) return undefined;
  return h(
    'div',
    { class: 'table-options', testid: `table-options-${table.name}` },
    ...waived.map((waiver) =>
      h('span', { class: 'tag warn', testid: `table-option-${waiver}` }, WAIVER_TAGS[waiver]),
    ),
  );
}
