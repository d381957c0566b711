import type { Env } from '../env.js';
import { OffsyncError } from '../errors.js';

/**
 * A replica's identity: 16 random bytes, written as 32 lowercase hex characters. Lowercase hex
 * sorts exactly like the bytes, so comparing two site ids as strings is the byte order.
 *
 * @example
 * ```ts
 * const site: SiteId = '00112233445566778899aabbccddeeff';
 * ```
 */
export type SiteId = string;

/** Number of bytes in a site id. */
export const SITE_ID_BYTES = 16;

const SITE_ID_PATTERN = /^[0-9a-f]{32}$/;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * A site id that is not 16 bytes / 32 lowercase hex characters.
 *
 * @example
 * ```ts
 * parseSiteId('xyz'); // throws InvalidSiteIdError
 * ```
 */
export class InvalidSiteIdError extends OffsyncError {
  readonly type = 'InvalidSiteIdError';
  /** The refused input, as received. */
  readonly input: string;

  constructor(input: string) {
    super(`invalid site id ${JSON.stringify(input)}: expected 32 lowercase hex characters`);
    this.input = input;
  }
}

/**
 * Creates a new random site id.
 *
 * @example
 * ```ts
 * const site = newSiteId(defaultEnv); // e.g. '9f2c...'
 * ```
 */
export function newSiteId(env: Pick<Env, 'randomBytes'>): SiteId {
  return siteIdFromBytes(env.randomBytes(new Uint8Array(SITE_ID_BYTES)));
}

/**
 * Checks and returns a site id given as text.
 *
 * @example
 * ```ts
 * const site = parseSiteId(stored);
 * ```
 */
export function parseSiteId(input: string): SiteId {
  if (!SITE_ID_PATTERN.test(input)) throw new InvalidSiteIdError(input);
  return input;
}

/**
 * The site id of 16 bytes.
 *
 * @example
 * ```ts
 * siteIdFromBytes(new Uint8Array(16)); // '000...0'
 * ```
 */
export function siteIdFromBytes(bytes: Uint8Array): SiteId {
  if (bytes.length !== SITE_ID_BYTES) throw new InvalidSiteIdError(`<${bytes.length} bytes>`);
  let hex = '';
  for (let i = 0; i < SITE_ID_BYTES; i++) hex += HEX[bytes[i]!];
  return hex;
}

/**
 * The 16 bytes of a site id.
 *
 * @example
 * ```ts
 * siteIdToBytes(site).length; // 16
 * ```
 */
export function siteIdToBytes(site: SiteId): Uint8Array {
  const bytes = new Uint8Array(SITE_ID_BYTES);
  for (let i = 0; i < SITE_ID_BYTES; i++)
    bytes[i] = Number.parseInt(site.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
