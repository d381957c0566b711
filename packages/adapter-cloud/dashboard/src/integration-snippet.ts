/**
 * What the Client integration tab's snippet is made of.
 *
 * @example
 * ```ts
 * const input: SnippetInput = { url: 'http://127.0.0.1:8787', database: 'app', tables: ['todos'] };
 * ```
 */
export interface SnippetInput {
  /** The server's base URL (the dashboard's own origin). */
  readonly url: string;
  /** The database. */
  readonly database: string;
  /** The tables synced on the server, switched on in the app too. */
  readonly tables: readonly string[];
}

/**
 * The code an app developer copies to sync a Node app with this database: plain JavaScript that
 * is also valid TypeScript, against the client API as it is (`openReplica`, `enableSync`,
 * `connectNode`, `client.on`). The test runs it as it is shown.
 *
 * @example
 * ```ts
 * integrationSnippet({ url: location.origin, database: 'app', tables: ['todos'] });
 * ```
 */
export function integrationSnippet(input: SnippetInput): string {
  const enable =
    input.tables.length === 0
      ? [
          "// Switch a table's sync on in the Tables tab, then enable it here:",
          "// replica.enableSync('todos');",
        ]
      : input.tables.map((table) => `replica.enableSync(${literal(table)});`);
  return [
    "import { openReplica } from '@offsync/adapter-node';",
    "import { connectNode } from '@offsync/adapter-cloud';",
    '',
    "// The app's own SQLite file, holding the same tables (same schema) as the server.",
    "const replica = openReplica('app.db');",
    ...enable,
    '',
    'const client = connectNode(replica, {',
    `  url: ${literal(input.url)},`,
    `  database: ${literal(input.database)},`,
    "  token: process.env.OFFSYNC_TOKEN ?? '',",
    '});',
    'client.on((status) => console.log(status.state, status.pending));',
    '',
  ].join('\n');
}

/**
 * The command that issues a development token for `user` on `database` (signed with the
 * server's HS256 secret: run it where the server's data folder is).
 *
 * @example
 * ```ts
 * tokenCommand('app', 'alice'); // "offsync token issue --sub alice --db app"
 * ```
 */
export function tokenCommand(database: string, user: string): string {
  return `offsync token issue --sub ${shellWord(user)} --db ${shellWord(database)}`;
}

/** A JavaScript string literal (single quotes, as the project's code style writes them). */
function literal(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;
}

/** A word the shell reads back as `text`: quoted unless it is plainly safe. */
function shellWord(text: string): string {
  return /^[\w.@:/-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
