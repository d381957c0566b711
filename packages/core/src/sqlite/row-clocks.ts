import {
  createDecoder,
  createEncoder,
  readVarUint,
  remaining,
  toBytes,
  writeVarUint,
} from '../changes/encoding.js';

/**
 * Where and when one slot of a row was last written: a stamp id (a row of `offsync_stamps`) and
 * the local sequence number of the write. Stamp id 0 means "never written in this life".
 *
 * @example
 * ```ts
 * const clock: SlotClock = { sid: 3, seq: 120 };
 * ```
 */
export interface SlotClock {
  /** Stamp id; 0 = none. */
  readonly sid: number;
  /** Local sequence of the write (0 with sid 0). */
  readonly seq: number;
}

/** The clock of a slot never written in the row's current life. */
export const NO_CLOCK: SlotClock = { sid: 0, seq: 0 };

/** Slot of the row's life (its causal length); column slots are the column ids (≥ 1). */
export const LIFE_SLOT = 0;

/**
 * A row's metadata as stored in its `offsync_meta_*` row: a default clock shared by most slots
 * and the exceptions. Most rows are written whole (an insert) and store no exception at all.
 *
 * @example
 * ```ts
 * const stored: StoredRowClocks = { seq: 9, sid: 2, dseq: null, clocks: null };
 * ```
 */
export interface StoredRowClocks {
  /** Greatest sequence of any slot: the row's position in "changes since". */
  readonly seq: number;
  /** Stamp id of the default clock. */
  readonly sid: number;
  /** Sequence of the default clock, or `null` when it equals `seq`. */
  readonly dseq: number | null;
  /** Exceptions: varint triples (slot, sid, seq), or `null`. */
  readonly clocks: Uint8Array | null;
}

/**
 * A column slot the row may hold: its id and the sequence at which it was added to the table.
 *
 * @example
 * ```ts
 * const slot: ColumnSlot = { id: 4, addedSeq: 0 };
 * ```
 */
export interface ColumnSlot {
  /** Column id (stable across renames). */
  readonly id: number;
  /** Sequence counter value when the column was added (0 for columns present at enable). */
  readonly addedSeq: number;
}

/**
 * Expands stored metadata to one clock per slot: the life slot and each current column. A
 * column added after the row was last written (its `addedSeq` above the row's `seq`) has no
 * clock: the row never held it, so no old write is claimed for it. This is what makes adding a
 * column O(1): no row is rewritten.
 *
 * @example
 * ```ts
 * const slots = decodeRowClocks(stored, columns);
 * slots.get(LIFE_SLOT); // { sid, seq }
 * ```
 */
export function decodeRowClocks(
  stored: StoredRowClocks,
  columns: readonly ColumnSlot[],
): Map<number, SlotClock> {
  const fallback: SlotClock = { sid: stored.sid, seq: stored.dseq ?? stored.seq };
  const slots = new Map<number, SlotClock>();
  slots.set(LIFE_SLOT, fallback);
  for (const column of columns)
    slots.set(column.id, column.addedSeq > stored.seq ? NO_CLOCK : fallback);
  if (stored.clocks !== null) {
    const decoder = createDecoder(stored.clocks);
    while (remaining(decoder) > 0) {
      const slot = readVarUint(decoder, 'clocks.slot');
      const sid = readVarUint(decoder, 'clocks.sid');
      const seq = readVarUint(decoder, 'clocks.seq');
      // Exceptions for dropped columns are ignored; they vanish at the next write.
      if (slots.has(slot)) slots.set(slot, sid === 0 ? NO_CLOCK : { sid, seq });
    }
  }
  return slots;
}

/**
 * The stored form of a row whose slots all share one clock (a row written whole): no exceptions.
 *
 * @example
 * ```ts
 * uniformRowClocks({ sid: 1, seq: 7 }); // { seq: 7, sid: 1, dseq: null, clocks: null }
 * ```
 */
export function uniformRowClocks(clock: SlotClock): StoredRowClocks {
  return { seq: clock.seq, sid: clock.sid, dseq: null, clocks: null };
}

/**
 * Encodes one clock per slot compactly: the most common clock becomes the default (ties go to
 * the newest), the others are listed as exceptions.
 *
 * @example
 * ```ts
 * const stored = encodeRowClocks(slots);
 * ```
 */
export function encodeRowClocks(slots: ReadonlyMap<number, SlotClock>): StoredRowClocks {
  // Rows hold few distinct clocks: count them in a short list, not a keyed map.
  const distinct: { clock: SlotClock; count: number }[] = [];
  let seq = 0;
  for (const clock of slots.values()) {
    if (clock.seq > seq) seq = clock.seq;
    let entry = distinct.find(
      (candidate) => candidate.clock.sid === clock.sid && candidate.clock.seq === clock.seq,
    );
    if (!entry) {
      entry = { clock, count: 0 };
      distinct.push(entry);
    }
    entry.count++;
  }
  let best = distinct[0];
  for (const entry of distinct) {
    if (
      !best ||
      entry.count > best.count ||
      (entry.count === best.count && entry.clock.seq > best.clock.seq)
    )
      best = entry;
  }
  const fallback = best?.clock ?? NO_CLOCK;
  if (distinct.length <= 1)
    return {
      seq,
      sid: fallback.sid,
      dseq: fallback.seq === seq ? null : fallback.seq,
      clocks: null,
    };
  const encoder = createEncoder(16);
  const ordered = [...slots.entries()].sort((a, b) => a[0] - b[0]);
  for (const [slot, clock] of ordered) {
    if (clock.sid === fallback.sid && clock.seq === fallback.seq) continue;
    writeVarUint(encoder, slot);
    writeVarUint(encoder, clock.sid);
    writeVarUint(encoder, clock.seq);
  }
  return {
    seq,
    sid: fallback.sid,
    dseq: fallback.seq === seq ? null : fallback.seq,
    clocks: toBytes(encoder),
  };
}
