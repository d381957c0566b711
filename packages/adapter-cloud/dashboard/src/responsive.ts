/**
 * Gives every body cell of the `table.grid` tables under `root` a `data-label`: its column's
 * heading. On a narrow screen the stylesheet lays each row out as a card and shows the label
 * before the value, so a wide table never scrolls sideways.
 *
 * @example
 * ```ts
 * labelCells(panel); // after rendering tables into it
 * ```
 */
export function labelCells(root: ParentNode): void {
  for (const table of Array.from(root.querySelectorAll<HTMLTableElement>('table.grid'))) {
    const headings = Array.from(table.querySelectorAll('thead th')).map(
      (cell) => cell.textContent?.trim() ?? '',
    );
    for (const row of Array.from(table.querySelectorAll('tbody tr')))
      Array.from(row.children).forEach((cell, index) => {
        const label = headings[index];
        if (label) cell.setAttribute('data-label', label);
      });
  }
}
