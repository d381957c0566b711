import type { Change, ServerMessage } from '@offsync/core';
import {
  crc32,
  decodeServerMessage,
  encodeChangeset,
  encodeMessage,
  packPrimaryKey,
} from '@offsync/core/codec';
import { describe, expect, it } from 'vitest';
import { dumpHex, openClientReplica, run } from './support/replicas.js';
import { useSharedServer } from './support/shared-server.js';
import { startLoop, syncUntilConverged, webSocketTransport } from './support/sync-clients.js';

// Items 17, 18 and 19 of "Trust at the edges", pushed at the real server: a NULL key, a key of the
// wrong width and a causal length of 2^53 - 1 are refused with a typed error, the central
// database does not change, and every replica keeps syncing.
const SCHEMA = 'CREATE TABLE items(id TEXT PRIMARY KEY NOT NULL, v)';
const TABLES = ['items'];
const shared = useSharedServer('bounds', SCHEMA, TABLES);

async function postPush(
  database: string,
  site: string,
  changeset: Uint8Array,
): Promise<{ status: number; message: ServerMessage }> {
  const response = await fetch(`${shared.server.url}/v1/databases/${database}/sync`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${shared.server.adminKey}`,
      'content-type': 'application/octet-stream',
    },
    body: encodeMessage({ type: 'push', id: 9, site, upTo: 1, changeset }) as BodyInit,
  });
  return {
    status: response.status,
    message: decodeServerMessage(new Uint8Array(await response.arrayBuffer())),
  };
}

/** `bytes` with the varint `from` replaced by the varint `to` and the CRC fixed. */
function spliceVarint(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const at = bytes.findIndex((_, i) => from.every((byte, k) => bytes[i + k] === byte));
  expect(at).toBeGreaterThan(0);
  const out = new Uint8Array(bytes.length - from.length + to.length);
  out.set(bytes.subarray(0, at));
  out.set(to, at);
  out.set(bytes.subarray(at + from.length), at + to.length);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

describe('keys and numbers a push may not carry', () => {
  it('refuses a NULL key, a key of the wrong width and a causal length of 2^53 - 1, and changes nothing', async () => {
    const { name, central } = await shared.freshDatabase();
    const replica = await openClientReplica('native', SCHEMA, TABLES);
    const client = shared.track({
      name: 'writer',
      replica,
      client: startLoop(
        replica,
        webSocketTransport(shared.server.url, name),
        shared.server.adminKey,
        {
          pollMs: 0,
        },
      ),
    });
    run(replica, 'INSERT INTO items VALUES (?, ?)', ['kept', 'x']);
    await syncUntilConverged(() => [client], central, 10_000);
    const before = dumpHex(central());

    run(replica, 'INSERT INTO items VALUES (?, ?)', ['new', 'y']);
    const fresh = packPrimaryKey(['new']).join();
    const changes = replica.changesSince(0).changes.filter((change) => change.pk.join() === fresh);
    // With the table's fingerprint, as an honest client sends it: only the key or number is wrong.
    const fingerprints = { items: replica.tableInfo('items').fingerprint };
    const withKey = (pk: Uint8Array): Change[] => changes.map((change) => ({ ...change, pk }));
    // 2^31 - 1 (a live life) as a varint, spliced to 2^53 - 1: what an encoder refuses to write.
    const top = encodeChangeset({
      fingerprints,
      changes: changes
        .filter((change) => change.column === null)
        .map((change) => ({ ...change, cl: 2 ** 31 - 1 })),
    });
    const cases: [string, Uint8Array][] = [
      ['NULL key', encodeChangeset({ changes: withKey(packPrimaryKey([null])), fingerprints })],
      [
        'two-column key',
        encodeChangeset({ changes: withKey(packPrimaryKey(['new', 1n])), fingerprints }),
      ],
      [
        'causal length 2^53 - 1',
        spliceVarint(
          top,
          [0xff, 0xff, 0xff, 0xff, 0x07],
          [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f],
        ),
      ],
    ];
    for (const [label, changeset] of cases) {
      const { status, message } = await postPush(name, replica.site, changeset);
      expect(message.type, label).toBe('error');
      expect(status, label).toBeGreaterThanOrEqual(400);
      expect(status, label).toBeLessThan(500);
      expect(message.type === 'error' && message.message, label).toMatch(
        /NULL|column|causal length/,
      );
      expect(dumpHex(central()), label).toBe(before);
    }
    await syncUntilConverged(() => [client], central, 10_000);
  });
});
