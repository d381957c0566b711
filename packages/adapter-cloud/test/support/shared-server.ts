import type { SqliteReplica } from '@offsync/core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { TestClient } from './sync-clients.js';
import { TestServer } from './test-server.js';

/** One server shared by a test file's tests, and the clients its tests opened. */
export interface SharedServer {
  /** The running test server (throws before `beforeAll` has started it). */
  readonly server: TestServer;
  /** Keeps `client` for the after-each clean-up: its loop is disconnected, its replica closed. */
  track<T extends TestClient>(client: T): T;
  /** A new database from the file's schema, with sync on for its tables. */
  freshDatabase(): Promise<{ name: string; central: () => SqliteReplica }>;
}

/**
 * Registers the hooks of a test file whose tests share one server: started before all, every
 * tracked client closed after each test (so a failing test leaves no loop running into the
 * next), the server and its folder disposed after all. Databases are named `prefix-1`, `-2`, ...
 */
export function useSharedServer(
  prefix: string,
  schemaSql: string,
  tables: readonly string[],
  options: { readonly openToUsers?: boolean } = {},
): SharedServer {
  let server: TestServer | undefined;
  let databases = 0;
  const opened: TestClient[] = [];

  beforeAll(async () => {
    server = await TestServer.start();
  });
  afterEach(async () => {
    for (const { client, replica } of opened.splice(0)) {
      await client.disconnect();
      replica.close();
    }
  });
  afterAll(async () => {
    await server?.dispose();
  });

  const shared: SharedServer = {
    get server(): TestServer {
      if (!server) throw new Error('the shared test server is not started yet');
      return server;
    },
    track(client) {
      opened.push(client);
      return client;
    },
    async freshDatabase() {
      const name = `${prefix}-${++databases}`;
      await shared.server.createDatabase(name, schemaSql, tables, options);
      return { name, central: () => shared.server.server.store.open(name).replica };
    },
  };
  return shared;
}
