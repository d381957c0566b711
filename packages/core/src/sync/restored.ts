import { type Hlc, parseHlc } from '../hlc/hlc.js';
import type { SqliteReplica } from '../sqlite/replica.js';
import type { ServerMessage } from './messages.js';

/**
 * Whether `replica` was restored from a backup, judged from the server's `welcome`: the server
 * holds a stamp of the replica's site that the replica does not hold, so its earlier self issued
 * it after the backup, and this copy, with the backup's clock, could reissue its stamps. Returns
 * that stamp, or `undefined` when the replica is its own latest self (or the server does not
 * say). A replica never deletes a stamp it issued, so this cannot fire on a device that was not
 * restored. (The server's acknowledged sequence is not used: device records are written lazily
 * and a restarted server can report one older than the stamps it holds.)
 *
 * Not detected: a restored copy that has already reissued exactly the server's latest stamp of
 * its site (same millisecond and counter) before its first hello; the value tie-break still keeps
 * replicas equal, but one of the two writes of that cell loses.
 *
 * @example
 * ```ts
 * const seen = restoredStamp(replica, welcome);
 * if (seen) replica.renewSite(acked, seen);
 * ```
 */
export function restoredStamp(
  replica: SqliteReplica,
  welcome: Extract<ServerMessage, { type: 'welcome' }>,
): Hlc | undefined {
  if (welcome.siteStamp === undefined) return undefined;
  const stamp = parseHlc(welcome.siteStamp);
  if (stamp.site !== replica.site) return undefined;
  const seq = replica.stampSeq(stamp);
  return seq === undefined ? stamp : undefined;
}
