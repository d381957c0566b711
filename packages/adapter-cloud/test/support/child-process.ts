import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

/** A fixture script running in its own Node process, with its output at hand. */
export class FixtureProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #output = '';
  #errors = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      this.#output += text;
    });
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.#errors += text;
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /**
   * Starts `test/fixtures/<script>` with Node. Fixtures import the packages' built `dist` (which
   * `npm test` builds first, in its typecheck step); a clear error says so when it is missing.
   */
  static start(script: string, args: readonly string[]): FixtureProcess {
    if (!existsSync(DIST))
      throw new Error(`${DIST} is missing: build first (npx tsc -b; npm test does it)`);
    return new FixtureProcess(
      spawn(process.execPath, [`${FIXTURES}${script}`, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  }

  /** Everything printed so far. */
  get output(): string {
    return this.#output;
  }

  /** Waits for a line starting with `prefix`; fails after `timeoutMs` with the output so far. */
  async line(prefix: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    for (;;) {
      const found = this.#output.split('\n').find((line) => line.startsWith(prefix));
      if (found !== undefined) return found;
      if (exited || Date.now() > deadline)
        throw new Error(
          `${exited ? 'the process exited' : `no line "${prefix}…" within ${timeoutMs} ms`}; stdout: ${this.#output} stderr: ${this.#errors}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits for the process to exit on its own; fails after `timeoutMs` with its output. */
  async exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `the process did not exit within ${timeoutMs} ms; stdout: ${this.#output} stderr: ${this.#errors}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process with SIGKILL and waits until it is gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** What it printed on stderr. */
  get errors(): string {
    return this.#errors;
  }
}
