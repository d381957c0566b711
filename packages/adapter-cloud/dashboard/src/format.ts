/**
 * Bytes for people: `512 B`, `1.5 kB`, `12 MB` (powers of 1,000, like file managers).
 *
 * @example
 * ```ts
 * formatBytes(1536); // '1.5 kB'
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/**
 * A count with thousands separators.
 *
 * @example
 * ```ts
 * formatCount(12345); // '12,345'
 * ```
 */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/**
 * How long ago `ms` was, relative to `now`: `just now`, `42 s ago`, `5 min ago`, `3 h ago`,
 * `2 d ago`.
 *
 * @example
 * ```ts
 * formatAgo(now - 90_000, now); // '1 min ago'
 * ```
 */
export function formatAgo(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/**
 * A local date and time, to the second (for tooltips next to {@link formatAgo}).
 *
 * @example
 * ```ts
 * formatTime(Date.UTC(2025, 0, 2, 3, 4, 5)); // '2025-01-02 03:04:05' in UTC
 * ```
 */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/**
 * A clock time, `HH:MM`.
 *
 * @example
 * ```ts
 * formatClock(Date.now()); // '14:05'
 * ```
 */
export function formatClock(ms: number): string {
  const date = new Date(ms);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}
