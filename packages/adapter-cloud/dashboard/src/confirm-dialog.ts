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
  /**
   * Consequences to accept one by one, as checkboxes: the confirm button stays disabled until
   * every one is ticked, so confirming means each was read.
   */
  readonly checks?: readonly ConfirmCheck[];
}

/**
 * One checkbox of a {@link confirmDialog}.
 *
 * @example
 * ```ts
 * const check: ConfirmCheck = { id: 'fk', label: 'Allow foreign keys', detail: 'Batches that violate one are refused.' };
 * ```
 */
export interface ConfirmCheck {
  /** Suffix of its `data-testid` (`<testid>-check-<id>`). */
  readonly id: string;
  /** What is allowed, as the checkbox's label. */
  readonly label: string;
  /** What follows from it. */
  readonly detail: string;
}

/**
 * Asks before a change that is hard to undo, in a modal `<dialog>`: resolves true when the user
 * confirms (having ticked every check, if any), false on Cancel or Escape. Cancel has the focus,
 * so Enter never confirms by accident.
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
    const checks = options.checks ?? [];
    const confirm = h(
      'button',
      { type: 'button', class: 'danger', testid: `${id}-confirm`, disabled: checks.length > 0 },
      options.confirm,
    );
    const boxes = checks.map((check) =>
      h('input', { type: 'checkbox', testid: `${id}-check-${check.id}` }),
    );
    for (const box of boxes)
      box.addEventListener('change', () => {
        confirm.disabled = !boxes.every((each) => each.checked);
      });
    const dialog = h(
      'dialog',
      { class: 'confirm', testid: `${id}-dialog`, 'aria-labelledby': `${id}-title` },
      h('h2', { id: `${id}-title` }, options.title),
      h('p', {}, options.message),
      checks.length === 0
        ? undefined
        : h(
            'ul',
            { class: 'confirm-checks' },
            ...checks.map((check, index) =>
              h(
                'li',
                {},
                h(
                  'label',
                  {},
                  boxes[index],
                  h('span', {}, h('strong', {}, check.label), h('br'), check.detail),
                ),
              ),
            ),
          ),
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
