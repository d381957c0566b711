// The JSON the admin API (`/v1/admin`, src/server/admin-api.ts) answers with, as the dashboard
// reads it. Fields the server leaves undefined are absent from the JSON, hence the optionals.

/** One database in `GET /databases`. */
export interface DatabaseSummary {
  readonly name: string;
  readonly sizeBytes: number;
  readonly syncedTables: number;
  readonly tables: number;
  readonly devices: number;
  readonly connectedDevices: number;
  readonly version: number;
}

/** A column as `PRAGMA table_info` declares it. */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
  readonly defaultValue: string | null;
  /** Position in the primary key (1-based), 0 when not part of it. */
  readonly primaryKey: number;
}

/** An option of `PUT /databases/:db/tables/:table/sync` that waives one schema check. */
export type SyncWaiver = 'allowIntegerPrimaryKey' | 'allowForeignKeys';

/** One table in `GET /databases/:db/tables`. */
export interface TableStatus {
  readonly name: string;
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly string[];
  readonly synced: boolean;
  readonly fingerprint?: string;
  /** Why sync cannot be switched on (the same check as `enableSync`). */
  readonly problem?: string;
  /** The `SchemaError` code of `problem` (`integer-primary-key`, `foreign-key`, ...). */
  readonly problemCode?: string;
  /** Not synced: the options that let sync be switched on, when only checks they waive refuse. */
  readonly waivers?: readonly SyncWaiver[];
  /** Synced: the checks it was switched on without. */
  readonly options?: { readonly [waiver in SyncWaiver]: boolean };
  /** Rows in the server's copy of the table. */
  readonly rows?: number;
}

/** One device in `GET /databases/:db/devices`. */
export interface DeviceInfo {
  readonly site: string;
  readonly user: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly lastSync?: number;
  readonly acked: number;
  readonly pending: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** Pushed rows the server did not keep (refused, or superseded by a later life). */
  readonly refusals: number;
  readonly connected: boolean;
  /** When an admin revoked the device (its hellos are refused since). */
  readonly revokedAt?: number;
}

/** Traffic of one minute. */
export interface MetricPoint {
  readonly minute: number;
  readonly bytesUp: number;
  readonly bytesDown: number;
  readonly changesMerged: number;
  readonly rowsRefused: number;
}

/** `GET /databases/:db/metrics`. */
export interface Metrics {
  readonly totals: {
    readonly bytesUp: number;
    readonly bytesDown: number;
    readonly changesMerged: number;
    readonly rowsRefused: number;
  };
  readonly series: readonly MetricPoint[];
}

/** The row-level security operations, in the order the dashboard lists them. */
export const OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;

/** A row-level security operation. */
export type Operation = (typeof OPERATIONS)[number];

/** `GET /databases/:db/policies`: an SQL expression per table and operation. */
export type PolicySet = {
  readonly [table: string]: { readonly [operation in Operation]?: string };
};

/** One entry of `GET /databases/:db/refusals`, newest first. */
export interface RefusalInfo {
  readonly at: number;
  readonly user: string | null;
  readonly site: string | null;
  readonly table: string | null;
  /** `row`, `schema-mismatch`, `not-enabled`, or the code of a refused request. */
  readonly kind: string;
  readonly reason: string;
}

/** `DELETE /databases/:db/devices/:site`. */
export interface DeviceRevoked {
  readonly revoked: string;
  readonly closedSessions: number;
}
