import { h } from './dom.js';

/**
 * What {@link confirmDialog} asks.
 *
 * @example
 * ```ts
 * const ask: ConfirmOptions = { title: 'Revoke device?', message: 'It is refused from then on.', confirm: 'Revoke' };
 * ```
 */
export interface ConfirmOptions {
  /** The question, as the dialog's heading. */
  readonly title: string;
  /** What will happen, in a sentence or two. */
  readonly message: string;
  /** The label of the button that goes ahead (`Switch off`, `Revoke`). */
  readonly confirm: string;
  /** `data-testid` prefix of the dialog and its buttons (default `confirm`). */
  readonly testid?: string;
}

/**
 * Asks before a change that is hard to undo, in a modal `<dialog>`: resolves true when the user
 * confirms, false on Cancel or Escape. Cancel has the focus, so Enter never confirms by accident.
 *
 * @example
 * ```ts
 * if (await confirmDialog({ title: 'Switch off sync?', message: '…', confirm: 'Switch off' })) off();
 * ```
 */
export function confirmDialog(options: ConfirmOptions): Promise<boolean> {
  const id = options.testid ?? 'confirm';
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', testid: `${id}-cancel` }, 'Cancel');
    const confirm = h(
      'button',
      { type: 'button', class: 'danger', testid: `${id}-confirm` },
      options.confirm,
    );
    const dialog = h(
      'dialog',
      { class: 'confirm', testid: `${id}-dialog`, 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title` }, options.title),
      h('p', {}, options.message),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    const finish = (answer: boolean): void => {
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener('click', () => finish(false));
    confirm.addEventListener('click', () => finish(true));
    // Escape closes a modal dialog by itself: that is a cancel.
    dialog.addEventListener('close', () => finish(false));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
