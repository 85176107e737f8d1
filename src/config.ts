/**
 * Configuration from environment variables, parsed once at start-up. A bad or missing value
 * stops the process with a message that names the variable; secrets are never printed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseKeyList, type NamedKey } from './keys';
import type { Logger } from './log';
import type { LinkKey } from './links';
import type { StaffRole, StaffTeam } from './shared/case';
import type { Policy } from './shared/policy';
import { resolvePolicy } from './shared/policy-schema';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(url(protocols).optional())
    .optional();

const email = z.string().trim().pipe(z.email({ message: 'must be an email address' }));

const port = z.coerce.number({ message: 'must be a port number' }).int().min(0).max(65535);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  BIND_ADDRESS: optionalString.pipe(
    z.union([z.ipv4(), z.ipv6()], { message: 'must be an IP address, like 127.0.0.1, 0.0.0.0 or ::' }).optional(),
  ),
  PUBLIC_BASE_URL: url(['http:', 'https:']).default('http://localhost:3000'),
  WORKER_HEALTH_PORT: port.default(9464),
  WORKER_SDK_METRICS_PORT: port.default(9465),
  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, like localhost:7233')
    .default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('shortnotice'),
  TEMPORAL_UI_URL: url(['http:', 'https:']).default('http://localhost:8233'),
  TEMPORAL_TLS_CA: optionalString,
  TEMPORAL_TLS_CERT: optionalString,
  TEMPORAL_TLS_KEY: optionalString,
  TEMPORAL_TLS_SERVER_NAME: z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a host name, like temporal.internal').optional())
    .optional(),
  TEMPORAL_API_KEY: optionalString,
  SMTP_URL: optionalUrl(['smtp:', 'smtps:']),
  // Connections kept open to the relay: nodemailer's 5 unless the relay allows more (docs/performance.md).
  SMTP_MAX_CONNECTIONS: z.coerce.number({ message: 'must be a whole number of connections' }).int().min(1).max(100).default(5),
  // Unset: the service's name before the address, so clients see who writes (issue 15).
  MAIL_FROM: optionalString.pipe(
    z.string().min(3, 'must be an address like "Service <no-reply@example.org>"').optional(),
  ),
  MAILBOX_DIR: z.string().trim().min(1).default('var/mailbox'),
  SERVICE_NAME: z.string().trim().min(1).max(80).default('VHG talking therapies'),
  NETWORK_CLINICAL_EMAIL: email.default('network.clinical@vhg.co.uk'),
  RISK_DUTY_EMAIL: email.default('ptsriskduty@vhg.co.uk'),
  SUPPORT_EMAIL: email.default('vita.support@vhg.co.uk'),
  SUPPORT_PHONE: z.string().trim().min(3).default('0333 222 0710'),
  APPOINTMENTS_PHONE: optionalString.pipe(z.string().min(3, 'must be a phone number').optional()),
  PROVIDER_EMAIL: email.default('network.clinical@vhg.co.uk'),
  CLINICAL_LEAD_EMAIL: optionalString.pipe(email.optional()),
  NOTIFY_API_KEY: optionalString,
  NOTIFY_SMS_TEMPLATE_ID: optionalString,
  NOTIFY_BASE_URL: url(['http:', 'https:']).default('https://api.notifications.service.gov.uk'),
  MPB_MODE: z.enum(['attestation', 'mpb'], { message: "must be 'attestation' or 'mpb'" }).default('attestation'),
  MPB_BASE_URL: optionalUrl(['http:', 'https:']),
  MPB_API_TOKEN: optionalString,
  MPB_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  LINK_KEYS: optionalString,
  CASE_ID_KEY: optionalString,
  AUTH_MODE: optionalString.pipe(z.enum(['oidc', 'dev'], { message: "must be 'oidc' or 'dev'" }).optional()),
  OIDC_ISSUER_URL: optionalUrl(['http:', 'https:']),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_SCOPES: z.string().trim().min(1).default('openid profile email'),
  OIDC_ROLE_CLAIM: z.string().trim().min(1).default('roles'),
  OIDC_THERAPIST_ROLE: z.string().trim().min(1).default('therapist'),
  OIDC_CLINICAL_LEAD_ROLE: z.string().trim().min(1).default('clinical-lead'),
  OIDC_ESCALATION_TEAM_ROLE: z.string().trim().min(1).default('escalation-team'),
  OIDC_STAFF_REF_CLAIM: z.string().trim().min(1).default('staff_ref'),
  OIDC_TEAM_CLAIM: z.string().trim().min(1).default('team'),
  OIDC_RISK_TEAM: z.string().trim().min(1).default('risk'),
  OIDC_NETWORK_TEAM: z.string().trim().min(1).default('network'),
  OIDC_SUPPORT_TEAM: z.string().trim().min(1).default('support'),
  SESSION_KEYS: optionalString,
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(24 * 7).default(12),
  API_TOKENS: optionalString,
  STAFF_EMAIL_DOMAINS: optionalString.pipe(
    z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((d) => d.trim().toLowerCase())
          .filter(Boolean),
      )
      .refine(
        (ds) => ds.length > 0 && ds.every((d) => /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d)),
        'must be email domains, comma-separated, like vhg.co.uk,nhs.net',
      )
      .optional(),
  ),
  CODEC_TOKENS: optionalString,
  CODEC_OPEN_TO_LOCAL_UI: z.enum(['true', 'false'], { message: "must be 'true' or 'false'" }).default('false'),
  BOUNCE_TOKENS: optionalString,
  PAYLOAD_KEYS: optionalString,
  TRUST_PROXY_HOPS: z.coerce.number({ message: 'must be a whole number of proxies' }).int().min(0).max(10).default(0),
  AUDIT_LOG_FILE: z.string().trim().min(1).default('var/audit/reads.jsonl'),
  // Traces by OTLP over HTTP, off when unset (the OpenTelemetry name, so collectors' docs apply).
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl(['http:', 'https:']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'must be fatal, error, warn, info, debug, trace or silent' }).default('info'),
  POLICY_JSON: z
    .string()
    .trim()
    .default('{}')
    .transform((v, ctx) => {
      try {
        return resolvePolicy(JSON.parse(v));
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: `must be JSON of policy overrides (${e instanceof Error ? e.message.split('\n')[0] : 'invalid'})` });
        return z.NEVER;
      }
    }),
});

export type Env = z.infer<typeof envSchema>;

/** Every variable the app reads, for docs and the compose-file check. */
export const ENV_VARIABLES = Object.keys(envSchema.shape) as (keyof Env)[];

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  /**
   * The worker's own HTTP port (/healthz, /readyz, /metrics) and the port its Temporal runtime
   * serves the SDK's Prometheus metrics on; bound like the web app (bindAddress). 0 turns either off.
   */
  worker: { healthPort: number; sdkMetricsPort: number };
  /**
   * The interface the web app listens on: loopback outside production unless BIND_ADDRESS says
   * otherwise; every interface in production (a container or a host behind a proxy).
   */
  bindAddress?: string;
  publicBaseUrl: string;
  temporal: TemporalConfig;
  mail: { smtpUrl?: string; smtpMaxConnections: number; from: string; mailboxDir: string };
  serviceName: string;
  /** Where each team's alerts go; `lead` (the clinical lead, top of every ladder) defaults to the network team. */
  teams: { network: string; risk: string; support: string; lead: string; provider: string; supportPhone: string };
  /** The number clients ring about their appointments (APPOINTMENTS_PHONE; SUPPORT_PHONE by default). */
  appointmentsPhone: string;
  sms: { notify?: { apiKey: string; templateId: string; baseUrl: string } };
  records: { mode: 'attestation' | 'mpb'; baseUrl?: string; token?: string; timeoutMs: number };
  policy: Policy;
  /** Keys sealing client links; the first seals. A fixed, public key outside production. */
  linkKeys: LinkKey[];
  /** Keys encrypting workflow payloads (client and worker); the first encrypts, all decrypt. */
  payloadKeys: NamedKey[];
  /**
   * Derives case ids and submission digests (CASE_ID_KEY). Never rotated: a new key would give a
   * resubmitted session a new case, and its client would be contacted twice.
   */
  caseIdKey: Buffer;
  /** Variables using a published development key (development on loopback only): logged as a warning. */
  developmentKeys: KeyVariable[];
  auth: AuthConfig;
  /** How many reverse proxies sit in front of the web app (Express `trust proxy`). */
  trustProxyHops: number;
  logLevel: Env['LOG_LEVEL'];
  /** The audit stream of reads (src/audit.ts): a JSON-lines file of its own. */
  audit: { file: string };
  /** Traces (src/tracing.ts): on only when a collector is configured. */
  tracing?: { endpoint: string };
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  uiUrl: string;
  /** TLS to the frontend, with a client certificate for mutual TLS; absent: plaintext. */
  tls?: TemporalTls;
  /** Bearer API key (Temporal Cloud or an authorizing proxy); implies TLS. */
  apiKey?: string;
}

export interface TemporalTls {
  /** PEM of the CA that issued the server's certificate; absent: the system's trusted CAs. */
  ca?: Buffer;
  /** Client certificate and key (PEM) for mutual TLS. */
  clientCert?: { cert: Buffer; key: Buffer };
  /** The name the server's certificate must carry, when it differs from the address's host. */
  serverName?: string;
}

/**
 * therapist: their own cases only. clinical-lead: every case; the only role that closes cases.
 * escalation-team (risk duty, the clinical network team, support): every case, a therapist's
 * actions on any of them, and acknowledging escalations; not closing.
 */
export type { StaffRole };

export interface OidcConfig {
  issuerUrl: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string;
  scopes: string;
  /** The claim listing the user's roles (an array or a space-separated string). */
  roleClaim: string;
  roles: Record<StaffRole, string>;
  /** The claim carrying the staff reference recorded on cases (a therapist's matches therapistId). */
  staffRefClaim: string;
  /** The claim naming an escalation-team member's team (a list or a space-separated string). */
  teamClaim: string;
  teams: Record<StaffTeam, string>;
  redirectUri: string;
}

/** A named secret for machine callers (Authorization: Bearer). */
export interface BearerToken {
  name: string;
  token: string;
}

export const API_SCOPES = ['submit', 'read'] as const;
/** submit: POST /api/cancellations. read: GET /api/cancellations/:id. */
export type ApiScope = (typeof API_SCOPES)[number];

/** A JSON API caller: what it may do, and for which therapists (all, when absent). */
export interface ApiToken extends BearerToken {
  scopes: ApiScope[];
  therapists?: string[];
}

export interface AuthConfig {
  /** `dev`: anyone may sign in as anyone (never in production). `oidc`: the provider decides. */
  mode: 'dev' | 'oidc';
  oidc?: OidcConfig;
  sessionKeys: NamedKey[];
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /** Secure, `__Host-` cookies: only when the public address is https (browsers drop them on http). */
  secureCookies: boolean;
  /** The JSON API's callers, each with its scopes. */
  apiTokens: ApiToken[];
  /**
   * Domains a therapist's address may be at when it does not come from the identity provider
   * (STAFF_EMAIL_DOMAINS); empty under OIDC: only the identity provider's addresses.
   */
  staffEmailDomains: string[];
  /** Machine callers of the codec endpoint (the Temporal CLI, say); staff use their session. */
  codecTokens: BearerToken[];
  /**
   * Development only (CODEC_OPEN_TO_LOCAL_UI, set by `npm start`): the local Web UI at
   * TEMPORAL_UI_URL may decode over loopback without credentials, since the dev server's UI cannot
   * be told to send them. Refused by loadConfig outside the development sign-in on loopback.
   */
  codecOpenToLocalUi: boolean;
  /** Mail relays posting bounces and delivery receipts to /hooks/bounces. */
  bounceTokens: BearerToken[];
}

/**
 * Published development keys: anyone can read them here, so they serve only where the
 * development sign-in is on and the app is reached on loopback (see developmentKeysAllowed).
 */
const DEVELOPMENT_KEYS = {
  LINK_KEYS: 'dev:ZGV2ZWxvcG1lbnQtb25seS1ub3QtYS1zZWNyZXQtISE=',
  SESSION_KEYS: 'dev:ZGV2LXNlc3Npb24ta2V5LW5vdC1hLXNlY3JldC0hISE=',
  PAYLOAD_KEYS: 'dev:ZGV2LXBheWxvYWQta2V5LW5vdC1hLXNlY3JldC0hISE=',
  CASE_ID_KEY: 'ZGV2LWNhc2UtaWQta2V5LW5vdC1hLXNlY3JldC0hISE=',
} as const;

export type KeyVariable = keyof typeof DEVELOPMENT_KEYS;

/** Every published key, by its bytes: a published key under another id is still published. */
const PUBLISHED_KEYS = Object.values(DEVELOPMENT_KEYS).map((v) => Buffer.from(v.slice(v.indexOf(':') + 1), 'base64'));

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const isLocal = (url: string) => LOCAL_HOSTS.has(new URL(url).hostname);

/** Loopback only: localhost, *.localhost (RFC 6761), 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '[::1]' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Parses CASE_ID_KEY: base64 of 32 bytes, with no key id (it is never rotated). */
export function parseCaseIdKey(value: string): Buffer {
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (key.length !== 32)
    throw new Error('must be base64 of 32 random bytes, with no key id (make one: openssl rand -base64 32)');
  return key;
}

const TOKEN_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const TOKEN_VALUE = /^[A-Za-z0-9._~+/=-]{32,512}$/;

/** Parses `name:token[,name:token...]`; tokens are at least 32 characters. */
export function parseBearerTokens(spec: string): BearerToken[] {
  const tokens = spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf(':');
      const name = part.slice(0, at);
      const token = part.slice(at + 1);
      if (at <= 0 || !TOKEN_NAME.test(name)) throw new Error('each entry must be name:token');
      if (!TOKEN_VALUE.test(token)) throw new Error(`the token for ${name} must be 32 or more characters (letters, digits, . _ ~ + / = -)`);
      return { name, token };
    });
  if (new Set(tokens.map((t) => t.name)).size !== tokens.length) throw new Error('each name must be used once');
  return tokens;
}

interface LoadedKeys {
  LINK_KEYS: LinkKey[];
  SESSION_KEYS: NamedKey[];
  PAYLOAD_KEYS: NamedKey[];
  CASE_ID_KEY: Buffer;
  developmentKeys: KeyVariable[];
}

/**
 * The four secrets. The published development keys fill in for unset ones only where the
 * development sign-in is on and PUBLIC_BASE_URL is loopback; anywhere else they are refused, set
 * or not. No key may appear in two lists: a leak of one (a link key in a support ticket, say)
 * must not open sessions or payloads too.
 */
function loadKeys(e: Env, where: { production: boolean; developmentAllowed: boolean }, problems: string[]): LoadedKeys {
  const required = where.production
    ? 'required in production'
    : 'required unless the development sign-in is on and PUBLIC_BASE_URL is loopback';
  const out: LoadedKeys = {
    LINK_KEYS: [],
    SESSION_KEYS: [],
    PAYLOAD_KEYS: [],
    CASE_ID_KEY: Buffer.alloc(0),
    developmentKeys: [],
  };
  const seen: { name: KeyVariable; key: Buffer }[] = [];
  for (const name of Object.keys(DEVELOPMENT_KEYS) as KeyVariable[]) {
    const value = e[name];
    if (!value && !where.developmentAllowed) {
      const format =
        name === 'CASE_ID_KEY' ? 'base64 of 32 random bytes, never rotated' : 'keyId:base64 of 32 random bytes';
      problems.push(`  ${name}: ${required} (${format})`);
      continue;
    }
    let material: Buffer[];
    try {
      if (name === 'CASE_ID_KEY') {
        out.CASE_ID_KEY = parseCaseIdKey(value ?? DEVELOPMENT_KEYS.CASE_ID_KEY);
        material = [out.CASE_ID_KEY];
      } else {
        const list = parseKeyList(value ?? DEVELOPMENT_KEYS[name]);
        out[name] = list;
        material = list.map((k) => k.key);
      }
    } catch (err) {
      problems.push(`  ${name}: ${err instanceof Error ? err.message : 'invalid'}`);
      continue;
    }
    if (material.some((k) => PUBLISHED_KEYS.some((p) => p.equals(k)))) {
      if (where.developmentAllowed) out.developmentKeys.push(name);
      else
        problems.push(`  ${name}: holds a published development key; make keys of your own (openssl rand -base64 32)`);
    }
    const shared = seen.filter((s) => material.some((k) => s.key.equals(k))).map((s) => s.name);
    if (shared.length > 0)
      problems.push(
        `  ${name}: shares key material with ${[...new Set(shared)].join(' and ')}; each list needs keys of its own`,
      );
    seen.push(...material.map((key) => ({ name, key })));
  }
  return out;
}

const THERAPIST_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/;

/**
 * Parses API_TOKENS: `name:token:scopes[:therapists]`, comma-separated. Scopes are `submit`,
 * `read` or `submit+read`; therapists (`T1042+T1043`) limit a token to those therapists' cases,
 * for an integration that serves one team. A token is never all-powerful by default.
 */
export function parseApiTokens(spec: string): ApiToken[] {
  const parts = spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const tokens = parts.map((part): ApiToken => {
    const [name = '', token = '', scopeList, therapistList, ...rest] = part.split(':');
    const [bearer] = parseBearerTokens(`${name}:${token}`);
    if (scopeList === undefined || rest.length > 0) {
      throw new Error(
        'give each token its scopes, like name:token:submit+read (add :T1042+T1043 to limit it to those therapists)',
      );
    }
    const scopes = scopeList.split('+').map((s) => {
      // The scope is echoed only when it looks like one: a token pasted there must not be.
      const shown = /^[a-z]{1,20}$/.test(s) ? ` "${s}"` : '';
      if (!(API_SCOPES as readonly string[]).includes(s))
        throw new Error(`unknown scope${shown} for ${name} (use submit, read or submit+read)`);
      return s as ApiScope;
    });
    let therapists: string[] | undefined;
    if (therapistList !== undefined) {
      therapists = therapistList.split('+');
      if (!therapists.every((t) => THERAPIST_REF.test(t)))
        throw new Error(`the therapist references for ${name} must be like T1042+T1043`);
    }
    return { ...bearer!, scopes: [...new Set(scopes)], therapists };
  });
  if (new Set(tokens.map((t) => t.name)).size !== tokens.length) throw new Error('each name must be used once');
  return tokens;
}

export class ConfigError extends Error {}

/** Reads a PEM file named by `variable`; a problem is recorded (naming the variable, not the content). */
function readPem(
  variable: string,
  file: string | undefined,
  kind: 'CERTIFICATE' | 'PRIVATE KEY',
  problems: string[],
): Buffer | undefined {
  if (!file) return undefined;
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    problems.push(`  ${variable}: cannot read ${file} (${code})`);
    return undefined;
  }
  // "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(pem.toString('latin1'))) {
    problems.push(`  ${variable}: ${file} is not a PEM ${kind === 'CERTIFICATE' ? 'certificate' : 'private key'}`);
    return undefined;
  }
  return pem;
}

function temporalTls(e: Env, problems: string[]): TemporalTls | undefined {
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    problems.push('  TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both for mutual TLS, or neither');
  }
  const ca = readPem('TEMPORAL_TLS_CA', e.TEMPORAL_TLS_CA, 'CERTIFICATE', problems);
  const cert = readPem('TEMPORAL_TLS_CERT', e.TEMPORAL_TLS_CERT, 'CERTIFICATE', problems);
  const key = readPem('TEMPORAL_TLS_KEY', e.TEMPORAL_TLS_KEY, 'PRIVATE KEY', problems);
  const wanted =
    e.TEMPORAL_TLS_CA || e.TEMPORAL_TLS_CERT || e.TEMPORAL_TLS_KEY || e.TEMPORAL_TLS_SERVER_NAME || e.TEMPORAL_API_KEY;
  if (!wanted) return undefined;
  return {
    ...(ca ? { ca } : {}),
    ...(cert && key ? { clientCert: { cert, key } } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const problems: string[] = [];
  if ((e.NOTIFY_API_KEY === undefined) !== (e.NOTIFY_SMS_TEMPLATE_ID === undefined)) {
    problems.push('  NOTIFY_API_KEY and NOTIFY_SMS_TEMPLATE_ID: set both to send SMS through GOV.UK Notify, or neither');
  }
  if (e.MPB_MODE === 'mpb' && !e.MPB_BASE_URL) {
    problems.push("  MPB_BASE_URL: required when MPB_MODE is 'mpb'");
  }
  // Both carry clients' details (numbers and message text, records queries) and a secret.
  for (const [name, value] of [
    ['NOTIFY_BASE_URL', e.NOTIFY_BASE_URL],
    ['MPB_BASE_URL', e.MPB_BASE_URL],
  ] as const) {
    if (production && value && new URL(value).protocol !== 'https:')
      problems.push(`  ${name}: must be https in production`);
  }
  const tokens = <T>(
    name: 'API_TOKENS' | 'CODEC_TOKENS' | 'BOUNCE_TOKENS',
    value: string | undefined,
    parse: (spec: string) => T[],
  ): T[] => {
    try {
      return value ? parse(value) : [];
    } catch (err) {
      problems.push(`  ${name}: ${err instanceof Error ? err.message : 'invalid'}`);
      return [];
    }
  };
  const apiTokens = tokens('API_TOKENS', e.API_TOKENS, parseApiTokens);
  const codecTokens = tokens('CODEC_TOKENS', e.CODEC_TOKENS, parseBearerTokens);
  const bounceTokens = tokens('BOUNCE_TOKENS', e.BOUNCE_TOKENS, parseBearerTokens);

  const publicBaseUrl = e.PUBLIC_BASE_URL.replace(/\/+$/, '');
  const https = new URL(publicBaseUrl).protocol === 'https:';
  if (production && !https && !isLocal(publicBaseUrl)) {
    problems.push('  PUBLIC_BASE_URL: must be https in production (sessions need Secure cookies)');
  }
  const authMode = e.AUTH_MODE ?? (production || e.OIDC_ISSUER_URL ? 'oidc' : 'dev');
  let oidc: OidcConfig | undefined;
  if (authMode === 'dev' && production) {
    problems.push('  AUTH_MODE: the development sign-in cannot be used in production; configure OIDC_ISSUER_URL and OIDC_CLIENT_ID');
  } else if (authMode === 'oidc') {
    if (!e.OIDC_ISSUER_URL) problems.push('  OIDC_ISSUER_URL: required for OpenID Connect sign-in');
    if (!e.OIDC_CLIENT_ID) problems.push('  OIDC_CLIENT_ID: required for OpenID Connect sign-in');
    if (e.OIDC_ISSUER_URL && production && new URL(e.OIDC_ISSUER_URL).protocol !== 'https:' && !isLocal(e.OIDC_ISSUER_URL)) {
      problems.push('  OIDC_ISSUER_URL: must be https in production');
    }
    if (e.OIDC_ISSUER_URL && e.OIDC_CLIENT_ID) {
      oidc = {
        issuerUrl: e.OIDC_ISSUER_URL,
        clientId: e.OIDC_CLIENT_ID,
        clientSecret: e.OIDC_CLIENT_SECRET,
        scopes: e.OIDC_SCOPES,
        roleClaim: e.OIDC_ROLE_CLAIM,
        roles: { therapist: e.OIDC_THERAPIST_ROLE, 'clinical-lead': e.OIDC_CLINICAL_LEAD_ROLE, 'escalation-team': e.OIDC_ESCALATION_TEAM_ROLE },
        staffRefClaim: e.OIDC_STAFF_REF_CLAIM,
        teamClaim: e.OIDC_TEAM_CLAIM,
        teams: { risk: e.OIDC_RISK_TEAM, network: e.OIDC_NETWORK_TEAM, support: e.OIDC_SUPPORT_TEAM },
        redirectUri: `${publicBaseUrl}/auth/callback`,
      };
    }
  }
  const keys = loadKeys(
    e,
    { production, developmentAllowed: authMode === 'dev' && isLoopbackHost(new URL(publicBaseUrl).hostname) },
    problems,
  );
  const tls = temporalTls(e, problems);
  const codecOpenToLocalUi = e.CODEC_OPEN_TO_LOCAL_UI === 'true';
  const loopback = (u: string) => isLoopbackHost(new URL(u).hostname);
  const localOnly = !production && authMode === 'dev' && loopback(publicBaseUrl) && loopback(e.TEMPORAL_UI_URL);
  if (codecOpenToLocalUi && !localOnly) {
    problems.push(
      '  CODEC_OPEN_TO_LOCAL_UI: development only: needs the development sign-in, ' +
        'and PUBLIC_BASE_URL and TEMPORAL_UI_URL on loopback',
    );
  }
  if (e.WORKER_HEALTH_PORT !== 0 && e.WORKER_HEALTH_PORT === e.WORKER_SDK_METRICS_PORT) {
    problems.push('  WORKER_SDK_METRICS_PORT: must differ from WORKER_HEALTH_PORT (each is a server of its own)');
  }
  if (e.SESSION_IDLE_MINUTES * 60 > e.SESSION_ABSOLUTE_HOURS * 3600) {
    problems.push('  SESSION_IDLE_MINUTES: must not be longer than SESSION_ABSOLUTE_HOURS');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    worker: { healthPort: e.WORKER_HEALTH_PORT, sdkMetricsPort: e.WORKER_SDK_METRICS_PORT },
    bindAddress: e.BIND_ADDRESS ?? (production ? undefined : '127.0.0.1'),
    publicBaseUrl,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiUrl: e.TEMPORAL_UI_URL.replace(/\/+$/, ''),
      ...(tls ? { tls } : {}),
      ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
    },
    mail: {
      smtpUrl: e.SMTP_URL,
      smtpMaxConnections: e.SMTP_MAX_CONNECTIONS,
      from: e.MAIL_FROM ?? `"${e.SERVICE_NAME.replace(/["\\]/g, '')}" <no-reply@shortnotice.localhost>`,
      mailboxDir: e.MAILBOX_DIR,
    },
    serviceName: e.SERVICE_NAME,
    teams: {
      network: e.NETWORK_CLINICAL_EMAIL,
      risk: e.RISK_DUTY_EMAIL,
      support: e.SUPPORT_EMAIL,
      lead: e.CLINICAL_LEAD_EMAIL ?? e.NETWORK_CLINICAL_EMAIL,
      provider: e.PROVIDER_EMAIL,
      supportPhone: e.SUPPORT_PHONE,
    },
    appointmentsPhone: e.APPOINTMENTS_PHONE ?? e.SUPPORT_PHONE,
    sms: {
      notify:
        e.NOTIFY_API_KEY && e.NOTIFY_SMS_TEMPLATE_ID
          ? { apiKey: e.NOTIFY_API_KEY, templateId: e.NOTIFY_SMS_TEMPLATE_ID, baseUrl: e.NOTIFY_BASE_URL }
          : undefined,
    },
    records: { mode: e.MPB_MODE, baseUrl: e.MPB_BASE_URL, token: e.MPB_API_TOKEN, timeoutMs: e.MPB_TIMEOUT_MS },
    policy: e.POLICY_JSON,
    linkKeys: keys.LINK_KEYS,
    payloadKeys: keys.PAYLOAD_KEYS,
    caseIdKey: keys.CASE_ID_KEY,
    developmentKeys: keys.developmentKeys,
    auth: {
      mode: authMode,
      oidc,
      sessionKeys: keys.SESSION_KEYS,
      idleTimeoutMs: e.SESSION_IDLE_MINUTES * 60_000,
      absoluteTimeoutMs: e.SESSION_ABSOLUTE_HOURS * 3_600_000,
      secureCookies: https,
      apiTokens,
      codecTokens,
      codecOpenToLocalUi,
      bounceTokens,
      staffEmailDomains: e.STAFF_EMAIL_DOMAINS ?? [],
    },
    trustProxyHops: e.TRUST_PROXY_HOPS,
    logLevel: e.LOG_LEVEL,
    audit: { file: e.AUDIT_LOG_FILE },
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT ? { tracing: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT } } : {}),
  };
}

/** Says, once per process, which published development keys are in use (never their values). */
export function warnAboutDevelopmentKeys(config: Config, log: Pick<Logger, 'warn'>): void {
  if (config.developmentKeys.length === 0) return;
  log.warn(
    { event: 'development-keys', keys: config.developmentKeys },
    `development keys in use (${config.developmentKeys.join(', ')}): their values are public, so this must stay on this machine`,
  );
}

/** For process entry points: load config or print the problem (no stack trace) and exit. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(78);
    }
    throw e;
  }
}
