import { fc } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY_SHAPE, historySteps } from './history-steps.js';
import { HISTORY_TABLES } from './history-tables.js';

describe('historySteps', () => {
  it('stays within the shape and reaches its longest histories', () => {
    const samples = fc.sample(historySteps(DEFAULT_HISTORY_SHAPE), { numRuns: 300, seed: 1 });
    let longest = 0;
    for (const steps of samples) {
      expect(steps.length).toBeLessThanOrEqual(DEFAULT_HISTORY_SHAPE.maxSteps);
      longest = Math.max(longest, steps.length);
      for (const step of steps) {
        if (step.kind === 'tick') continue;
        expect(step.replica).toBeLessThan(DEFAULT_HISTORY_SHAPE.replicas);
        if ('key' in step) {
          expect(step.key).toBeLessThan(DEFAULT_HISTORY_SHAPE.keys);
          expect(step.table).toBeLessThan(HISTORY_TABLES.length);
        }
      }
    }
    expect(longest).toBeGreaterThan(DEFAULT_HISTORY_SHAPE.maxSteps * 0.8);
    const kinds = new Set(samples.flat().map((step) => step.kind));
    expect([...kinds].sort()).toEqual(
      [
        'deliver',
        'delete',
        'flush',
        'insert',
        'publish',
        'pull',
        'restart',
        'tick',
        'update',
      ].sort(),
    );
  });
});
