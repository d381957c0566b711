// The admin key lives in sessionStorage: it survives reloads and hash navigation in this tab,
// and is gone when the tab closes. Never localStorage: an admin key outliving the session would
// sit on disk for any later user of the browser profile.

const KEY = 'offsync.adminKey';

/**
 * The signed-in admin key, if any.
 *
 * @example
 * ```ts
 * const key = loadKey(sessionStorage);
 * ```
 */
export function loadKey(storage: Storage): string | undefined {
  return storage.getItem(KEY) ?? undefined;
}

/**
 * Remembers the admin key for this tab.
 *
 * @example
 * ```ts
 * saveKey(sessionStorage, key);
 * ```
 */
export function saveKey(storage: Storage, key: string): void {
  storage.setItem(KEY, key);
}

/**
 * Forgets the admin key (sign out, or the server refused it).
 *
 * @example
 * ```ts
 * clearKey(sessionStorage);
 * ```
 */
export function clearKey(storage: Storage): void {
  storage.removeItem(KEY);
}
