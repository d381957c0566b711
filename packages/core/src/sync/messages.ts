import {
  createDecoder,
  createEncoder,
  DecodeError,
  readRaw,
  readU8,
  readVarUint,
  remaining,
  toBytes,
  writeRaw,
  writeU8,
  writeVarUint,
} from '../changes/encoding.js';
import { OffsyncError } from '../errors.js';

/** Version of the sync protocol this code speaks. */
export const PROTOCOL_VERSION = 1;

/** Largest JSON header a message may carry (64 KiB); changesets travel outside it. */
export const MAX_HEADER_BYTES = 64 * 1024;

/**
 * A table's schema as a client declares it in `hello`: the canonical text the server compares,
 * and its fingerprint.
 *
 * @example
 * ```ts
 * const schema: DeclaredSchema = { canonical: replica.tableInfo('todos').canonical, fingerprint: '…' };
 * ```
 */
export interface DeclaredSchema {
  /** Canonical schema text (`canonicalSchema`). */
  readonly canonical: string;
  /** Schema fingerprint. */
  readonly fingerprint: string;
}

/**
 * Why the server will not sync one of the client's tables.
 *
 * @example
 * ```ts
 * const refusal: TableRefusal = { code: 'not-enabled', message: 'table notes is not enabled for sync' };
 * ```
 */
export interface TableRefusal {
  /**
   * `not-enabled`: the server has not switched the table on; `schema-mismatch`: schemas differ;
   * `schema-outdated`: the server migrated the table past this client's schema in a way it
   * cannot sync across (a dropped, renamed or retyped column): migrate the app.
   */
  readonly code: 'not-enabled' | 'schema-mismatch' | 'schema-outdated';
  /** Human-readable reason naming the table and the difference. */
  readonly message: string;
  /** The column at fault, for schema mismatches. */
  readonly column?: string;
}

/**
 * A table the server migrated past the client's schema: the app should run the migration
 * (`replica.migrate`) that takes it to `fingerprint`. An `additive` change keeps syncing the
 * columns both sides have meanwhile; a `destructive` one stops the table until then.
 *
 * @example
 * ```ts
 * const upgrade: SchemaUpgrade = { table: 'todos', fingerprint: 'v1:…', kind: 'additive', migration: 2 };
 * ```
 */
export interface SchemaUpgrade {
  /** The table. */
  readonly table: string;
  /** The server's fingerprint of it now. */
  readonly fingerprint: string;
  /** Whether the client's current schema still syncs (`additive`) or not. */
  readonly kind: 'additive' | 'destructive';
  /** The server migration that last changed the table. */
  readonly migration: number;
}

/**
 * A pushed row the server refused, with the reason.
 *
 * @example
 * ```ts
 * const refusal: RowRefusal = { table: 'todos', pk: '0104…', reason: 'insert policy of todos denies this row' };
 * ```
 */
export interface RowRefusal {
  /** Table. */
  readonly table: string;
  /** Packed primary key, hex. */
  readonly pk: string;
  /** Why. */
  readonly reason: string;
}

/**
 * A row the client must drop locally without recording a change (it left the user's scope).
 *
 * @example
 * ```ts
 * const eviction: Eviction = { table: 'todos', pk: '0104027431' };
 * ```
 */
export interface Eviction {
  /** Table. */
  readonly table: string;
  /** Packed primary key, hex. */
  readonly pk: string;
}

/**
 * Messages a client sends. Each carries an `id` the response echoes.
 *
 * @example
 * ```ts
 * const pull: ClientMessage = { type: 'pull', id: 3, cursor: 120, limit: 1000 };
 * ```
 */
export type ClientMessage =
  | {
      readonly type: 'hello';
      readonly id: number;
      readonly protocol: number;
      readonly site: string;
      readonly token?: string;
      readonly schemas: Readonly<Record<string, DeclaredSchema>>;
    }
  | {
      readonly type: 'push';
      readonly id: number;
      readonly site: string;
      /** The client's local sequence this push brings the server up to. */
      readonly upTo: number;
      readonly changeset: Uint8Array;
      /**
       * More pages of the same unit follow: the server stages this page and applies nothing
       * until the page without it, then the whole unit in one transaction (a local transaction
       * larger than a page is never seen in part). Absent: the unit ends here.
       */
      readonly continues?: boolean;
      /**
       * This page's position in its unit, from 0. A page 0 starts a new unit (dropping any staged
       * one); any other must follow the last staged page. Absent: 0.
       */
      readonly part?: number;
      /**
       * Names the unit its pages belong to (chosen by the client, unique per run of pages), so a
       * duplicated or late page of another unit never mixes into this one. Absent: no name.
       */
      readonly unit?: string;
    }
  | {
      readonly type: 'pull';
      readonly id: number;
      readonly site: string;
      /** The server sequence this page starts after (the previous page's `cursor`). */
      readonly cursor: number;
      /**
       * Where this run of pages began (the `cursor` of the last page without `hasMore`): the
       * server sends, for each row of the page, its cells written after it, not only those after
       * `cursor` (a row moved past earlier pages by a later write keeps older cells the client
       * has not received). Absent: the same as `cursor`.
       */
      readonly since?: number;
      readonly limit: number;
      /** The tables the client syncs (from `welcome`). */
      readonly tables: readonly string[];
      /** Local changes the client still has to push, for the server's device list. */
      readonly pending: number;
      /**
       * The client's fingerprint of each table it pulls: a client a migration left behind gets
       * the columns it has (additive) or a refusal (destructive). Absent from older clients.
       */
      readonly fingerprints?: Readonly<Record<string, string>>;
    };

/**
 * Messages the server sends: responses (with the request's `id`) and notifications (`id` 0).
 *
 * @example
 * ```ts
 * if (message.type === 'notify') client.syncNow();
 * ```
 */
export type ServerMessage =
  | {
      readonly type: 'welcome';
      readonly id: number;
      readonly serverSite: string;
      readonly serverVersion: number;
      /** The greatest client sequence the server holds from this site. */
      readonly acked: number;
      /** Tables both sides sync. */
      readonly tables: readonly string[];
      /** The client's tables the server refuses, by name. */
      readonly refused: Readonly<Record<string, TableRefusal>>;
      /** Rows are filtered by row-level security: pulls carry whole rows and evictions. */
      readonly filtered: boolean;
      /**
       * The user's scope changed since this device last synced (other claims, new policies):
       * the client pushes what it has, drops its synced rows and pulls everything again.
       */
      readonly resync: boolean;
      /**
       * The largest frame the server accepts (bytes). A client keeps each push under it and
       * holds back a row that alone exceeds it, instead of retrying a push that can never pass.
       * Absent from older servers.
       */
      readonly maxMessageBytes?: number;
      /**
       * The greatest stamp the server holds from the hello's site (as `hlcToString` writes it), when
       * it holds any. A replica that does not hold that stamp itself was restored from a backup:
       * it takes a new site id before it writes stamps that could repeat ones already issued.
       * Absent from older servers.
       */
      readonly siteStamp?: string;
      /** The server's latest schema migration (absent: none). */
      readonly migration?: number;
      /** Tables migrated past the client's schema (absent: none). */
      readonly upgrades?: readonly SchemaUpgrade[];
    }
  | {
      readonly type: 'pushResult';
      readonly id: number;
      readonly accepted: boolean;
      readonly acked: number;
      readonly serverVersion: number;
      readonly refusals: readonly RowRefusal[];
      /** The server's state of refused rows, for the client to take back (empty when accepted). */
      readonly repair: Uint8Array;
      readonly evictions: readonly Eviction[];
      /** The page was staged (it `continues`); nothing was applied yet. Absent: false. */
      readonly staged?: boolean;
      /** The server's latest schema migration: newer than the welcome's, say hello again. */
      readonly migration?: number;
    }
  | {
      readonly type: 'changes';
      readonly id: number;
      readonly cursor: number;
      readonly hasMore: boolean;
      readonly serverVersion: number;
      readonly changeset: Uint8Array;
      readonly evictions: readonly Eviction[];
      /**
       * The page ends inside one unit of the server's (the changes of one push): the client
       * keeps it and applies it together with the following pages up to one without it.
       * Absent: false.
       */
      readonly continues?: boolean;
      /** The server's latest schema migration: newer than the welcome's, say hello again. */
      readonly migration?: number;
    }
  | {
      readonly type: 'notify';
      readonly id: 0;
      readonly serverVersion: number;
      /** Sent after a schema migration: its number. */
      readonly migration?: number;
    }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly code: string;
      readonly status: number;
      readonly message: string;
    };

/**
 * Any protocol message.
 *
 * @example
 * ```ts
 * const bytes = encodeMessage(message satisfies SyncMessage);
 * ```
 */
export type SyncMessage = ClientMessage | ServerMessage;

/**
 * A protocol frame that cannot be understood: not a known message, a field missing or of the
 * wrong type, a header too large. Carries the byte offset when known.
 *
 * @example
 * ```ts
 * if (error instanceof ProtocolError) console.log(error.reason);
 * ```
 */
export class ProtocolError extends OffsyncError {
  readonly type = 'ProtocolError';
  /** What was wrong. */
  readonly reason: string;
  /** Byte offset in the frame, when known. */
  readonly offset: number;

  constructor(reason: string, offset = 0) {
    super(`malformed sync message: ${reason}`);
    this.reason = reason;
    this.offset = offset;
  }
}

const TYPE_CODES = {
  hello: 1,
  welcome: 2,
  push: 3,
  pushResult: 4,
  pull: 5,
  changes: 6,
  notify: 7,
  error: 8,
} as const;
const TYPES_BY_CODE = new Map(
  Object.entries(TYPE_CODES).map(([name, code]) => [code as number, name]),
);
const FRAME_MAGIC = 0x4f; // 'O'
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Frames a message: magic `0x4f`, a type byte, a varint-length JSON header, then the binary
 * payload (a changeset; empty for most types). See `docs/protocol.md`, "Sync messages".
 *
 * @example
 * ```ts
 * socket.send(encodeMessage({ type: 'pull', id: 1, cursor: 0, limit: 1000 }));
 * ```
 */
export function encodeMessage(message: SyncMessage): Uint8Array {
  const { payload, header } = splitPayload(message);
  const json = textEncoder.encode(JSON.stringify(header));
  const encoder = createEncoder(json.length + payload.length + 16);
  writeU8(encoder, FRAME_MAGIC);
  writeU8(encoder, TYPE_CODES[message.type]);
  writeVarUint(encoder, json.length);
  writeRaw(encoder, json);
  writeRaw(encoder, payload);
  return toBytes(encoder);
}

function splitPayload(message: SyncMessage): {
  payload: Uint8Array;
  header: Record<string, unknown>;
} {
  const { type: _type, ...rest } = message as SyncMessage & Record<string, unknown>;
  if (message.type === 'push' || message.type === 'changes') {
    const { changeset, ...header } = rest as { changeset: Uint8Array };
    return { payload: changeset, header };
  }
  if (message.type === 'pushResult') {
    const { repair, ...header } = rest as { repair: Uint8Array };
    return { payload: repair, header };
  }
  return { payload: new Uint8Array(0), header: rest };
}

/**
 * Decodes a frame. Total: returns a well-formed message or throws {@link ProtocolError}; every
 * field is checked for presence and type.
 *
 * @example
 * ```ts
 * const message = decodeMessage(new Uint8Array(event.data));
 * ```
 */
export function decodeMessage(bytes: Uint8Array): SyncMessage {
  let header: Record<string, unknown>;
  let type: string;
  let payload: Uint8Array;
  try {
    const decoder = createDecoder(bytes);
    if (readU8(decoder, 'magic') !== FRAME_MAGIC)
      throw new ProtocolError('not an OffSync sync frame', 0);
    const code = readU8(decoder, 'type');
    const name = TYPES_BY_CODE.get(code);
    if (!name) throw new ProtocolError(`unknown message type ${code}`, 1);
    type = name;
    const length = readVarUint(decoder, 'header.length');
    if (length > MAX_HEADER_BYTES)
      throw new ProtocolError(`header of ${length} bytes exceeds ${MAX_HEADER_BYTES}`, 2);
    const at = decoder.pos;
    const json = readRaw(decoder, length, 'header');
    try {
      header = JSON.parse(textDecoder.decode(json)) as Record<string, unknown>;
    } catch {
      throw new ProtocolError('header is not valid UTF-8 JSON', at);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header)) {
      throw new ProtocolError('header is not a JSON object', at);
    }
    payload = readRaw(decoder, remaining(decoder), 'payload').slice();
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    if (error instanceof DecodeError)
      throw new ProtocolError(`${error.field}: ${error.reason}`, error.offset);
    throw error;
  }
  return validate(type, header, payload);
}

function validate(type: string, header: Record<string, unknown>, payload: Uint8Array): SyncMessage {
  const id = int(header, 'id');
  const noPayload = (): void => {
    if (payload.length > 0) throw new ProtocolError(`a ${type} message carries no payload`);
  };
  switch (type) {
    case 'hello': {
      noPayload();
      const schemas = record(header, 'schemas');
      for (const [table, schema] of Object.entries(schemas)) {
        if (typeof schema !== 'object' || schema === null)
          throw new ProtocolError(`schema of ${table} is not an object`);
        str(schema as Record<string, unknown>, 'canonical');
        str(schema as Record<string, unknown>, 'fingerprint');
      }
      const token = header.token;
      if (token !== undefined && typeof token !== 'string')
        throw new ProtocolError('token is not a string');
      return {
        type,
        id,
        protocol: int(header, 'protocol'),
        site: str(header, 'site'),
        ...(token === undefined ? {} : { token }),
        schemas: schemas as Record<string, { canonical: string; fingerprint: string }>,
      };
    }
    case 'push': {
      const continues = optionalBool(header, 'continues');
      const part = header.part === undefined ? undefined : int(header, 'part');
      const unit = header.unit === undefined ? undefined : str(header, 'unit');
      if (unit !== undefined && unit.length > 64)
        throw new ProtocolError('unit is over 64 characters');
      return {
        type,
        id,
        site: str(header, 'site'),
        upTo: int(header, 'upTo'),
        changeset: payload,
        ...(continues === undefined ? {} : { continues }),
        ...(part === undefined ? {} : { part }),
        ...(unit === undefined ? {} : { unit }),
      };
    }
    case 'pull': {
      noPayload();
      const tables = header.tables;
      if (!Array.isArray(tables) || !tables.every((table) => typeof table === 'string')) {
        throw new ProtocolError('tables is not a list of names');
      }
      const cursor = int(header, 'cursor');
      const since = header.since === undefined ? undefined : int(header, 'since');
      return {
        type,
        id,
        site: str(header, 'site'),
        cursor,
        ...(since === undefined ? {} : { since }),
        limit: int(header, 'limit'),
        tables,
        pending: int(header, 'pending'),
        ...optionalFingerprints(header),
      };
    }
    case 'welcome': {
      noPayload();
      const tables = header.tables;
      if (!Array.isArray(tables) || !tables.every((table) => typeof table === 'string')) {
        throw new ProtocolError('tables is not a list of names');
      }
      return {
        type,
        id,
        serverSite: str(header, 'serverSite'),
        serverVersion: int(header, 'serverVersion'),
        acked: int(header, 'acked'),
        tables,
        refused: record(header, 'refused') as Record<string, TableRefusal>,
        filtered: bool(header, 'filtered'),
        resync: bool(header, 'resync'),
        ...(header.maxMessageBytes === undefined
          ? {}
          : { maxMessageBytes: int(header, 'maxMessageBytes') }),
        ...(header.siteStamp === undefined ? {} : { siteStamp: stampText(header, 'siteStamp') }),
        ...optionalMigration(header),
        ...optionalUpgrades(header),
      };
    }
    case 'pushResult': {
      const staged = optionalBool(header, 'staged');
      return {
        type,
        id,
        accepted: bool(header, 'accepted'),
        acked: int(header, 'acked'),
        serverVersion: int(header, 'serverVersion'),
        refusals: list<RowRefusal>(header, 'refusals', ['table', 'pk', 'reason']),
        repair: payload,
        evictions: list<Eviction>(header, 'evictions', ['table', 'pk']),
        ...(staged === undefined ? {} : { staged }),
        ...optionalMigration(header),
      };
    }
    case 'changes': {
      const continues = optionalBool(header, 'continues');
      return {
        type,
        id,
        cursor: int(header, 'cursor'),
        hasMore: bool(header, 'hasMore'),
        serverVersion: int(header, 'serverVersion'),
        changeset: payload,
        evictions: list<Eviction>(header, 'evictions', ['table', 'pk']),
        ...(continues === undefined ? {} : { continues }),
        ...optionalMigration(header),
      };
    }
    case 'notify':
      noPayload();
      return {
        type,
        id: 0,
        serverVersion: int(header, 'serverVersion'),
        ...optionalMigration(header),
      };
    default:
      noPayload();
      return {
        type: 'error',
        id,
        code: str(header, 'code'),
        status: int(header, 'status'),
        message: str(header, 'message'),
      };
  }
}

function int(header: Record<string, unknown>, field: string): number {
  const value = header[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError(`${field} must be a non-negative integer`);
  }
  return value;
}

function str(header: Record<string, unknown>, field: string): string {
  const value = header[field];
  if (typeof value !== 'string') throw new ProtocolError(`${field} must be a string`);
  return value;
}

function stampText(header: Record<string, unknown>, field: string): string {
  const value = str(header, field);
  if (!/^[0-9a-f]{48}$/.test(value)) {
    throw new ProtocolError(`${field} must be a stamp: 48 lowercase hex characters`);
  }
  return value;
}

function bool(header: Record<string, unknown>, field: string): boolean {
  const value = header[field];
  if (typeof value !== 'boolean') throw new ProtocolError(`${field} must be true or false`);
  return value;
}

function optionalBool(header: Record<string, unknown>, field: string): boolean | undefined {
  return header[field] === undefined ? undefined : bool(header, field);
}

function optionalMigration(header: Record<string, unknown>): { migration?: number } {
  return header.migration === undefined ? {} : { migration: int(header, 'migration') };
}

function optionalUpgrades(header: Record<string, unknown>): { upgrades?: SchemaUpgrade[] } {
  if (header.upgrades === undefined) return {};
  const upgrades = list<SchemaUpgrade>(header, 'upgrades', ['table', 'fingerprint', 'kind']);
  for (const upgrade of upgrades) {
    if (upgrade.kind !== 'additive' && upgrade.kind !== 'destructive')
      throw new ProtocolError('upgrades[].kind must be additive or destructive');
    int(upgrade as unknown as Record<string, unknown>, 'migration');
  }
  return { upgrades };
}

function optionalFingerprints(header: Record<string, unknown>): {
  fingerprints?: Record<string, string>;
} {
  if (header.fingerprints === undefined) return {};
  const fingerprints = record(header, 'fingerprints');
  for (const value of Object.values(fingerprints))
    if (typeof value !== 'string') throw new ProtocolError('fingerprints holds a non-string');
  return { fingerprints: fingerprints as Record<string, string> };
}

function record(header: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = header[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ProtocolError(`${field} must be an object`);
  return value as Record<string, unknown>;
}

function list<T>(
  header: Record<string, unknown>,
  field: string,
  keys: readonly (keyof T & string)[],
): T[] {
  const value = header[field];
  if (!Array.isArray(value)) throw new ProtocolError(`${field} must be a list`);
  for (const item of value) {
    if (typeof item !== 'object' || item === null)
      throw new ProtocolError(`${field} holds a non-object`);
    for (const key of keys) {
      if (typeof (item as Record<string, unknown>)[key] !== 'string')
        throw new ProtocolError(`${field}[].${key} must be a string`);
    }
  }
  return value as T[];
}

const CLIENT_TYPES = new Set(['hello', 'push', 'pull']);

/**
 * Decodes a frame a client sent; a server message type is a {@link ProtocolError}.
 *
 * @example
 * ```ts
 * const request = decodeClientMessage(body);
 * ```
 */
export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  const message = decodeMessage(bytes);
  if (!CLIENT_TYPES.has(message.type))
    throw new ProtocolError(`${message.type} is not a client message`);
  return message as ClientMessage;
}

/**
 * Decodes a frame a server sent; a client message type is a {@link ProtocolError}.
 *
 * @example
 * ```ts
 * const response = decodeServerMessage(bytes);
 * ```
 */
export function decodeServerMessage(bytes: Uint8Array): ServerMessage {
  const message = decodeMessage(bytes);
  if (CLIENT_TYPES.has(message.type))
    throw new ProtocolError(`${message.type} is not a server message`);
  return message as ServerMessage;
}
