export {
  AFFINITY_CASES,
  type AffinityCase,
  type AffinityColumn,
  detectRealToText,
  expectedStored,
  type RealToText,
  storedWithoutAffinity,
} from './affinity.js';
export {
  type ConformanceOptions,
  defaultRuns,
  defaultSeed,
  type ResolvedOptions,
  resolveOptions,
} from './conformance-options.js';
export { runCrossDriverConformance } from './cross-driver-conformance.js';
export { type DatabaseImage, databaseImage } from './database-image.js';
export { runDriverConformance } from './driver-conformance.js';
export { exactRows } from './exact-rows.js';
export { thrownBy } from './expect-error.js';
export { type DriverFixture, type DriverSetup, sharedFileFixture } from './fixture.js';
export { Harness, type PeerOptions } from './harness.js';
export {
  type HistoryOptions,
  type HistoryOutcome,
  mirrorRows,
  runHistory,
  tableRows,
} from './history-runner.js';
export {
  DEFAULT_HISTORY_SHAPE,
  type HistoryShape,
  type HistoryStep,
  historySteps,
} from './history-steps.js';
export { HISTORY_SQL, HISTORY_TABLES, type HistoryTable } from './history-tables.js';
export {
  checkLimitations,
  type KnownLimitation,
  type LimitationId,
  limitationNote,
  limitationSummary,
} from './limitations.js';
export { MANUAL_START_MS, type ManualEnv, manualEnv } from './manual-env.js';
export { makePeer, type Peer } from './peer.js';
export { replayCommand } from './replay.js';
export { prng, scramble, split } from './scramble.js';
export { showRows, showSqlValue, toHex } from './show-value.js';
export { MINIMUM_SQLITE } from './suites/driver-contract.js';
export { asyncDriverProblem } from './sync-probe.js';
export {
  runTransportConformance,
  type TransportClient,
  type TransportConformanceOptions,
  type TransportFixture,
  type TransportSetup,
} from './transport-conformance.js';
export {
  EDGE_BLOBS,
  EDGE_INTEGERS,
  EDGE_REALS,
  EDGE_TEXTS,
  hasNul,
  historyValueArbitrary,
  LARGE_BLOB,
  LARGE_TEXT,
  sqlValueArbitrary,
} from './value-arbitraries.js';
