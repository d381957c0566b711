import { describe, expect, it } from 'vitest';
import { OriginPolicy } from './origin-policy.js';

describe('OriginPolicy', () => {
  const policy = new OriginPolicy(['https://app.example.com', 'http://localhost:5173']);

  it('allows listed origins, the server’s own and non-browser clients only', () => {
    const host = 'sync.example.com';
    expect(
      [
        'https://app.example.com',
        'http://localhost:5173',
        'https://sync.example.com',
        undefined,
        'https://app.example.com.evil.example',
        'http://app.example.com',
        'https://APP.example.com',
        'null',
        'http://localhost:5174',
      ].map((origin) => policy.allows(origin, host)),
    ).toEqual([true, true, true, true, false, false, false, false, false]);
    expect(policy.allows('https://sync.example.com', undefined)).toBe(false);
  });

  it('sends CORS headers to listed origins only (the server’s own needs none)', () => {
    expect(
      ['https://app.example.com', 'https://sync.example.com', undefined].map((origin) =>
        policy.corsFor(origin),
      ),
    ).toEqual([true, false, false]);
  });

  it('unconfigured allows everything and sends no CORS headers', () => {
    const open = new OriginPolicy(undefined);
    expect([
      open.configured,
      open.allows('https://x.example', 'h'),
      open.corsFor('https://x.example'),
    ]).toEqual([false, true, false]);
  });

  it('"*" allows and answers any origin', () => {
    const any = new OriginPolicy(['*']);
    expect([
      any.any,
      any.allows('https://x.example', 'h'),
      any.corsFor('https://x.example'),
    ]).toEqual([true, true, true]);
  });
});
