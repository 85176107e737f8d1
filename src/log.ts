/**
 * Structured logs (pino, one JSON object a line) that never carry personal data.
 *
 * Log objects are built at the boundary from allow-listed fields, each with the type of value it
 * may hold (a case id, a kebab-case event, a count, a route pattern...). Any other field, and any
 * value of the wrong type, is left out, and its name listed under `redacted`. Guessing which
 * names mean a person (the old deny-list) missed `clientFirstName`, `clientRef` and free text;
 * this way a domain object logged by mistake, whole or spread, writes nothing of itself.
 *
 * Two kinds of free text remain: the message and error messages. Email addresses and phone
 * numbers are masked in both; names cannot be recognised, so callers keep names out of messages
 * (the fields type below gives them nowhere else to put them).
 *
 * A line written while a trace span is active (traces on: src/tracing.ts) carries its trace_id
 * and span_id, so a collector's trace and these lines find each other.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';

/** The fields a log line may carry. Anything else is dropped when the line is written. */
export interface LogFields {
  event?: string;
  component?: string;
  service?: string;
  step?: string;
  channel?: string;
  audience?: string;
  role?: string;
  via?: string;
  team?: string;
  reason?: string;
  auth?: string;
  signal?: string;
  method?: string;
  route?: string;
  caseId?: string;
  cases?: readonly string[];
  messageId?: string;
  /** Who made a machine call: `token:<name>` or `staff:<staff reference>`. */
  caller?: string;
  /** A member of staff's reference (never a client's). */
  staffRef?: string;
  /** Names of environment variables. */
  keys?: readonly string[];
  payloads?: number;
  status?: number;
  url?: string;
  publicBaseUrl?: string;
  bindAddress?: string;
  temporal?: string;
  taskQueue?: string;
  /** Where a message stands at its provider (pending, delivered, failed, unknown). */
  state?: string;
  /** The provider's own word for a message's status (e.g. permanent-failure). */
  providerStatus?: string;
  /** Whether the worker talks to Temporal over TLS, and loaded a prebuilt workflow bundle. */
  tls?: boolean;
  prebuiltBundle?: boolean;
  /** The worker's health port and its Temporal runtime's metrics port. */
  healthPort?: number;
  sdkMetricsPort?: number;
  /** Whether traces are exported (OTEL_EXPORTER_OTLP_ENDPOINT). */
  traces?: boolean;
  /** Delivery reports received, as `caseId/step:status`. */
  reports?: readonly string[];
  /** Counts in a report (received, matched, signalled...). */
  received?: number;
  matched?: number;
  unmatched?: number;
  inconclusive?: number;
  duplicates?: number;
  signalled?: number;
  ignored?: number;
  err?: unknown;
}

export interface Logger {
  level: string;
  fatal(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  debug(fields: LogFields, msg: string): void;
  trace(fields: LogFields, msg: string): void;
  child(bindings: LogFields): Logger;
}

export interface LoggerOptions {
  level?: pino.LevelWithSilent;
  /** Where lines go (stdout by default); tests pass a stream to read them. */
  destination?: DestinationStream;
  /** Bound to every line, e.g. { service: 'web' }. */
  base?: LogFields;
}

const EMAIL = /[^\s@<>()"',;:]+@[^\s@<>()"',;:]+\.[^\s@<>()"',;:]+/g;
/** International (+44 7700 900123) or UK national (07700 900123) numbers, with common separators. */
const PHONE = /(?:\+\d[\d ()-]{8,20}\d|\b0\d[\d ()-]{7,14}\d\b)/g;
const MAX_TEXT = 300;

function digits(s: string): number {
  return s.replace(/\D/g, '').length;
}

/** Masks email addresses and phone numbers in free text. */
export function scrubText(value: string): string {
  return value.replace(EMAIL, '[email]').replace(PHONE, (m) => (digits(m) >= 10 && digits(m) <= 15 ? '[phone]' : m));
}

// ---- value types: each returns the value to write, or undefined to leave the field out --------

type Kind = (value: unknown) => unknown;

const matching =
  (pattern: RegExp): Kind =>
  (v) =>
    typeof v === 'string' && pattern.test(v) ? v : undefined;
/** kebab-case or camelCase starting lower case: events, steps, channels, roles, reasons. */
const word = matching(/^[a-z][A-Za-z0-9-]{0,63}$/);
const caseId = matching(/^c[0-9a-z]{20}$/);
/** Identifiers the code makes (workflow, run, activity, update and message ids): no spaces. */
const id = matching(/^[A-Za-z0-9<][A-Za-z0-9._:@<>/-]{0,199}$/);
const staffRef = matching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/);
const caller = matching(/^(token|staff):[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/);
const method = matching(/^[A-Z]{3,7}$/);
const signal = matching(/^SIG[A-Z0-9]{2,8}$/);
const hostPort = matching(/^[A-Za-z0-9.-]{1,253}:\d{1,5}$/);
const address = matching(/^([0-9a-fA-F.:]{2,45}|all interfaces)$/);
const envName = matching(/^[A-Z][A-Z0-9_]{0,63}$/);
/** W3C trace context ids, lower-case hex: 32 digits a trace, 16 a span. */
const traceId = matching(/^[0-9a-f]{32}$/);
const spanId = matching(/^[0-9a-f]{16}$/);
const count: Kind = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const flag: Kind = (v) => (typeof v === 'boolean' ? v : undefined);
/** A route pattern or path, but never a client's link: its token is a key to their page. */
const route: Kind = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9/:_.-]{0,120}$/.test(v) && !/\/c\/[^:/]/.test(v) ? v : undefined;
/** Only where an address is: path, query and credentials can carry tokens. */
const origin: Kind = (v) => {
  if (typeof v !== 'string') return undefined;
  try {
    return new URL(v).origin;
  } catch {
    return undefined;
  }
};
const listOf =
  (kind: Kind): Kind =>
  (v) =>
    Array.isArray(v) && v.length <= 100 && v.every((x) => kind(x) !== undefined) ? v : undefined;

/** An error as type, code, masked message and stack frames (no message in the frames). */
function error(v: unknown, depth = 0): unknown {
  if (!(v instanceof Error)) return undefined;
  const out: Record<string, unknown> = {
    type: /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(v.name) ? v.name : 'Error',
    message: scrubText(v.message).slice(0, MAX_TEXT),
  };
  const e = v as Error & { code?: unknown; type?: unknown };
  if (word(e.code) !== undefined || envName(e.code) !== undefined) out.code = e.code;
  // ApplicationFailure's type names the failure (ChannelRejected...): an identifier, not text.
  if (typeof e.type === 'string' && /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(e.type)) out.failureType = e.type;
  const frames = (v.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 10);
  if (frames.length > 0) out.stack = scrubText(frames.join('\n'));
  if (depth < 3 && v.cause !== undefined) out.cause = error(v.cause, depth + 1);
  return out;
}

/**
 * Why something was refused, from a closed list: a free `reason` field would soon carry an
 * absence reason ("illness") or a closure reason, both personal.
 */
const REASONS = new Set([
  'origin',
  'role',
  'unauthenticated',
  'malformed',
  'unknown-key',
  'tampered',
  'expired',
  'wrong-purpose',
  'no-role',
  'no-staff-ref',
  'no-id-token',
  'link-limit',
  'case-limit',
]);
const reason: Kind = (v) => (typeof v === 'string' && REASONS.has(v) ? v : undefined);

const FIELDS: Record<string, Kind> = {
  event: word,
  component: word,
  service: word,
  step: word,
  channel: word,
  audience: word,
  role: word,
  via: word,
  team: word,
  reason,
  auth: word,
  signal,
  method,
  route,
  caseId,
  cases: listOf(caseId),
  messageId: id,
  caller,
  staffRef,
  keys: listOf(envName),
  payloads: count,
  status: count,
  url: origin,
  publicBaseUrl: origin,
  bindAddress: address,
  temporal: hostPort,
  taskQueue: id,
  err: error,
  // What Temporal's worker and runtime attach to their own lines.
  error,
  namespace: id,
  workflowId: id,
  runId: id,
  workflowRunId: id,
  workflowType: id,
  activityId: id,
  activityType: id,
  updateId: id,
  updateName: id,
  attempt: count,
  isLocal: flag,
  durationMs: count,
  state: id,
  sdkComponent: word,
  providerStatus: word,
  tls: flag,
  prebuiltBundle: flag,
  healthPort: count,
  sdkMetricsPort: count,
  traces: flag,
  // From the active span (below), and from Temporal's OpenTelemetry interceptors on its own lines.
  trace_id: traceId,
  span_id: spanId,
  trace_flags: matching(/^[0-9a-f]{2}$/),
  reports: listOf(matching(/^c[0-9a-z]{20}\/[A-Za-z0-9_-]{1,80}:(delivered|failed)$/)),
  received: count,
  matched: count,
  unmatched: count,
  inconclusive: count,
  duplicates: count,
  signalled: count,
  ignored: count,
};

/**
 * The log object for `fields`: allow-listed fields whose values have their field's type. The
 * names of what was left out are listed (names only: they come from code, values from people).
 */
export function logObject(fields: unknown): Record<string, unknown> {
  if (fields === null || typeof fields !== 'object') return {};
  const out: Record<string, unknown> = {};
  const redacted: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const kind = Object.prototype.hasOwnProperty.call(FIELDS, k) ? FIELDS[k] : undefined;
    const kept = kind?.(v);
    if (kept !== undefined) out[k] = kept;
    else redacted.push(/^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(k) ? k : '?');
  }
  if (redacted.length > 0) out.redacted = redacted.slice(0, 30);
  return out;
}

/** The active span's ids, for the line being written; nothing when no span is active. */
function traceIds(): Record<string, string> {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      mixin: traceIds,
      base: options.base ? logObject(options.base) : null,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors are already plain objects (see logObject); pino's own serializer would retype them.
      serializers: { err: (v: unknown) => v, error: (v: unknown) => v },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => logObject(bindings),
        log: (object) => logObject(object),
      },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? scrubText(a).slice(0, MAX_TEXT) : a)) as Parameters<
            typeof method
          >;
          method.apply(this, cleaned);
        },
      },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for tests and libraries given no logger. */
export const silentLogger: Logger = pino({ level: 'silent' });

const TEMPORAL_LEVELS: Record<LogLevel, pino.Level> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Temporal's Runtime and worker log through this, so their lines are built like ours. */
export class TemporalPinoLogger implements TemporalLogger {
  constructor(private readonly logger: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    // Temporal's metadata is open-ended; logObject keeps only the fields above.
    this.logger[TEMPORAL_LEVELS[level] ?? 'info']({ ...(meta ?? {}) } as LogFields, message);
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
