/// <reference types="vite/client" />

import { connect } from '@offsync/adapter-cloud/client';
import { openReplica, type WasmReplica } from '@offsync/adapter-wasm';
import type { SqlValue, SyncClient } from '@offsync/core';
import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
// The WebAssembly file is part of the bundle: Vite copies it and gives its URL. No CDN.
import wasmUrl from 'sql.js/dist/sql-wasm-browser.wasm?url';
import { OffsyncProvider } from '../../src/index.js';
import { type CountedReplica, countWatches } from './counted-replica.js';
import { commits, Panel, statusLogs } from './panel.js';
import { type AppConfig, type PanelName, TODOS_SQL } from './protocol.js';

interface Side {
  readonly replica: WasmReplica;
  readonly counted: CountedReplica;
  readonly client: SyncClient;
}

const sides = new Map<PanelName, Side>();
let root: Root | undefined;

function side(panel: PanelName): Side {
  const found = sides.get(panel);
  if (!found) throw new Error(`panel ${panel} is not started`);
  return found;
}

async function open(panel: PanelName, config: AppConfig): Promise<Side> {
  const replica = await openReplica({ loadOptions: { wasmUrl } });
  replica.driver.exec(TODOS_SQL);
  replica.enableSync('todos');
  const client = connect(replica, {
    url: config.serverUrl,
    database: config.database,
    token: config.tokens[panel],
  });
  return { replica, counted: countWatches(replica), client };
}

async function start(config: AppConfig): Promise<void> {
  for (const panel of ['a', 'b'] as const) sides.set(panel, await open(panel, config));
  const element = document.getElementById('root')!;
  element.textContent = '';
  root = createRoot(element);
  // StrictMode: the test page is a development build, so React mounts, unmounts and mounts every
  // component once more, the case where a leaked subscription would show.
  root.render(
    <StrictMode>
      {(['a', 'b'] as const).map((panel) => (
        <OffsyncProvider key={panel} replica={side(panel).counted} client={side(panel).client}>
          <Panel
            panel={panel}
            user={panel === 'a' ? 'alice' : 'bob'}
            run={(sql: string, params: readonly SqlValue[]) => {
              const { replica } = side(panel);
              replica.driver.prepare(sql).run(params);
              // Live queries see the write now rather than at the sync loop's next poll.
              replica.notifyChanges();
            }}
          />
        </OffsyncProvider>
      ))}
    </StrictMode>,
  );
}

window.offsyncReactTest = {
  start,
  rows: (panel) =>
    side(panel)
      .replica.driver.prepare('SELECT quote(id), quote(title), quote(done) FROM todos ORDER BY id')
      .all()
      .map((row) => row.map(String)),
  commits: () => ({ ...commits }),
  watches: (panel) => side(panel).counted.counts(),
  statusLog: (panel) => [...statusLogs[panel]],
  disconnect: (panel) => side(panel).client.disconnect(),
  reconnect: (panel) => side(panel).client.start(),
  stop: async () => {
    root?.unmount();
    for (const { client, replica } of sides.values()) {
      await client.disconnect();
      replica.close();
    }
    sides.clear();
  },
};
