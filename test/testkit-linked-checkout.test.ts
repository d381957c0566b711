import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { offsyncTestkitConfig } from '@offsync/testkit/vitest-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A binding project whose kit is LINKED: the kit's real path is outside the project and has its
// own node_modules with its own vitest, @fast-check/vitest and fast-check (as a checkout of the
// kit has). The kit here is a stand-in with the real kit's imports; the project's node_modules
// links this repository's packages. Without the helper two vitests meet; with it, one.
const ROOT = resolve(import.meta.dirname, '..');
const MODULES = join(ROOT, 'node_modules');
let project = '';

const KIT = `import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
export function runKit() {
  describe('linked kit', () => {
    it('registers in the project vitest', () => { expect(1).toBe(1); });
    test.prop([fc.integer()], { numRuns: 5 })('a property registers too', (n) => {
      expect(Number.isInteger(n)).toBe(true);
    });
  });
}
`;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'offsync-linked-'));
  const kit = join(project, 'kit');
  mkdirSync(join(project, 'node_modules', '@offsync'), { recursive: true });
  for (const name of readdirSync(MODULES)) {
    if (name === '@offsync' || name.startsWith('.')) continue;
    symlinkSync(join(MODULES, name), join(project, 'node_modules', name));
  }
  for (const copied of ['vitest', '@vitest', 'fast-check', '@fast-check/vitest']) {
    cpSync(join(MODULES, copied), join(kit, 'node_modules', copied), { recursive: true });
  }
  writeFileSync(
    join(kit, 'package.json'),
    JSON.stringify({ name: '@offsync/testkit', type: 'module', exports: { '.': './index.js' } }),
  );
  writeFileSync(join(kit, 'index.js'), KIT);
  symlinkSync(kit, join(project, 'node_modules', '@offsync', 'testkit'));
  writeFileSync(
    join(project, 'kit.test.js'),
    "import { runKit } from '@offsync/testkit';\nrunKit();\n",
  );
  writeFileSync(join(project, 'plain.config.mjs'), 'export default { test: {} };\n');
  writeFileSync(
    join(project, 'helped.config.mjs'),
    `export default ${JSON.stringify(offsyncTestkitConfig())};\n`,
  );
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

async function vitest(config: string): Promise<{ code: number; output: string }> {
  const child = promisify(execFile)(
    process.execPath,
    [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', config],
    { cwd: project, env: { ...process.env, NO_COLOR: '1' } },
  );
  const done = await child.then(
    (result) => ({ ...result, code: 0 }),
    (error: { stdout: string; stderr: string; code: number }) => error,
  );
  return { code: done.code, output: `${done.stdout}\n${done.stderr}` };
}

describe('the kit from a linked checkout', () => {
  it('without the helper, two vitests meet: "failed to find the current suite"', async () => {
    const { code, output } = await vitest('plain.config.mjs');
    expect(code).not.toBe(0);
    expect(output).toContain('Vitest failed to find the current suite');
  }, 60_000);

  it('with offsyncTestkitConfig(), the kit registers in the one vitest of the project', async () => {
    const { code, output } = await vitest('helped.config.mjs');
    expect(output).toContain('Tests  2 passed (2)');
    expect(code).toBe(0);
  }, 60_000);
});
