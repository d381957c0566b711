// The dashboard's entry: hash routing over the pages, the admin key from sessionStorage, and one
// AbortController per rendered page so leaving a page stops its requests and refresh timers.
import { adminApi, errorText } from './api.js';
import { databasePage, databaseTitle } from './database-page.js';
import { databasesPage } from './databases-page.js';
import { h } from './dom.js';
import { parseRoute, type Route, routeHash } from './route.js';
import { clearKey, loadKey, saveKey } from './session.js';
import { signInPage } from './sign-in-page.js';
import type { View } from './view.js';

const root = document.getElementById('app')!;
let current: AbortController | undefined;
let signInMessage: string | undefined;
let firstRender = true;

function render(): void {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { signal } = controller;
  const key = loadKey(sessionStorage);
  if (key === undefined) {
    document.title = 'Sign in · OffSync';
    root.replaceChildren(
      signInPage({
        message: signInMessage,
        onSignedIn: (accepted) => {
          saveKey(sessionStorage, accepted);
          signInMessage = undefined;
          render();
        },
      }),
    );
    root.querySelector<HTMLInputElement>('input')?.focus();
    return;
  }

  const view: View = {
    api: adminApi({
      key,
      signal,
      onUnauthorized: (error) => {
        if (signal.aborted) return;
        clearKey(sessionStorage);
        signInMessage = `Signed out: the server no longer accepts this key. ${errorText(error)}`;
        render();
      },
    }),
    signal,
    now: () => Date.now(),
    every: (ms, work) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = async (): Promise<void> => {
        // A hidden tab does not poll the server; it catches up on the next visible tick.
        if (document.visibilityState === 'visible') await work().catch(() => undefined);
        if (!signal.aborted) timer = setTimeout(() => void tick(), ms);
      };
      timer = setTimeout(() => void tick(), ms);
      signal.addEventListener('abort', () => clearTimeout(timer));
    },
  };

  const route = parseRoute(location.hash);
  document.title = title(route);
  root.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h('a', { href: routeHash({ page: 'databases' }), class: 'brand' }, 'OffSync'),
      h('span', { class: 'muted' }, 'dashboard'),
      h(
        'button',
        {
          type: 'button',
          class: 'sign-out',
          testid: 'sign-out',
          onclick: () => {
            clearKey(sessionStorage);
            signInMessage = undefined;
            render();
          },
        },
        'Sign out',
      ),
    ),
    h('main', { class: 'page', testid: 'page' }, page(view, route)),
  );
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  if (!firstRender) root.querySelector<HTMLElement>('h1')?.focus();
  firstRender = false;
}

function page(view: View, route: Route): HTMLElement {
  if (route.page === 'databases') return databasesPage(view);
  if (route.page === 'database') return databasePage(view, route.database, route.tab);
  return h(
    'section',
    { testid: 'not-found' },
    h('h1', { tabindex: '-1' }, 'No such page'),
    h('p', {}, h('a', { href: routeHash({ page: 'databases' }) }, 'Back to the databases')),
  );
}

function title(route: Route): string {
  if (route.page === 'database') return databaseTitle(route.database, route.tab);
  return route.page === 'databases' ? 'Databases · OffSync' : 'OffSync';
}

window.addEventListener('hashchange', render);
render();
