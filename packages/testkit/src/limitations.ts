/**
 * The known limitations a binding may declare to the kit. Each names the checks it skips:
 *
 * - `'text-nul'`: TEXT is cut at the first NUL (`'a\0b'` reads back as `'a'`). The checks of
 *   embedded NULs skip, and random values carry no NUL.
 * - `'real-to-text-digits'`: SQLite converts a REAL written into a TEXT column with 15 significant
 *   digits (SQLite 3.45 and older, measured on 3.45.1), not the shortest text that reads back as
 *   the same double. The check of the 17-digit conversion skips; sync is unaffected either way.
 * - `'invalid-text-read'`: reading TEXT that is not valid UTF-8 (`CAST(x'ff' AS TEXT)`, a lone
 *   surrogate) fails inside the binding in a way no driver can catch (libsql aborts the process).
 *   The check that stores such TEXT and expects `InvalidTextError` skips; the app must never
 *   write invalid TEXT on such a binding.
 *
 * @example
 * ```ts
 * const id: LimitationId = 'text-nul';
 * ```
 */
export type LimitationId = 'text-nul' | 'real-to-text-digits' | 'invalid-text-read';

/** Every {@link LimitationId}, to validate what a caller declares. */
const LIMITATION_IDS: readonly LimitationId[] = [
  'text-nul',
  'real-to-text-digits',
  'invalid-text-read',
];

/**
 * A limitation of a binding, declared so that the rest of the kit still certifies it.
 *
 * @example
 * ```ts
 * runDriverConformance(setup, 'libsql', {
 *   limitations: [{ id: 'real-to-text-digits', reason: 'SQLite 3.45.1 prints 15 digits' }],
 * });
 * ```
 */
export interface KnownLimitation {
  /** Which limitation. */
  readonly id: LimitationId;
  /** Why the binding has it, printed beside each skipped check and in the summary. */
  readonly reason: string;
}

/**
 * The declared limitations, checked: an unknown id or an empty reason throws a `TypeError` at
 * registration, so a typo never silently certifies a binding.
 *
 * @example
 * ```ts
 * checkLimitations([{ id: 'text-nul', reason: 'the C API binds char*' }]);
 * ```
 */
export function checkLimitations(
  limitations: readonly KnownLimitation[],
): readonly KnownLimitation[] {
  const seen = new Set<LimitationId>();
  for (const limitation of limitations) {
    if (!LIMITATION_IDS.includes(limitation.id)) {
      throw new TypeError(
        `unknown limitation ${JSON.stringify(limitation.id)}; known: ${LIMITATION_IDS.join(', ')}`,
      );
    }
    if (typeof limitation.reason !== 'string' || limitation.reason.trim() === '') {
      throw new TypeError(`limitation ${limitation.id} needs a reason`);
    }
    if (seen.has(limitation.id)) throw new TypeError(`limitation ${limitation.id} declared twice`);
    seen.add(limitation.id);
  }
  return limitations;
}

/**
 * The skip note of a check that limitation `id` names, or `undefined` when it is not declared.
 *
 * @example
 * ```ts
 * const note = limitationNote(options.limitations, 'text-nul');
 * if (note) context.skip(note);
 * ```
 */
export function limitationNote(
  limitations: readonly KnownLimitation[],
  id: LimitationId,
): string | undefined {
  const found = limitations.find((limitation) => limitation.id === id);
  return found ? `known limitation ${id}: ${found.reason}` : undefined;
}

/**
 * The one-line summary the kit prints after a run.
 *
 * @example
 * ```ts
 * limitationSummary('libsql', []); // 'offsync testkit, libsql: no declared limitations'
 * ```
 */
export function limitationSummary(title: string, limitations: readonly KnownLimitation[]): string {
  if (limitations.length === 0) return `offsync testkit, ${title}: no declared limitations`;
  const listed = limitations.map(({ id, reason }) => `${id} (${reason})`).join('; ');
  return `offsync testkit, ${title}: declared limitations: ${listed}`;
}
