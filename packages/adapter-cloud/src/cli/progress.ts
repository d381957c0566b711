/**
 * A progress bar on a terminal (redrawn in place), or one line per 10% when the output is not a
 * terminal (CI logs).
 *
 * @example
 * ```ts
 * const bar = new ProgressBar('pulling', process.stderr);
 * bar.update(500, 2000);
 * bar.done('4,000 rows');
 * ```
 */
export class ProgressBar {
  readonly #label: string;
  readonly #out: NodeJS.WriteStream;
  #lastDecile = -1;

  constructor(label: string, out: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#out = out;
  }

  /** Shows `done` of `total` (total may be unknown: 0). */
  update(done: number, total: number, detail = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    if (this.#out.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      const percent = total > 0 ? `${Math.round(fraction * 100)}%`.padStart(4) : '';
      this.#out.write(
        `\r${this.#label} ${bar} ${percent} ${done.toLocaleString('en-US')}${total > 0 ? `/${total.toLocaleString('en-US')}` : ''} ${detail}\x1b[K`,
      );
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile !== this.#lastDecile) {
      this.#lastDecile = decile;
      this.#out.write(
        `${this.#label}: ${Math.round(fraction * 100)}% (${done}${total > 0 ? `/${total}` : ''}) ${detail}\n`,
      );
    }
  }

  /** Ends the bar with a final message. */
  done(message: string): void {
    this.#out.write(`${this.#out.isTTY ? '\r\x1b[K' : ''}${this.#label}: ${message}\n`);
  }
}
