/** The tabs of a database's sync settings. */
export const TABS = [
  'tables',
  'devices',
  'metrics',
  'refusals',
  'migrations',
  'integration',
  'access',
] as const;

/** A tab of a database's sync settings. */
export type Tab = (typeof TABS)[number];

/**
 * Where the dashboard is: `#/databases`, `#/db/<name>/<tab>`.
 *
 * @example
 * ```ts
 * const route: Route = { page: 'database', database: 'app', tab: 'devices' };
 * ```
 */
export type Route =
  | { readonly page: 'databases' }
  | { readonly page: 'database'; readonly database: string; readonly tab: Tab }
  | { readonly page: 'not-found'; readonly hash: string };

/**
 * Reads a location hash. An empty hash is the databases page; `#/db/<name>` is its tables tab.
 *
 * @example
 * ```ts
 * parseRoute('#/db/app/devices'); // { page: 'database', database: 'app', tab: 'devices' }
 * ```
 */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'databases'))
    return { page: 'databases' };
  if (parts[0] === 'db' && parts[1] !== undefined && parts.length <= 3) {
    let database: string;
    try {
      database = decodeURIComponent(parts[1]);
    } catch {
      return { page: 'not-found', hash };
    }
    const tab = parts[2] ?? 'tables';
    if ((TABS as readonly string[]).includes(tab))
      return { page: 'database', database, tab: tab as Tab };
  }
  return { page: 'not-found', hash };
}

/**
 * The hash of a route.
 *
 * @example
 * ```ts
 * location.hash = routeHash({ page: 'database', database: 'app', tab: 'tables' });
 * ```
 */
export function routeHash(route: Route): string {
  if (route.page === 'database') return `#/db/${encodeURIComponent(route.database)}/${route.tab}`;
  if (route.page === 'not-found') return route.hash;
  return '#/databases';
}
