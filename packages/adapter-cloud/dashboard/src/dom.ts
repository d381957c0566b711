// Tiny DOM builders. Server data (table names, policies, user ids) only ever becomes text nodes
// or attribute values, never HTML, so nothing the server stores can inject markup.

/** A child: nodes as they are, text as text, and `false`/`null`/`undefined` skipped. */
export type Child = Node | string | number | false | null | undefined;

/**
 * Attributes: `testid` becomes `data-testid`; `true` sets a boolean attribute; `false`, `null`
 * and `undefined` leave it out; `on<event>` functions become listeners.
 */
export type Attrs = {
  readonly [name: string]: string | number | boolean | null | undefined | ((event: Event) => void);
};

function apply(element: Element, attrs: Attrs, children: readonly Child[]): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      element.setAttribute(name === 'testid' ? 'data-testid' : name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name === 'testid' ? 'data-testid' : name, String(value));
    }
  }
  element.append(...nodes(children));
}

/**
 * The children that render: text as text, `false`/`null`/`undefined` dropped.
 *
 * @example
 * ```ts
 * target.replaceChildren(...nodes([title, error && message]));
 * ```
 */
export function nodes(children: readonly Child[]): (Node | string)[] {
  const result: (Node | string)[] = [];
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    result.push(typeof child === 'number' ? String(child) : child);
  }
  return result;
}

/**
 * Creates an HTML element.
 *
 * @example
 * ```ts
 * h('button', { type: 'button', testid: 'save', onclick: save }, 'Save');
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  apply(element, attrs, children);
  return element;
}

/**
 * Creates an SVG element.
 *
 * @example
 * ```ts
 * svg('polyline', { points: '0,10 5,0', class: 'line-up' });
 * ```
 */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  apply(element, attrs, children);
  return element;
}
