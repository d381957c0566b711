import { type Change, hlcToString, type SqlValue } from '@offsync/core';
import { decodeChangeset, decodeMessage, unpackPrimaryKey } from '@offsync/core/codec';

/**
 * One decoded change, every value in SQL literal form (so 64-bit integers and blobs are exact).
 *
 * @example
 * ```ts
 * const change: InspectedChange = { table: 'todos', key: ['"t1"'], cl: 1, column: 'title', value: '"milk"', stamp: '…' };
 * ```
 */
export interface InspectedChange {
  readonly table: string;
  readonly key: readonly string[];
  readonly cl: number;
  /** The column written, or `null` for the row's presence. */
  readonly column: string | null;
  /** The value written (`undefined` for a presence change). */
  readonly value?: string;
  readonly stamp: string;
}

/**
 * A decoded payload file: a sync message (with its changeset, if it carries one) or a bare
 * changeset.
 *
 * @example
 * ```ts
 * const payload: InspectedPayload = decodePayload(bytes);
 * payload.changeset?.changes.length;
 * ```
 */
export interface InspectedPayload {
  readonly message?: { readonly type: string; readonly id: number };
  readonly changeset?: {
    readonly bytes: number;
    readonly fingerprints: Readonly<Record<string, string>>;
    readonly changes: readonly InspectedChange[];
  };
}

function show(value: SqlValue): string {
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `${value}.0` : `${value}`;
  if (value instanceof Uint8Array) return `x'${Buffer.from(value).toString('hex')}'`;
  return JSON.stringify(value);
}

function inspected(change: Change): InspectedChange {
  return {
    table: change.table,
    key: unpackPrimaryKey(change.pk).map(show),
    cl: change.cl,
    column: change.column,
    ...(change.column === null ? {} : { value: show(change.value) }),
    stamp: hlcToString(change.stamp),
  };
}

/**
 * Decodes a changeset, or a sync message carrying one. Throws the codec's typed errors on
 * malformed input.
 *
 * @example
 * ```ts
 * decodePayload(readFileSync('push.bin')).changeset?.changes;
 * ```
 */
export function decodePayload(bytes: Uint8Array): InspectedPayload {
  let changeset = bytes;
  let message: InspectedPayload['message'];
  if (bytes[0] === 0x4f && bytes[1] !== 0x46) {
    const decoded = decodeMessage(bytes);
    message = { type: decoded.type, id: decoded.id };
    const payload =
      'changeset' in decoded ? decoded.changeset : 'repair' in decoded ? decoded.repair : undefined;
    if (!payload || payload.length === 0) return { message };
    changeset = payload;
  }
  const decoded = decodeChangeset(changeset);
  return {
    ...(message === undefined ? {} : { message }),
    changeset: {
      bytes: changeset.length,
      fingerprints: decoded.fingerprints,
      changes: decoded.changes.map(inspected),
    },
  };
}

/**
 * A decoded payload as readable lines (`offsync inspect`).
 *
 * @example
 * ```ts
 * console.log(describePayload(decodePayload(bytes)).join('\n'));
 * ```
 */
export function describePayload(payload: InspectedPayload): string[] {
  const lines: string[] = [];
  if (payload.message)
    lines.push(`sync message: ${payload.message.type} (id ${payload.message.id})`);
  const changeset = payload.changeset;
  if (!changeset) return lines;
  lines.push(`changeset: ${changeset.changes.length} change(s), ${changeset.bytes} bytes`);
  for (const [table, fingerprint] of Object.entries(changeset.fingerprints))
    lines.push(`  table ${table} fingerprint ${fingerprint}`);
  for (const change of changeset.changes) {
    const what =
      change.column === null
        ? change.cl % 2 === 1
          ? 'row present'
          : 'row deleted'
        : `${change.column} = ${change.value}`;
    lines.push(
      `  ${change.table} (${change.key.join(', ')}) cl=${change.cl} ${what}  @ ${change.stamp}`,
    );
  }
  return lines;
}

/**
 * Decodes a changeset, or a sync message carrying one, into readable lines. Throws the codec's
 * typed errors on malformed input.
 *
 * @example
 * ```ts
 * console.log(inspectPayload(readFileSync('push.bin')).join('\n'));
 * ```
 */
export function inspectPayload(bytes: Uint8Array): string[] {
  return describePayload(decodePayload(bytes));
}
