/**
 * A seeded xorshift32 generator of numbers in [0, 1): a property's shuffles are reproducible from
 * its seed.
 *
 * @example
 * ```ts
 * const random = prng(42);
 * random(); // always the same first number for seed 42
 * ```
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/**
 * The items in random order, some of them twice (each with probability `duplicates`): a
 * delivery that reorders and duplicates messages.
 *
 * @example
 * ```ts
 * scramble(['a', 'b', 'c'], prng(1)); // e.g. ['c', 'a', 'c', 'b']
 * ```
 */
export function scramble<T>(items: readonly T[], random: () => number, duplicates = 0.15): T[] {
  const pool = [...items];
  for (let i = 0; i < items.length; i++) if (random() < duplicates) pool.push(items[i]!);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool;
}

/**
 * Cuts a list into consecutive random slices (possibly through the middle of a row's changes): a
 * batch split into smaller batches.
 *
 * @example
 * ```ts
 * split([1, 2, 3, 4, 5], prng(3)); // e.g. [[1, 2], [3], [4, 5]]
 * ```
 */
export function split<T>(items: readonly T[], random: () => number): T[][] {
  const slices: T[][] = [];
  let start = 0;
  while (start < items.length) {
    const size = 1 + Math.floor(random() * Math.max(1, items.length / 2));
    slices.push(items.slice(start, start + size));
    start += size;
  }
  return slices;
}
