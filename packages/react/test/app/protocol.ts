// Shared by the page (main.tsx, in Chromium) and its test (react-app.test.ts, in Node): what the
// test hands the page, and what the page reports back.

/** Which replica: each has its own panel, sync client and user. */
export type PanelName = 'a' | 'b';

/** The synced table both replicas and the server hold. */
export const TODOS_SQL =
  'CREATE TABLE todos(id TEXT PRIMARY KEY NOT NULL, title TEXT, done INTEGER NOT NULL DEFAULT 0)';

/** What the page needs to reach the server. */
export interface AppConfig {
  readonly serverUrl: string;
  readonly database: string;
  readonly tokens: Readonly<Record<PanelName, string>>;
}

/** A panel's live queries, counted by the replica wrapper the hooks read through. */
export interface WatchCounts {
  /** Live queries started and not stopped. */
  readonly active: number;
  readonly started: number;
  readonly stopped: number;
  /** Callbacks a stopped live query still delivered (must stay 0). */
  readonly afterStop: number;
}

/** One status as a panel rendered it. */
export interface RenderedStatus {
  readonly state: string;
  readonly pending: number;
}

/** The page's test interface, on `window.offsyncReactTest`. */
export interface ReactAppTest {
  /** Opens both replicas, connects them to the server and renders the app. */
  start(config: AppConfig): Promise<void>;
  /** Every row of `todos` as SQLite literals (quote()), in key order: compared by bytes. */
  rows(panel: PanelName): string[][];
  /** Commits per component (`a:list`, `b:item:t1`, …). */
  commits(): Record<string, number>;
  watches(panel: PanelName): WatchCounts;
  /** Every status the panel's status line committed, in order. */
  statusLog(panel: PanelName): RenderedStatus[];
  /** Stops the panel's sync client (its writes queue up locally). */
  disconnect(panel: PanelName): Promise<void>;
  /** Starts it again. */
  reconnect(panel: PanelName): void;
  /** Unmounts both React roots and closes everything. */
  stop(): Promise<void>;
}

declare global {
  interface Window {
    offsyncReactTest?: ReactAppTest;
  }
}
