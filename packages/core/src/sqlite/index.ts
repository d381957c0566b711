export type { ApplyGuard, PlannedRow } from './apply.js';
export type { ChangePage, ChangesSinceOptions } from './changes-since.js';
export * from './driver.js';
export * from './errors.js';
export * from './replica.js';
export * from './schema.js';
export { WRITE_TIME_SQL } from './shadow-tables.js';
export { inSavepoint, MAX_PARAMETERS, quoteIdentifier } from './sql.js';
