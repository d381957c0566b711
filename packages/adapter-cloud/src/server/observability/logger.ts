import { randomUUID } from 'node:crypto';
import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * The log levels, quietest last. `silent` logs nothing.
 *
 * @example
 * ```ts
 * LOG_LEVELS.includes('debug'); // true
 * ```
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * A log level.
 *
 * @example
 * ```ts
 * const level: LogLevel = 'warn';
 * ```
 */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The level a server logs at unless `server.json` (`log.level`) or `--log-level` says otherwise:
 * one line per request and session is `info`, so a server in a test suite stays readable.
 *
 * @example
 * ```ts
 * createServerLogger({ level: DEFAULT_LOG_LEVEL });
 * ```
 */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/**
 * Whether `value` names a log level.
 *
 * @example
 * ```ts
 * isLogLevel('debug'); // true
 * isLogLevel('loud'); // false
 * ```
 */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Options of {@link createServerLogger}.
 *
 * @example
 * ```ts
 * const options: ServerLoggerOptions = { level: 'warn', write: (line) => lines.push(line) };
 * ```
 */
export interface ServerLoggerOptions {
  /** The lowest level written (default {@link DEFAULT_LOG_LEVEL}). */
  readonly level?: LogLevel;
  /**
   * Receives each JSON line (without its newline). Default: stdout. Tests pass a function that
   * keeps the lines, or drops them.
   */
  readonly write?: (line: string) => void;
}

// Fields that may hold a credential wherever they sit (one level deep: pino's wildcard form).
const REDACTED_PATHS = [
  'authorization',
  'token',
  'key',
  'apiKey',
  'secret',
  'password',
  'cookie',
  '*.authorization',
  '*.token',
  '*.key',
  '*.apiKey',
  '*.secret',
  '*.password',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

// Credentials can also reach a line inside free text (an error message quoting a header): a JWT,
// a bearer credential, an OffSync API key. Redacting by field name alone would miss those.
const SECRET_TEXT = /eyJ[\w-]*\.[\w-]*\.[\w-]*|Bearer\s+\S+|osk_[a-z]+_[\w-]+/gi;

/**
 * Replaces every credential-shaped run of `text` (JWTs, `Bearer …`, OffSync API keys) with
 * `[redacted]`.
 *
 * @example
 * ```ts
 * scrubSecrets('Authorization: Bearer abc.def'); // 'Authorization: [redacted]'
 * ```
 */
export function scrubSecrets(text: string): string {
  return text.replace(SECRET_TEXT, '[redacted]');
}

/**
 * The server's structured logger: pino, one JSON line per event, credentials redacted both by
 * field name and by shape. Children carry a `reqId` (see {@link requestId}) so every line of one
 * HTTP request or WebSocket session can be found together.
 *
 * @example
 * ```ts
 * const logger = createServerLogger({ level: 'debug' });
 * logger.child({ reqId: requestId() }).info({ route: 'sync' }, 'request');
 * ```
 */
export function createServerLogger(options: ServerLoggerOptions = {}): Logger {
  const write = options.write;
  const destination: DestinationStream = write
    ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level ?? DEFAULT_LOG_LEVEL,
      base: { name: 'offsync' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      hooks: {
        // The message text of every line passes the shape check (fields are covered by redact).
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (error: unknown) => {
          const serialized = pino.stdSerializers.err(error as Error);
          return {
            ...serialized,
            message: scrubSecrets(serialized.message),
            ...(serialized.stack ? { stack: scrubSecrets(serialized.stack) } : {}),
          };
        },
      },
    },
    destination,
  );
}

// Accepted from a proxy's `x-request-id` so lines can be joined with its logs; anything else (too
// long, or carrying newlines or quotes meant to forge log lines) gets a fresh id instead.
const CALLER_ID = /^[\w.:-]{1,64}$/;

/**
 * The id of one HTTP request or WebSocket session: the caller's `x-request-id` when it is a
 * plain token of at most 64 characters, else a fresh UUID.
 *
 * @example
 * ```ts
 * const reqId = requestId(request.headers['x-request-id']);
 * response.setHeader('x-request-id', reqId);
 * ```
 */
export function requestId(fromCaller?: string | readonly string[]): string {
  return typeof fromCaller === 'string' && CALLER_ID.test(fromCaller) ? fromCaller : randomUUID();
}
