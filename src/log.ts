/**
 * Structured logs (pino, one JSON object a line) that never carry personal data. Three layers,
 * because no single one is enough:
 * - callers log ids, steps and outcomes, never a person's details (the habit);
 * - fields whose names mean personal data or secrets (name, email, phone, note, token...) are
 *   replaced by "[redacted]" at any depth, Error objects included;
 * - email addresses and phone numbers left in any string, the message included, are masked.
 * Names inside free text cannot be recognised, which is why the first layer matters most.
 */
import pino, { type DestinationStream } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: pino.LevelWithSilent;
  /** Where lines go (stdout by default); tests pass a stream to read them. */
  destination?: DestinationStream;
  /** Bound to every line, e.g. { service: 'web' }. */
  base?: Record<string, string>;
}

const CENSOR = '[redacted]';

/** Field names (lower case, without - and _) whose values are personal data or secrets. */
const SENSITIVE_KEYS = new Set([
  'name',
  'firstname',
  'lastname',
  'fullname',
  'clientname',
  'therapistname',
  'email',
  'emailaddress',
  'phone',
  'phonenumber',
  'mobile',
  'note',
  'notes',
  'risknote',
  'address',
  'to',
  'recipient',
  'personalisation',
  'body',
  'text',
  'html',
  'subject',
  'token',
  'password',
  'secret',
  'apikey',
  'cookie',
  'setcookie',
  'authorization',
]);

const EMAIL = /[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+/g;
/** International (+44 7700 900123) or UK national (07700 900123) numbers, with common separators. */
const PHONE = /(?:\+\d[\d ()-]{8,20}\d|\b0\d[\d ()-]{7,14}\d\b)/g;

function digits(s: string): number {
  return s.replace(/\D/g, '').length;
}

/** Masks email addresses and phone numbers in free text. */
export function scrubText(value: string): string {
  return value.replace(EMAIL, '[email]').replace(PHONE, (m) => (digits(m) >= 10 && digits(m) <= 15 ? '[phone]' : m));
}

const isSensitiveKey = (key: string) => SENSITIVE_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));

/** A copy of `value` with sensitive fields censored and free text scrubbed; cycles and depth are bounded. */
export function scrub(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8 || seen.has(value)) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { type: value.name, message: scrubText(value.message) };
    if (value.stack) out.stack = scrubText(value.stack.split('\n').slice(0, 12).join('\n'));
    if (value.cause !== undefined) out.cause = scrub(value.cause, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => scrub(v, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSensitiveKey(k) ? CENSOR : scrub(v, depth + 1, seen);
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors are already plain, scrubbed objects (see scrub); pino's own serializer would retype them.
      serializers: { err: (v: unknown) => v },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      // Belt and braces for the common shapes, in case a formatter is ever bypassed.
      redact: { paths: ['*.email', '*.phone', '*.firstName', '*.note', 'headers.cookie', 'headers.authorization', 'req.headers.cookie', 'req.headers.authorization'], censor: CENSOR },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? scrubText(a) : a)) as Parameters<typeof method>;
          method.apply(this, cleaned);
        },
      },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and libraries given no logger. */
export const silentLogger: Logger = pino({ level: 'silent' });

const TEMPORAL_LEVELS: Record<LogLevel, pino.Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** Temporal's Runtime and worker log through this, so their lines are scrubbed like ours. */
export class TemporalPinoLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.logger[TEMPORAL_LEVELS[level] ?? 'info']({ ...(meta ?? {}) }, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
