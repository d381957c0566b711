import type { WriteRefusal } from '@offsync/core';
import type { SyncSource } from './sources.js';

/** How many refusals a log keeps (the newest). */
export const REFUSAL_LOG_SIZE = 100;

/**
 * The refusals a sync client reported, newest first, as a `useSyncExternalStore` store. A client
 * tells each refusal once, as an event; the log turns the events into state a component can read
 * at any time. It listens to the client while it has listeners (an {@link OffsyncProvider} with a
 * client is one for as long as it is mounted).
 *
 * @example
 * ```ts
 * const log = refusalLog(client);
 * const stop = log.subscribe(() => console.log(log.getSnapshot()[0]?.reason));
 * ```
 */
export class RefusalLog {
  readonly #client: SyncSource;
  readonly #listeners = new Set<() => void>();
  #entries: readonly WriteRefusal[] = [];
  #stop: (() => void) | undefined;

  constructor(client: SyncSource) {
    this.#client = client;
  }

  /** The refusals, newest first: the same array until one arrives or the log is cleared. */
  readonly getSnapshot = (): readonly WriteRefusal[] => this.#entries;

  /** Adds a listener; the first one starts listening to the client. Returns its removal. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    this.#stop ??= this.#client.onRefusal((refusal) => {
      this.#entries = [refusal, ...this.#entries].slice(0, REFUSAL_LOG_SIZE);
      this.#notify();
    });
    return () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return;
      this.#stop?.();
      this.#stop = undefined;
    };
  };

  /** Forgets every refusal (for a "dismiss all" button). */
  clear(): void {
    if (this.#entries.length === 0) return;
    this.#entries = [];
    this.#notify();
  }

  #notify(): void {
    for (const notify of this.#listeners) notify();
  }
}

const logs = new WeakMap<SyncSource, RefusalLog>();

/**
 * The one {@link RefusalLog} of `client`, created on first use, so every component and the
 * provider share it.
 *
 * @example
 * ```ts
 * refusalLog(client).clear();
 * ```
 */
export function refusalLog(client: SyncSource): RefusalLog {
  let log = logs.get(client);
  if (log === undefined) {
    log = new RefusalLog(client);
    logs.set(client, log);
  }
  return log;
}
