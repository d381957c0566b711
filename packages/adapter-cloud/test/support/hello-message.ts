import type { ClientMessage, SqliteReplica } from '@offsync/core';
import { PROTOCOL_VERSION } from '@offsync/core/codec';

/**
 * The `hello` a real client would send for `replica`: its site and every synced table's declared
 * schema, with `token` when given. Raw-protocol tests start from it and change one field.
 */
export function helloMessage(
  replica: SqliteReplica,
  token: string | undefined,
  id = 1,
): ClientMessage {
  return {
    type: 'hello',
    id,
    protocol: PROTOCOL_VERSION,
    site: replica.site,
    ...(token === undefined ? {} : { token }),
    schemas: Object.fromEntries(
      replica.syncedTables().map((table) => {
        const info = replica.tableInfo(table);
        return [table, { canonical: info.canonical, fingerprint: info.fingerprint }];
      }),
    ),
  };
}
