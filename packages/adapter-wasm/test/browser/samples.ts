// Shared by the page (page.ts, in Chromium) and the test (browser.test.ts, in Node): the rows
// written in the browser, and how values cross back to Node as JSON.
import type { SqlValue } from '@offsync/core';

/** One row of the sample table. */
export interface Sample {
  readonly id: string;
  readonly value: SqlValue;
}

/** A value as JSON: its storage class and an exact text form. */
export interface EncodedValue {
  readonly storage: 'null' | 'integer' | 'real' | 'text' | 'blob';
  /** INTEGER: decimal; REAL: shortest round-trip text (`-0` kept); TEXT: itself; BLOB: hex. */
  readonly text: string | null;
}

/** A row read back in the page. */
export interface EncodedRow {
  readonly id: string;
  readonly value: EncodedValue;
  /** SQLite's `typeof(v)`. */
  readonly sqlType: string;
}

/** What the page's test functions return. */
export interface PhaseResult {
  readonly rows: readonly EncodedRow[];
  /** `count(*)` by a statement prepared before the export, run after it. */
  readonly countAfterExport?: string;
  /** Bytes of the exported database. */
  readonly exportedBytes?: number;
}

/** The page's API, set on `window` once the page is ready. */
export interface BrowserTestApi {
  /** Opens a fresh database, writes the samples, reads them back, saves to IndexedDB. */
  writePhase(): Promise<PhaseResult>;
  /** Reopens the database from IndexedDB and reads the samples. */
  readPhase(): Promise<PhaseResult>;
}

declare global {
  interface Window {
    offsyncBrowserTest?: BrowserTestApi;
  }
}

const BLOB_100K = new Uint8Array(100 * 1024).map((_, i) => (i * 167 + (i >> 8)) & 0xff);

/** Every storage class, with the edges: 64-bit INTEGER extremes, REAL 2.0, 100 kB BLOB, unicode. */
export const SAMPLES: readonly Sample[] = [
  { id: 'a-null', value: null },
  { id: 'b-int-max', value: 2n ** 63n - 1n },
  { id: 'c-int-min', value: -(2n ** 63n) },
  { id: 'd-int-zero', value: 0n },
  { id: 'e-int-2^53+1', value: 2n ** 53n + 1n },
  { id: 'f-real-2.0', value: 2.0 },
  { id: 'g-real-0.1', value: 0.1 },
  { id: 'h-real-minus-zero', value: -0 },
  { id: 'i-real-max', value: Number.MAX_VALUE },
  { id: 'j-real-minus-infinity', value: -Infinity },
  { id: 'k-text-unicode', value: 'Grüße, 日本語, emoji 🙂👍🏽, RTL עברית, combining é' },
  { id: 'l-text-empty', value: '' },
  { id: 'm-text-nul', value: 'before\u0000after' },
  { id: 'n-blob-100k', value: BLOB_100K },
  { id: 'o-blob-empty', value: new Uint8Array(0) },
];

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** A value in its exact JSON form. */
export function encodeValue(value: SqlValue): EncodedValue {
  if (value === null) return { storage: 'null', text: null };
  if (value instanceof Uint8Array) return { storage: 'blob', text: hex(value) };
  switch (typeof value) {
    case 'bigint':
      return { storage: 'integer', text: value.toString() };
    case 'number':
      return { storage: 'real', text: Object.is(value, -0) ? '-0' : String(value) };
    default:
      return { storage: 'text', text: value };
  }
}

/** The rows the page must read back, in id order. */
export function expectedRows(): EncodedRow[] {
  return SAMPLES.map(({ id, value }) => ({
    id,
    value: encodeValue(value),
    sqlType: value === null ? 'null' : encodeValue(value).storage,
  }));
}
