// The dashboard's DOM-free modules, in Node: routing, formatting, axis scaling and the admin API
// client's handling of the server's answers.
import { describe, expect, it } from 'vitest';
import { AdminApiError, adminApi, errorText } from '../dashboard/src/api.js';
import { niceCeil } from '../dashboard/src/chart.js';
import { formatAgo, formatBytes, formatCount } from '../dashboard/src/format.js';
import { parseRoute, type Route, routeHash, TABS } from '../dashboard/src/route.js';

describe('dashboard routes', () => {
  it('reads every page from its hash, and the hash of a route reads back the same route', () => {
    expect(parseRoute('')).toEqual({ page: 'databases' });
    expect(parseRoute('#/')).toEqual({ page: 'databases' });
    expect(parseRoute('#/databases')).toEqual({ page: 'databases' });
    expect(parseRoute('#/db/app')).toEqual({ page: 'database', database: 'app', tab: 'tables' });
    const routes: Route[] = [
      { page: 'databases' },
      ...TABS.map((tab) => ({ page: 'database' as const, database: 'my app/ü?#', tab })),
    ];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
  });

  it('sends unknown hashes to not-found, never to a guessed page', () => {
    for (const hash of ['#/db/app/nope', '#/nope', '#/db/app/tables/extra', '#/db/%E0%A4%A'])
      expect(parseRoute(hash)).toEqual({ page: 'not-found', hash });
  });
});

describe('dashboard formatting', () => {
  it('prints bytes in powers of 1,000 and counts with separators', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(268_000)).toBe('268 kB');
    expect(formatBytes(12_300_000)).toBe('12 MB');
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });

  it('prints how long ago a time was, clamping the future to now', () => {
    const now = 1_700_000_000_000;
    expect(formatAgo(now + 5000, now)).toBe('just now');
    expect(formatAgo(now - 42_000, now)).toBe('42 s ago');
    expect(formatAgo(now - 90_000, now)).toBe('1 min ago');
    expect(formatAgo(now - 3 * 3_600_000, now)).toBe('3 h ago');
    expect(formatAgo(now - 2 * 86_400_000, now)).toBe('2 d ago');
  });

  it('scales a chart axis to the next 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 1.5, 3, 7, 10, 11, 730, 2001].map(niceCeil)).toEqual([
      1, 1, 2, 5, 10, 10, 20, 1000, 5000,
    ]);
  });
});

describe('dashboard admin API client', () => {
  function answering(status: number, body: unknown, seen: Request[] = []): typeof fetch {
    return (async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(new URL(String(input), 'http://127.0.0.1'), init));
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch;
  }

  it('sends the key as a bearer token, encodes path segments, and returns the JSON', async () => {
    const seen: Request[] = [];
    const api = adminApi({ key: 'osk_admin_k', fetch: answering(200, { ok: true }, seen) });
    expect(
      await api.put(['databases', 'a/b', 'tables', 'my table', 'sync'], { enabled: true }),
    ).toEqual({ ok: true });
    expect(seen[0]!.method).toBe('PUT');
    expect(new URL(seen[0]!.url).pathname).toBe('/v1/admin/databases/a%2Fb/tables/my%20table/sync');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer osk_admin_k');
    expect(await seen[0]!.json()).toEqual({ enabled: true });
  });

  it("turns a refusal into an AdminApiError carrying the server's facts", async () => {
    const api = adminApi({
      key: 'k',
      fetch: answering(400, {
        error: {
          type: 'SchemaError',
          code: 'no-primary-key',
          message: 'cannot sync table notes: it has no primary key',
          table: 'notes',
        },
      }),
    });
    const error = await api.get(['databases', 'app', 'tables']).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AdminApiError);
    const refusal = error as AdminApiError;
    expect([refusal.status, refusal.code, refusal.data.table]).toEqual([
      400,
      'no-primary-key',
      'notes',
    ]);
    expect(errorText(refusal)).toBe('cannot sync table notes: it has no primary key (400)');
  });

  it('reports a 401 to onUnauthorized (the page signs out) and still rejects', async () => {
    const unauthorized: AdminApiError[] = [];
    const api = adminApi({
      key: 'k',
      fetch: answering(401, { error: { code: 'unknown-key', message: 'unknown API key' } }),
      onUnauthorized: (error) => unauthorized.push(error),
    });
    await expect(api.get(['status'])).rejects.toMatchObject({ status: 401, code: 'unknown-key' });
    expect(unauthorized.map((error) => error.message)).toEqual(['unknown API key']);
  });

  it('says the server cannot be reached when fetch itself fails', async () => {
    const api = adminApi({
      key: 'k',
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof fetch,
    });
    await expect(api.get(['status'])).rejects.toMatchObject({ status: 0, code: 'unreachable' });
  });
});
