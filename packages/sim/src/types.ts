import type { CentralDatabase } from '@offsync/adapter-cloud/server';
import type { SqliteReplica } from '@offsync/core';

/**
 * The deterministic random source of one simulated history. Every choice the simulator makes
 * comes from it, so a seed replays a history exactly.
 *
 * @example
 * ```ts
 * const fault = rng.chance(0.1) ? 'drop' : 'deliver';
 * ```
 */
export interface Rng {
  /** A uniform number in [0, 1). */
  next(): number;
  /** A uniform integer in [0, `maxExclusive`). */
  int(maxExclusive: number): number;
  /** `true` with probability `p`. */
  chance(p: number): boolean;
  /** One of `items`, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** An independent stream derived from this one's seed and `label` (stable across edits elsewhere). */
  fork(label: string): Rng;
}

/** A JSON value, so that every action of a history can be printed and replayed. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [key: string]: Json };

/**
 * One step of a simulated history: what the generator chose, in a form that prints and replays
 * (`npm run sim -- --seed S` regenerates it; a shrunk history is a shorter list of these).
 *
 * @example
 * ```ts
 * const action: SimAction = { kind: 'write.insert', client: 2, args: { table: 'notes' }, advanceMs: 40 };
 * ```
 */
export interface SimAction {
  /** The handler's kind, e.g. `write.update`, `net.partition`, `crash.client`, `adversary.forged-token`. */
  readonly kind: string;
  /** The client it acts on, when it acts on one. */
  readonly client?: number;
  /** The handler's arguments (chosen by its generator). */
  readonly args: { readonly [key: string]: Json };
  /** Virtual milliseconds the world runs after the action before the next one. */
  readonly advanceMs: number;
}

/** How a simulated client stores its replica. */
export type SimClientKind = 'node-file' | 'node-memory' | 'wasm-memory';

/**
 * One simulated device: a real replica and a real `SyncClient` over a simulated transport.
 *
 * @example
 * ```ts
 * const replica = world.clients[0]!.replica();
 * ```
 */
export interface SimClient {
  /** Position in `world.clients`. */
  readonly index: number;
  /** The user the device signs in as (the token's `sub`). */
  readonly user: string;
  /** Storage kind. */
  readonly kind: SimClientKind;
  /** The replica, or `undefined` while the device is crashed. */
  replica(): SqliteReplica | undefined;
  /** Offset of this device's clock from the world's virtual time, in ms (skew, jumps). */
  clockOffsetMs: number;
  /** Whether the device is cut off from the server (both directions). */
  partitioned: boolean;
}

/**
 * A write the app committed on a device, as the simulator recorded it at commit time: what the
 * checkers hold the system to (nothing acknowledged lost, transactions never seen in part,
 * last-writer-wins against the model).
 *
 * @example
 * ```ts
 * world.committed.filter((write) => write.client === 0);
 * ```
 */
export interface CommittedWrite {
  /** The device. */
  readonly client: number;
  /** Commit order over the whole world. */
  readonly order: number;
  /** The device's wall time of the write (virtual time plus its clock offset). */
  readonly writeTime: number;
  /** The SQL statements of the transaction, in order, with their parameters. */
  readonly statements: readonly { readonly sql: string; readonly params: readonly Json[] }[];
}

/**
 * The simulated server: the real `SyncService` over the real embedded store, in this process.
 *
 * @example
 * ```ts
 * const token = world.server.token('u1', { team: 't1' });
 * ```
 */
export interface SimServer {
  /** The name of the simulated database. */
  readonly database: string;
  /** The admin API key (sees and writes everything). */
  readonly adminKey: string;
  /** A valid user token for `user` (claims `sub` plus `claims`), bound to the database. */
  token(
    user: string,
    claims?: { readonly [claim: string]: Json },
    options?: { readonly expiresInMs?: number; readonly audience?: string },
  ): string;
  /** The store's open central database (after a restart, the reopened one). */
  central(): CentralDatabase;
  /** Whether the server is up (a crashed server answers nothing until it restarts). */
  readonly up: boolean;
}

/**
 * Everything a handler or checker of one history can see and drive.
 *
 * @example
 * ```ts
 * await world.advance(100);
 * ```
 */
export interface SimWorld {
  /** The history's seed. */
  readonly seed: number;
  /** The world's random source (handlers fork their own stream from it). */
  readonly rng: Rng;
  /** Virtual time now, in ms since the Unix epoch. */
  now(): number;
  /** Runs every scheduled event up to `now() + ms` (messages, timers, sync loops). */
  advance(ms: number): Promise<void>;
  /** The devices. */
  readonly clients: readonly SimClient[];
  /** The server. */
  readonly server: SimServer;
  /** Writes committed by the app on devices, in commit order. */
  readonly committed: readonly CommittedWrite[];
  /**
   * Runs one application transaction on a device through plain SQL, stamped with the device's
   * wall time, and records it in {@link committed} when it commits (`rollback: true` rolls it
   * back: nothing is recorded). Returns `false` when the device is crashed or SQLite refused a
   * statement (the transaction then rolled back).
   */
  write(
    client: number,
    statements: readonly { readonly sql: string; readonly params: readonly Json[] }[],
    options?: { readonly rollback?: boolean },
  ): boolean;
  /** A line for the failure report's trace (kept only for the run being reported). */
  trace(line: string): void;
}

/**
 * Executes one kind of action.
 *
 * @example
 * ```ts
 * const partition: ActionHandler = { kind: 'net.partition', weight: 1, generate, run };
 * ```
 */
export interface ActionHandler {
  /** The action kind it handles. */
  readonly kind: string;
  /** Relative frequency in generated histories (0: only in replayed or hand-written ones). */
  readonly weight: number;
  /** Chooses an action of this kind for a world of `clients` devices. */
  generate(rng: Rng, clients: number): SimAction;
  /**
   * Performs it. Must tolerate any world state (a crashed device, a missing row, a dropped
   * table): a shrunk history removes the actions before it.
   */
  run(world: SimWorld, action: SimAction): Promise<void>;
}

/**
 * Checks one property after the faults stop and the world is quiet.
 *
 * @example
 * ```ts
 * const failures = await convergence.check(world);
 * ```
 */
export interface Checker {
  /** The property's name, printed with a failure. */
  readonly name: string;
  /** Failure messages; empty when the property holds. */
  check(world: SimWorld): Promise<readonly string[]>;
}
