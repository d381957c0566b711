import { describe, expect, it } from 'vitest';
import { openClientReplica, query, run, tableRows } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import { startLoop, syncUntilConverged, webSocketTransport } from './support/sync-clients.js';

// Item 9 of "Trust at the edges": text that is not valid UTF-8 arrived elsewhere as U+FFFD
// (a lone surrogate: `length()` 3 on the writer, 5 elsewhere), while dump() called the replicas
// equal. It must be refused, loudly, and never arrive changed.
const SCHEMA = 'CREATE TABLE notes(id TEXT PRIMARY KEY NOT NULL, body TEXT, extra)';
const TABLES = ['notes'];
const shared = useSharedServer('text', SCHEMA, TABLES);

const EXACT =
  'SELECT id, typeof(body), hex(body), length(body), typeof(extra), hex(extra) FROM notes ORDER BY id';

describe('text that is not valid UTF-8, through the real server', () => {
  for (const kind of ['native', 'wasm'] as const) {
    it(`is refused on a ${kind} writer with InvalidTextError, never reaches the server changed, and syncs once rewritten`, async () => {
      const { name, central } = await shared.freshDatabase();
      const open = async (who: string, on: 'native' | 'wasm') => {
        const replica = await openClientReplica(on, SCHEMA, TABLES);
        const client = startLoop(
          replica,
          webSocketTransport(shared.server.url, name),
          shared.server.adminKey,
          {
            pollMs: 0,
          },
        );
        return shared.track({ name: who, replica, client });
      };
      const writer = await open('writer', kind);
      const reader = await open('reader', kind === 'native' ? 'wasm' : 'native');
      run(writer.replica, 'INSERT INTO notes(id, body) VALUES (?, ?)', [
        'good',
        'fine \uFFFD text',
      ]);
      await syncUntilConverged(() => [writer, reader], central, 10_000);

      run(writer.replica, 'INSERT INTO notes(id, body) VALUES (?, ?)', ['lone', 'a\uD800b']);
      run(writer.replica, "INSERT INTO notes(id, extra) VALUES ('cast', CAST(x'ff41c3' AS TEXT))");
      // syncNow rejects with the refusal; the loop's status carries it too.
      const thrown: unknown = await writer.client.syncNow().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(thrown).toMatchObject({ type: 'InvalidTextError', table: 'notes' });
      expect(['body', 'extra']).toContain((thrown as { column: string }).column);
      expect(writer.client.status.state).toBe('error');
      // Nothing of either row arrived anywhere, rewritten or not.
      expect(query(central(), "SELECT count(*) FROM notes WHERE id IN ('lone', 'cast')")).toEqual([
        [0n],
      ]);
      await reader.client.syncNow();
      expect(
        query(reader.replica, "SELECT count(*) FROM notes WHERE id IN ('lone', 'cast')"),
      ).toEqual([[0n]]);

      // The app rewrites the values as BLOBs (the bytes kept): everything syncs, byte for byte.
      run(writer.replica, "UPDATE notes SET body = CAST(body AS BLOB) WHERE id = 'lone'");
      run(writer.replica, "UPDATE notes SET extra = CAST(extra AS BLOB) WHERE id = 'cast'");
      await syncUntilConverged(() => [writer, reader], central, 10_000);
      const expected = query(writer.replica, EXACT);
      expect(query(central(), EXACT)).toEqual(expected);
      expect(query(reader.replica, EXACT)).toEqual(expected);
      expect(tableRows(reader.replica, 'notes')).toEqual(tableRows(writer.replica, 'notes'));
      expect(expected.find((row) => row[0] === 'lone')?.[2]).toBe('61EDA08062');
    });
  }
});
