import type { IncomingMessage } from 'node:http';
import type { OriginPolicy } from './origin-policy.js';

/**
 * Whether a WebSocket upgrade may proceed under the origin policy: browsers send `Origin` on
 * every WebSocket handshake and do not let a page change it, so a page of a disallowed origin is
 * refused (the caller answers 403 before upgrading). No `Origin` header means a non-browser
 * client (Node, a mobile app, curl), which could send any header it likes: the policy is a
 * browser protection, the token in `hello` is what authorises a session.
 *
 * @example
 * ```ts
 * if (!upgradeOriginAllowed(policy, request)) return refuseUpgrade(socket, 403, 'Forbidden');
 * ```
 */
export function upgradeOriginAllowed(policy: OriginPolicy, request: IncomingMessage): boolean {
  return policy.allows(request.headers.origin, request.headers.host);
}
