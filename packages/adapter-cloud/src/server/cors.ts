import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OriginPolicy } from './origin-policy.js';

/** Methods and request headers the HTTP API uses: sync is POST, the admin API all four. */
const ALLOW_METHODS = 'GET, POST, PUT, DELETE';
const ALLOW_HEADERS = 'authorization, content-type';
/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Applies the origin policy to one HTTP request under `/v1`, and answers it when the policy
 * decides alone: a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) gets 204 with
 * the allowed methods and headers for an allowed origin and 403 without any CORS header for
 * another; a request from a disallowed origin gets 403 `origin-not-allowed` before it is
 * authenticated or does anything, since a browser may send a simple cross-origin POST without
 * asking first. Returns `true` when it answered.
 *
 * An allowed origin's answers carry `Access-Control-Allow-Origin` (the origin itself, or `*`
 * for `["*"]`) and `Vary: Origin`, never `Access-Control-Allow-Credentials`: OffSync
 * authenticates with the `Authorization` header, not cookies, so a page never needs the browser
 * to attach credentials of its own, and `*` stays safe.
 *
 * @example
 * ```ts
 * if (applyCors(policy, request, response)) return; // preflight or refusal answered
 * ```
 */
export function applyCors(
  policy: OriginPolicy,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  if (!policy.configured) return false;
  const origin = request.headers.origin;
  // The answer depends on Origin: a shared cache must not hand one origin's answer to another.
  response.setHeader('vary', 'Origin');
  const cors = policy.corsFor(origin);
  if (cors) {
    response.setHeader('access-control-allow-origin', policy.any ? '*' : origin!);
    response.setHeader('access-control-expose-headers', 'retry-after');
  }
  const preflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  if (preflight) {
    if (!cors) return refuse(response);
    response.writeHead(204, {
      'access-control-allow-methods': ALLOW_METHODS,
      'access-control-allow-headers': ALLOW_HEADERS,
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
    });
    response.end();
    return true;
  }
  if (!policy.allows(origin, request.headers.host)) return refuse(response);
  return false;
}

function refuse(response: ServerResponse): true {
  response.writeHead(403, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(
    JSON.stringify({
      error: {
        code: 'origin-not-allowed',
        message: "this origin is not in the server's allowedOrigins (server.json)",
      },
    }),
  );
  return true;
}
