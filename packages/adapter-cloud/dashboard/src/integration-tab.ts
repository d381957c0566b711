import type { TableStatus } from './api-types.js';
import { h } from './dom.js';
import { integrationSnippet, tokenCommand } from './integration-snippet.js';
import { fill, type View } from './view.js';

/**
 * How an app connects to this database: the server URL, the database name, how to get a user
 * token (the exact `offsync token issue` command), and code to copy, each with a Copy button.
 *
 * @example
 * ```ts
 * panel.append(integrationTab(view, 'app'));
 * ```
 */
export function integrationTab(view: View, database: string): HTMLElement {
  const url = location.origin;
  const body = h('div');
  void fill(view, body, async () => {
    const tables = await view.api.get<TableStatus[]>(['databases', database, 'tables']);
    const synced = tables.filter((table) => table.synced).map((table) => table.name);
    const user = h('input', {
      id: 'integration-user',
      testid: 'integration-user',
      value: 'alice',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    const command = h(
      'code',
      { testid: 'integration-token-command' },
      tokenCommand(database, 'alice'),
    );
    user.addEventListener('input', () => {
      command.textContent = tokenCommand(database, user.value.trim() || '<user-id>');
    });
    const snippet = integrationSnippet({ url, database, tables: synced });
    return [
      h(
        'dl',
        { class: 'facts' },
        fact('Server URL', url, 'integration-url'),
        fact('Database', database, 'integration-database'),
        fact(
          'Synced tables',
          synced.length === 0 ? 'none yet (switch one on in Tables)' : synced.join(', '),
          'integration-tables',
        ),
      ),
      h('h2', {}, 'Get a token'),
      h(
        'p',
        {},
        'Each device signs in as a user with a JWT whose ',
        h('code', {}, 'sub'),
        ' is the user id; in production your identity provider issues it. For development, issue one ' +
          'where the server’s data folder is (it is signed with the server’s secret, valid for an hour, and only on this database):',
      ),
      h('div', { class: 'field' }, h('label', { for: 'integration-user' }, 'User id '), user),
      h('pre', { class: 'code', testid: 'integration-token' }, command),
      copyButton(() => command.textContent ?? '', 'copy-token', 'Copy command'),
      h('h2', {}, 'Connect from your app'),
      h(
        'p',
        {},
        'Node (',
        h('code', {}, 'npm install @offsync/adapter-node @offsync/adapter-cloud'),
        '), with the token in ',
        h('code', {}, 'OFFSYNC_TOKEN'),
        ':',
      ),
      h('pre', { class: 'code', testid: 'integration-snippet' }, h('code', {}, snippet)),
      copyButton(() => snippet, 'copy-snippet', 'Copy code'),
    ];
  });
  return h('div', { testid: 'integration-tab' }, body);
}

function fact(label: string, value: string, testid: string): HTMLElement {
  return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, h('code', { testid }, value)));
}

function copyButton(text: () => string, testid: string, label: string): HTMLElement {
  const status = h('span', { class: 'muted', testid: `${testid}-status`, 'aria-live': 'polite' });
  const button = h('button', { type: 'button', testid }, label);
  button.addEventListener('click', () => {
    void copy(text()).then(
      () => {
        status.textContent = 'Copied';
      },
      () => {
        status.textContent = 'Copy failed: select the text and copy it';
      },
    );
  });
  return h('div', { class: 'copy' }, button, status);
}

/** The clipboard API where the page may use it; else the selection, as browsers long did. */
async function copy(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h('textarea', { readonly: true, class: 'visually-hidden' });
  area.value = text;
  document.body.append(area);
  area.select();
  const done = document.execCommand('copy');
  area.remove();
  if (!done) throw new Error('copy refused');
}
