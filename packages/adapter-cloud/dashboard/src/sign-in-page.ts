import { AdminApiError, adminApi, errorText } from './api.js';
import { h } from './dom.js';

/** Options of {@link signInPage}. */
export interface SignInOptions {
  /** Why the user is here again (e.g. the key stopped working). */
  readonly message?: string | undefined;
  /** The server accepted `key`. */
  readonly onSignedIn: (key: string) => void;
}

/**
 * The sign-in form: an admin API key, checked against the server before anything is shown. A
 * refused key leaves the user here with the server's answer and nothing stored.
 *
 * @example
 * ```ts
 * root.replaceChildren(signInPage({ onSignedIn: (key) => saveKey(sessionStorage, key) }));
 * ```
 */
export function signInPage(options: SignInOptions): HTMLElement {
  const input = h('input', {
    id: 'admin-key',
    name: 'admin-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    testid: 'sign-in-key',
    'aria-describedby': 'sign-in-help',
  });
  const error = h('p', {
    class: 'error',
    role: 'alert',
    testid: 'sign-in-error',
    hidden: options.message === undefined,
  });
  if (options.message !== undefined) error.textContent = options.message;
  const button = h(
    'button',
    { type: 'submit', class: 'primary', testid: 'sign-in-submit' },
    'Sign in',
  );

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    button.disabled = true;
    error.hidden = true;
    try {
      await adminApi({ key }).get(['status']);
      options.onSignedIn(key);
    } catch (failure) {
      error.textContent =
        failure instanceof AdminApiError && failure.status === 401
          ? `The server refused this key: ${errorText(failure)}`
          : errorText(failure);
      error.hidden = false;
      input.select();
    } finally {
      button.disabled = false;
    }
  };

  return h(
    'main',
    { class: 'sign-in', testid: 'sign-in-page' },
    h(
      'form',
      {
        class: 'card',
        'aria-labelledby': 'sign-in-title',
        onsubmit: (event) => void submit(event),
      },
      h('h1', { id: 'sign-in-title' }, 'OffSync dashboard'),
      h('label', { for: 'admin-key' }, 'Admin API key'),
      input,
      h(
        'p',
        { id: 'sign-in-help', class: 'muted' },
        h('code', {}, 'offsync serve'),
        ' prints an admin key at its first start and saves it to ',
        h('code', {}, '<data>/admin.key'),
        '. It is kept in this tab only, until you sign out or close it.',
      ),
      error,
      button,
    ),
  );
}
