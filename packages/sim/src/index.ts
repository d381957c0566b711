/**
 * Deterministic simulation of OffSync (private workspace, issue 10). This first part is the
 * contract the simulator's parts are written against: the world a handler drives, the actions a
 * history is made of, the checkers run after quiescence, and the app schema every history runs.
 */
export * from './schema.js';
export type * from './types.js';
