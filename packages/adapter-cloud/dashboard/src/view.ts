import { type AdminApi, AdminApiError, errorText } from './api.js';
import { type Child, h, nodes } from './dom.js';
import { labelCells } from './responsive.js';

/**
 * What a page or tab gets to render with. Everything it starts (requests, refresh timers) stops
 * when `signal` aborts, which happens as soon as the user navigates away, so a slow answer never
 * paints over the next page.
 *
 * @example
 * ```ts
 * view.every(3000, () => refresh());
 * ```
 */
export interface View {
  /** The admin API, signed in, bound to `signal`. */
  readonly api: AdminApi;
  /** Aborted when the view goes away. */
  readonly signal: AbortSignal;
  /** Clock. */
  readonly now: () => number;
  /** Runs `work` every `ms` (after the previous run ended) while the view lives and is visible. */
  every(ms: number, work: () => Promise<void>): void;
}

/**
 * Fills `target` with what `work` renders, showing a loading line first and the server's message
 * if it fails. A refresh keeps the old content until the new one is ready.
 *
 * @example
 * ```ts
 * await fill(view, section, async () => [renderTables(await view.api.get(['databases']))]);
 * ```
 */
export async function fill(
  view: View,
  target: HTMLElement,
  work: () => Promise<readonly Child[]>,
  options: { readonly refresh?: boolean } = {},
): Promise<void> {
  if (!options.refresh) target.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
  target.setAttribute('aria-busy', 'true');
  try {
    const children = await work();
    if (view.signal.aborted) return;
    target.replaceChildren(...nodes(children));
    labelCells(target);
  } catch (error) {
    if (view.signal.aborted) return;
    // A 401 has already sent the user to the sign-in page.
    if (error instanceof AdminApiError && error.status === 401) return;
    target.replaceChildren(
      h('p', { class: 'error', role: 'alert', testid: 'load-error' }, errorText(error)),
    );
  } finally {
    target.removeAttribute('aria-busy');
  }
}
