import { RequestError } from './sync-service.js';

/**
 * A request's target split for routing: the raw path, its decoded segments and the query.
 *
 * @example
 * ```ts
 * const target: RequestTarget = { pathname: '/v1/health', parts: ['v1', 'health'], query };
 * ```
 */
export interface RequestTarget {
  /** The path as sent (still percent-encoded), for messages. */
  readonly pathname: string;
  /** The non-empty path segments, each percent-decoded. */
  readonly parts: readonly string[];
  /** The query string's parameters. */
  readonly query: URLSearchParams;
}

/**
 * Splits an HTTP request target (`request.url`) into decoded path segments and query, refusing
 * a malformed one with a {@link RequestError} `bad-path` (400).
 *
 * Written by hand rather than with `new URL()` and `decodeURIComponent()` on the route: both
 * throw on attacker-chosen input (`%ZZ`, `//[`), and `new URL('//host/x', base)` reads a path
 * that starts with `//` as a host and so routes a different path than was asked.
 *
 * @example
 * ```ts
 * parseRequestTarget('/v1/databases/todos/sync?x=1').parts; // ['v1', 'databases', 'todos', 'sync']
 * parseRequestTarget('/v1/databases/%ZZ/ws'); // throws RequestError bad-path (400)
 * ```
 */
export function parseRequestTarget(raw: string | undefined): RequestTarget {
  const target = raw ?? '/';
  const hash = target.indexOf('#');
  const withoutHash = hash === -1 ? target : target.slice(0, hash);
  const mark = withoutHash.indexOf('?');
  const pathname = mark === -1 ? withoutHash : withoutHash.slice(0, mark);
  if (!pathname.startsWith('/'))
    throw new RequestError('bad-path', 400, 'the request target must be an absolute path');
  const parts: string[] = [];
  for (const segment of pathname.split('/')) {
    if (segment === '') continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw new RequestError(
        'bad-path',
        400,
        `the path segment ${JSON.stringify(segment.slice(0, 80))} is not valid percent-encoded UTF-8`,
      );
    }
    // A decoded separator or NUL would change which file or name the segment means.
    if (/[/\0]/.test(decoded))
      throw new RequestError(
        'bad-path',
        400,
        `the path segment ${JSON.stringify(segment.slice(0, 80))} encodes a separator or NUL`,
      );
    parts.push(decoded);
  }
  // URLSearchParams never throws: malformed escapes in the query are kept as they are.
  const query = new URLSearchParams(mark === -1 ? '' : withoutHash.slice(mark + 1));
  return { pathname, parts, query };
}
