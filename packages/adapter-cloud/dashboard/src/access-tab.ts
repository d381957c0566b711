import { errorText } from './api.js';
import { OPERATIONS, type Operation, type PolicySet, type TableStatus } from './api-types.js';
import { h } from './dom.js';
import { fill, type View } from './view.js';

/**
 * The row-level security policies of every table, one SQL expression per operation, each
 * editable. The server compiles a policy with SQLite before saving it: a refusal shows SQLite's
 * message and the policy in force stays as it was.
 *
 * @example
 * ```ts
 * panel.append(accessTab(view, 'app'));
 * ```
 */
export function accessTab(view: View, database: string): HTMLElement {
  const body = h('div');
  // Every "policy in force" cell, so a save (which answers with the whole set) updates them all.
  const slots: {
    readonly table: string;
    readonly operation: Operation;
    readonly cell: HTMLElement;
    readonly remove: HTMLButtonElement;
  }[] = [];
  const show = (policies: PolicySet): void => {
    for (const { table, operation, cell, remove } of slots) {
      const expression = policyOf(policies, table, operation);
      cell.replaceChildren(
        expression === undefined
          ? h('span', { class: 'muted' }, 'none: closed to user tokens')
          : h('code', {}, expression),
      );
      remove.disabled = expression === undefined;
    }
  };

  const operationRow = (table: string, operation: Operation, policies: PolicySet): HTMLElement => {
    const id = `${table}-${operation}`;
    const cell = h('td', { class: 'pad-top', testid: `policy-current-${id}` });
    const input = h('input', {
      type: 'text',
      value: policyOf(policies, table, operation),
      class: 'mono',
      spellcheck: 'false',
      autocomplete: 'off',
      placeholder: 'e.g. owner_id = auth.sub',
      'aria-label': `New ${operation} policy for ${table}`,
      testid: `policy-input-${id}`,
    });
    const message = h('p', { testid: `policy-message-${id}`, hidden: true });
    const save = async (expression: string | null, button: HTMLButtonElement): Promise<void> => {
      button.disabled = true;
      message.hidden = true;
      try {
        const policies = await view.api.put<PolicySet>(
          ['databases', database, 'policies', table, operation],
          { expression },
        );
        show(policies);
        input.value = expression ?? '';
        message.className = 'ok';
        message.setAttribute('role', 'status');
        message.textContent = expression === null ? 'Removed.' : 'Saved.';
      } catch (error) {
        if (view.signal.aborted) return;
        message.className = 'error';
        message.setAttribute('role', 'alert');
        message.textContent = `Refused, the policy in force is unchanged: ${errorText(error)}`;
      } finally {
        message.hidden = false;
        button.disabled = false;
      }
    };
    const saveButton = h('button', { type: 'submit', testid: `policy-save-${id}` }, 'Save');
    const removeButton = h('button', { type: 'button', testid: `policy-remove-${id}` }, 'Remove');
    removeButton.addEventListener('click', () => void save(null, removeButton));
    slots.push({ table, operation, cell, remove: removeButton });
    return h(
      'tr',
      {},
      h('th', { scope: 'row', class: 'pad-top' }, operation),
      cell,
      h(
        'td',
        {},
        h(
          'form',
          {
            class: 'policy-form',
            onsubmit: (event) => {
              event.preventDefault();
              void save(input.value, saveButton);
            },
          },
          input,
          saveButton,
          removeButton,
        ),
        message,
      ),
    );
  };

  void fill(view, body, async () => {
    const [tables, policies] = await Promise.all([
      view.api.get<TableStatus[]>(['databases', database, 'tables']),
      view.api.get<PolicySet>(['databases', database, 'policies']),
    ]);
    slots.length = 0;
    const sections = tables.map((table) =>
      h(
        'section',
        { class: 'policy-table', testid: `policies-${table.name}` },
        h(
          'h2',
          {},
          h('code', {}, table.name),
          h(
            'span',
            { class: `badge ${table.synced ? 'on' : 'off'}` },
            table.synced ? 'synced' : 'not synced',
          ),
        ),
        h(
          'p',
          { class: 'muted' },
          `Columns: ${table.columns.map((column) => column.name).join(', ')}`,
        ),
        h(
          'table',
          { class: 'grid align-top policies' },
          h(
            'colgroup',
            {},
            h('col', { class: 'operation' }),
            h('col', { class: 'current' }),
            h('col'),
          ),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Operation'),
              h('th', { scope: 'col' }, 'Policy in force'),
              h('th', { scope: 'col' }, 'Change'),
            ),
          ),
          h(
            'tbody',
            {},
            ...OPERATIONS.map((operation) => operationRow(table.name, operation, policies)),
          ),
        ),
      ),
    );
    show(policies);
    return sections.length === 0
      ? [h('p', { class: 'empty' }, 'This database has no tables.')]
      : sections;
  });

  return h(
    'div',
    { testid: 'access-tab' },
    h(
      'aside',
      { class: 'note' },
      h('strong', {}, 'Row-level security. '),
      'Each policy is an SQL expression over the row and the token’s claims, e.g. ',
      h('code', {}, 'owner_id = auth.sub'),
      '. Without a policy an operation is closed to user tokens; ',
      h('code', {}, 'true'),
      ' opens it to all. Admin and service keys bypass policies. SQLite compiles a policy before it ' +
        'is saved: one that does not compile is refused and the old one stays.',
    ),
    body,
  );
}

function policyOf(policies: PolicySet, table: string, operation: Operation): string | undefined {
  // Own properties only: a table named `constructor` must not find something inherited.
  return Object.hasOwn(policies, table) ? policies[table]?.[operation] : undefined;
}
