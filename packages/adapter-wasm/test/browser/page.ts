/// <reference types="vite/client" />
import type { SqlValue } from '@offsync/core';
// The WebAssembly file is part of the bundle: Vite copies it and gives its URL. No CDN.
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import {
  deleteFromIndexedDb,
  openSqlJsDriver,
  openSqlJsDriverFromIndexedDb,
  type SqlJsDriver,
  saveToIndexedDb,
} from '../../src/index.js';
import { type EncodedRow, encodeValue, type PhaseResult, SAMPLES } from './samples.js';

const NAME = 'browser-test';

function readRows(driver: SqlJsDriver): EncodedRow[] {
  return driver
    .prepare('SELECT id, v, typeof(v) FROM samples ORDER BY id')
    .all()
    .map(([id, value, sqlType]) => ({
      id: id as string,
      value: encodeValue(value as SqlValue),
      sqlType: sqlType as string,
    }));
}

function show(phase: string, result: PhaseResult): PhaseResult {
  const status = document.querySelector('#status')!;
  status.textContent = `${phase}: ${result.rows.length} rows read back`;
  const table = document.querySelector('#rows')!;
  table.replaceChildren(
    ...result.rows.map((row) => {
      const tr = document.createElement('tr');
      const text = row.value.text ?? 'NULL';
      for (const cell of [row.id, row.sqlType, text.length > 60 ? `${text.slice(0, 60)}…` : text]) {
        const td = document.createElement('td');
        td.textContent = cell;
        tr.append(td);
      }
      return tr;
    }),
  );
  return result;
}

async function writePhase(): Promise<PhaseResult> {
  await deleteFromIndexedDb(NAME);
  const driver = await openSqlJsDriver({ wasmUrl });
  try {
    driver.exec('CREATE TABLE samples(id TEXT PRIMARY KEY, v)');
    const insert = driver.prepare('INSERT INTO samples(id, v) VALUES (?, ?)');
    for (const { id, value } of SAMPLES) insert.run([id, value]);
    const count = driver.prepare('SELECT count(*) FROM samples');
    const rows = readRows(driver);
    const exportedBytes = driver.export().length;
    await saveToIndexedDb(driver, NAME);
    const countAfterExport = String(count.all()[0]![0]);
    return show('written', { rows, countAfterExport, exportedBytes });
  } finally {
    driver.close();
  }
}

async function readPhase(): Promise<PhaseResult> {
  const driver = await openSqlJsDriverFromIndexedDb(NAME, { wasmUrl, mustExist: true });
  try {
    return show('reopened from IndexedDB', { rows: readRows(driver) });
  } finally {
    driver.close();
  }
}

window.offsyncBrowserTest = { writePhase, readPhase };
document.querySelector('#status')!.textContent = 'ready';
