import {
  type Change,
  decodeChangeset,
  decodeMessage,
  hlcToString,
  type SqlValue,
  unpackPrimaryKey,
} from '@offsync/core';

function show(value: SqlValue): string {
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `${value}.0` : `${value}`;
  if (value instanceof Uint8Array) return `x'${Buffer.from(value).toString('hex')}'`;
  return JSON.stringify(value);
}

function describe(change: Change): string {
  const key = unpackPrimaryKey(change.pk).map(show).join(', ');
  const what =
    change.column === null
      ? change.cl % 2 === 1
        ? 'row present'
        : 'row deleted'
      : `${change.column} = ${show(change.value)}`;
  return `${change.table} (${key}) cl=${change.cl} ${what}  @ ${hlcToString(change.stamp)}`;
}

/**
 * Decodes a changeset, or a sync message carrying one, into readable lines (`offsync inspect`).
 * Throws the codec's typed errors on malformed input.
 *
 * @example
 * ```ts
 * console.log(inspectPayload(readFileSync('push.bin')).join('\n'));
 * ```
 */
export function inspectPayload(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  let changeset = bytes;
  if (bytes[0] === 0x4f && bytes[1] !== 0x46) {
    const message = decodeMessage(bytes);
    lines.push(`sync message: ${message.type} (id ${message.id})`);
    const payload =
      'changeset' in message ? message.changeset : 'repair' in message ? message.repair : undefined;
    if (!payload || payload.length === 0) return lines;
    changeset = payload;
  }
  const decoded = decodeChangeset(changeset);
  lines.push(`changeset: ${decoded.changes.length} change(s), ${changeset.length} bytes`);
  for (const [table, fingerprint] of Object.entries(decoded.fingerprints))
    lines.push(`  table ${table} fingerprint ${fingerprint}`);
  for (const change of decoded.changes) lines.push(`  ${describe(change)}`);
  return lines;
}
