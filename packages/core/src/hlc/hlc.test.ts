import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { fakeEnv } from '../test-support/fake-env.js';
import { runs } from '../test-support/runs.js';
import {
  compareHlc,
  DEFAULT_MAX_DRIFT_MS,
  DriftError,
  HLC_MAX_COUNTER,
  HLC_MAX_WALL,
  type Hlc,
  HlcParseError,
  HybridClock,
  hlcFromTime,
  hlcTime,
  hlcToString,
  parseHlc,
} from './hlc.js';
import {
  InvalidSiteIdError,
  newSiteId,
  parseSiteId,
  siteIdFromBytes,
  siteIdToBytes,
} from './site-id.js';

const A = 'aa'.repeat(16);
const B = 'bb'.repeat(16);

const SITE_FOR_WRITES = 'ab'.repeat(16);

describe('HybridClock local events', () => {
  it('uses physical time when it advances', () => {
    const env = fakeEnv(1000);
    const clock = new HybridClock(A, { env });
    expect(clock.now()).toEqual({ wall: 1000, counter: 0, site: A });
    env.advance(5);
    expect(clock.now()).toEqual({ wall: 1005, counter: 0, site: A });
  });

  it('counts within one millisecond: a burst of 100k writes is strictly increasing and never fails', () => {
    const env = fakeEnv(1_700_000_000_000);
    const clock = new HybridClock(A, { env });
    let previous = clock.now();
    let outOfOrder = 0;
    for (let i = 1; i < 100_000; i++) {
      const stamp = clock.now();
      if (compareHlc(stamp, previous) <= 0) outOfOrder++;
      previous = stamp;
    }
    expect(outOfOrder).toBe(0);
    // 100k events need 2 rolls of the 16-bit counter: the logical wall moved 1 ms ahead.
    expect(previous.wall).toBe(1_700_000_000_001);
    expect(previous.counter).toBe(100_000 - 1 - (HLC_MAX_COUNTER + 1));
  });

  it('rolls the logical wall forward on counter overflow instead of wrapping', () => {
    const env = fakeEnv(5000);
    const clock = new HybridClock(A, { env, last: { wall: 5000, counter: HLC_MAX_COUNTER - 1 } });
    expect(clock.now()).toEqual({ wall: 5000, counter: HLC_MAX_COUNTER, site: A });
    expect(clock.now()).toEqual({ wall: 5001, counter: 0, site: A });
    expect(clock.now()).toEqual({ wall: 5001, counter: 1, site: A });
  });

  it('never fails a local batch while the logical clock runs far ahead of physical time', () => {
    const env = fakeEnv(1000);
    const clock = new HybridClock(A, {
      env,
      maxDriftMs: 10,
      last: { wall: 1000 + 10 * DEFAULT_MAX_DRIFT_MS, counter: 0 },
    });
    for (let i = 0; i < 200_000; i++) clock.now();
    expect(clock.last.wall).toBeGreaterThan(1000 + 10 * DEFAULT_MAX_DRIFT_MS);
  });

  it('stays monotonic when the physical clock goes backwards', () => {
    const env = fakeEnv(10_000);
    const clock = new HybridClock(A, { env });
    const first = clock.now();
    env.set(4_000);
    const second = clock.now();
    expect(compareHlc(second, first)).toBeGreaterThan(0);
    expect(second).toEqual({ wall: 10_000, counter: 1, site: A });
    env.set(10_001);
    expect(clock.now()).toEqual({ wall: 10_001, counter: 0, site: A });
  });

  test.prop([fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 })], {
    numRuns: runs(),
  })('issues strictly increasing stamps whatever the physical clock does', (steps) => {
    const env = fakeEnv(1_000_000);
    const clock = new HybridClock(A, { env });
    let previous = clock.now();
    for (const step of steps) {
      env.advance(step);
      const stamp = clock.now();
      expect(compareHlc(stamp, previous)).toBeGreaterThan(0);
      previous = stamp;
    }
  });
});

describe('HybridClock stamps for earlier writes', () => {
  it('stamps a write with the time it was made, clamped to physical time', () => {
    const env = fakeEnv(10_000);
    const clock = new HybridClock(SITE_FOR_WRITES, { env });
    expect(clock.stampAt(4_000)).toEqual({ wall: 4_000, counter: 0, site: SITE_FOR_WRITES });
    expect(clock.stampAt(4_000)).toEqual({ wall: 4_000, counter: 1, site: SITE_FOR_WRITES });
    // A write time ahead of the clock (another clock's view) is no later than now.
    expect(clock.stampAt(50_000).wall).toBe(10_000);
  });

  it('still orders a late-stamped write after everything the clock has seen', () => {
    const env = fakeEnv(10_000);
    const clock = new HybridClock(SITE_FOR_WRITES, { env });
    clock.observe({ wall: 7_000, counter: 3 });
    const stamp = clock.stampAt(5_000);
    expect(stamp).toEqual({ wall: 7_000, counter: 4, site: SITE_FOR_WRITES });
    expect(compareHlc(clock.stampAt(6_000), stamp)).toBeGreaterThan(0);
  });

  it('changes site and keeps its time', () => {
    const env = fakeEnv(10_000);
    const clock = new HybridClock(SITE_FOR_WRITES, { env });
    const before = clock.now();
    const other = 'cd'.repeat(16);
    clock.changeSite(other);
    const after = clock.now();
    expect(after.site).toBe(other);
    expect(clock.site).toBe(other);
    expect(after.wall === before.wall && after.counter === before.counter + 1).toBe(true);
  });
});

describe('HybridClock remote stamps', () => {
  it('advances past a received stamp', () => {
    const env = fakeEnv(1000);
    const clock = new HybridClock(A, { env });
    clock.receive({ wall: 1500, counter: 7, site: B });
    const next = clock.now();
    expect(next).toEqual({ wall: 1500, counter: 8, site: A });
  });

  it('ignores a received stamp from the past', () => {
    const env = fakeEnv(1000);
    const clock = new HybridClock(A, { env });
    clock.now();
    clock.receive({ wall: 10, counter: 3, site: B });
    expect(clock.now()).toEqual({ wall: 1000, counter: 1, site: A });
  });

  it('refuses a stamp beyond the default 5-minute drift with an error naming the drift', () => {
    const env = fakeEnv(1_000_000);
    const clock = new HybridClock(A, { env });
    const remote: Hlc = { wall: 1_000_000 + DEFAULT_MAX_DRIFT_MS + 1, counter: 0, site: B };
    let caught: unknown;
    try {
      clock.receive(remote);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DriftError);
    const drift = caught as DriftError;
    expect(drift.type).toBe('DriftError');
    expect(drift.driftMs).toBe(DEFAULT_MAX_DRIFT_MS + 1);
    expect(drift.maxDriftMs).toBe(DEFAULT_MAX_DRIFT_MS);
    expect(drift.remoteMs).toBe(remote.wall);
    expect(drift.nowMs).toBe(1_000_000);
    expect(drift.site).toBe(B);
    expect(drift.message).toContain(`${DEFAULT_MAX_DRIFT_MS + 1} ms ahead`);
    // Refused means unchanged.
    expect(clock.now()).toEqual({ wall: 1_000_000, counter: 0, site: A });
  });

  it('accepts a stamp exactly at the bound and honours a configured bound', () => {
    const env = fakeEnv(1000);
    const clock = new HybridClock(A, { env, maxDriftMs: 50 });
    expect(() => clock.receive({ wall: 1050, counter: 0, site: B })).not.toThrow();
    expect(() => clock.receive({ wall: 1051, counter: 0, site: B })).toThrow(DriftError);
    expect(clock.check({ wall: 1051, counter: 0, site: B })?.driftMs).toBe(51);
  });

  it('rolls forward when a received counter is at its maximum', () => {
    const env = fakeEnv(1000);
    const clock = new HybridClock(A, { env });
    clock.receive({ wall: 1000, counter: HLC_MAX_COUNTER, site: B });
    expect(clock.now()).toEqual({ wall: 1001, counter: 0, site: A });
  });
});

describe('stamp order and serialisation', () => {
  const stamp = fc.record({
    wall: fc.integer({ min: 0, max: HLC_MAX_WALL }),
    counter: fc.integer({ min: 0, max: HLC_MAX_COUNTER }),
    site: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(siteIdFromBytes),
  });

  it('orders by wall, then counter, then site bytes', () => {
    expect(
      compareHlc({ wall: 2, counter: 0, site: A }, { wall: 1, counter: 9, site: B }),
    ).toBeGreaterThan(0);
    expect(
      compareHlc({ wall: 1, counter: 2, site: A }, { wall: 1, counter: 1, site: B }),
    ).toBeGreaterThan(0);
    expect(
      compareHlc({ wall: 1, counter: 1, site: B }, { wall: 1, counter: 1, site: A }),
    ).toBeGreaterThan(0);
    expect(compareHlc({ wall: 1, counter: 1, site: A }, { wall: 1, counter: 1, site: A })).toBe(0);
  });

  test.prop([stamp, stamp], { numRuns: runs() })('string order is stamp order', (a, b) => {
    expect(Math.sign(compareHlc(a, b))).toBe(
      Math.sign(hlcToString(a).localeCompare(hlcToString(b), 'en')),
    );
    expect(hlcToString(a) < hlcToString(b)).toBe(compareHlc(a, b) < 0);
  });

  test.prop([stamp], { numRuns: runs() })('round-trips through text and the 64-bit form', (a) => {
    expect(parseHlc(hlcToString(a))).toEqual(a);
    expect(hlcFromTime(hlcTime(a), a.site)).toEqual(a);
  });

  it('keeps the 64-bit time exact above 2^53', () => {
    const top: Hlc = { wall: HLC_MAX_WALL, counter: HLC_MAX_COUNTER, site: A };
    expect(hlcTime(top)).toBe(2n ** 64n - 1n);
    expect(hlcFromTime(2n ** 64n - 1n, A)).toEqual(top);
    expect(() => hlcFromTime(2n ** 64n, A)).toThrow(HlcParseError);
  });

  it('refuses malformed text', () => {
    expect(() => parseHlc('zz')).toThrow(HlcParseError);
    expect(() => parseHlc('0'.repeat(47))).toThrow(HlcParseError);
  });

  it('makes and checks site ids', () => {
    const site = newSiteId(fakeEnv());
    expect(site).toMatch(/^[0-9a-f]{32}$/);
    expect(siteIdFromBytes(siteIdToBytes(site))).toBe(site);
    expect(() => parseSiteId('ABC')).toThrow(InvalidSiteIdError);
  });
});
