import { afterEach, describe, expect, it } from 'vitest';
import { defaultSeed, resolveOptions } from './conformance-options.js';
import { thrownBy } from './expect-error.js';
import {
  checkLimitations,
  type KnownLimitation,
  limitationNote,
  limitationSummary,
} from './limitations.js';
import { replayCommand } from './replay.js';
import { offsyncTestkitConfig } from './vitest-config.js';

describe('declared limitations', () => {
  it('an unknown id, an empty reason or a duplicate is a TypeError, never a silent pass', () => {
    const unknown = [{ id: 'text-nul ', reason: 'typo' }] as unknown as KnownLimitation[];
    expect(thrownBy(() => checkLimitations(unknown))).toBeInstanceOf(TypeError);
    expect(String(thrownBy(() => checkLimitations(unknown)))).toContain(
      'known: text-nul, real-to-text-digits',
    );
    expect(thrownBy(() => checkLimitations([{ id: 'text-nul', reason: ' ' }]))).toBeInstanceOf(
      TypeError,
    );
    const twice: KnownLimitation[] = [
      { id: 'text-nul', reason: 'a' },
      { id: 'text-nul', reason: 'b' },
    ];
    expect(thrownBy(() => checkLimitations(twice))).toBeInstanceOf(TypeError);
    expect(thrownBy(() => resolveOptions({ limitations: unknown }))).toBeInstanceOf(TypeError);
  });

  it('names exactly the declared limitation in the note and the summary', () => {
    const declared: KnownLimitation[] = [{ id: 'real-to-text-digits', reason: 'SQLite 3.45.1' }];
    expect(limitationNote(declared, 'real-to-text-digits')).toBe(
      'known limitation real-to-text-digits: SQLite 3.45.1',
    );
    expect(limitationNote(declared, 'text-nul')).toBeUndefined();
    expect(limitationSummary('libsql', declared)).toBe(
      'offsync testkit, libsql: declared limitations: real-to-text-digits (SQLite 3.45.1)',
    );
    expect(limitationSummary('sql.js', [])).toBe(
      'offsync testkit, sql.js: no declared limitations',
    );
  });
});

describe('seeds', () => {
  const before = process.env.FC_SEED;
  afterEach(() => {
    if (before === undefined) delete process.env.FC_SEED;
    else process.env.FC_SEED = before;
  });

  it('FC_SEED is the seed of every property; a malformed one throws', () => {
    process.env.FC_SEED = '-17';
    expect(defaultSeed()).toBe(-17);
    expect(resolveOptions({}).seed).toBe(-17);
    expect(resolveOptions({ seed: 5 }).seed).toBe(5);
    process.env.FC_SEED = '12abc';
    expect(thrownBy(() => defaultSeed())).toBeInstanceOf(TypeError);
    delete process.env.FC_SEED;
    expect(Number.isSafeInteger(defaultSeed())).toBe(true);
  });

  it('the replay command escapes the test name as the -t pattern it is', () => {
    expect(replayCommand(9, '/p/a.test.ts', 'stores -0.0 (x) "q"')).toBe(
      'offsync testkit: seed 9; replay with FC_SEED=9 npx vitest run /p/a.test.ts -t "stores -0\\.0 \\(x\\) \\"q\\""',
    );
  });
});

describe('vitest config for a linked checkout', () => {
  it('dedupes vitest and fast-check and inlines the kit', () => {
    expect(offsyncTestkitConfig()).toEqual({
      resolve: { dedupe: ['vitest', '@fast-check/vitest', 'fast-check'] },
      test: { server: { deps: { inline: ['@offsync/testkit'] } } },
    });
  });
});
