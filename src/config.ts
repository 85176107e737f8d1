/**
 * Configuration from environment variables, parsed once at start-up. A bad or missing value
 * stops the process with a message that names the variable; secrets are never printed.
 */
import { z } from 'zod';
import { parseLinkKeys, type LinkKey } from './links';
import { resolvePolicy, type Policy } from './shared/policy';

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
  PUBLIC_BASE_URL: url(['http:', 'https:']).default('http://localhost:3000'),
  TEMPORAL_ADDRESS: z
    .string()
    .trim()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, like localhost:7233')
    .default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().trim().min(1).default('shortnotice'),
  TEMPORAL_UI_URL: url(['http:', 'https:']).default('http://localhost:8233'),
  SMTP_URL: optionalUrl(['smtp:', 'smtps:']),
  MAIL_FROM: z.string().trim().min(3).default('shortnotice <no-reply@shortnotice.localhost>'),
  MAILBOX_DIR: z.string().trim().min(1).default('var/mailbox'),
  SERVICE_NAME: z.string().trim().min(1).max(80).default('VHG talking therapies'),
  NETWORK_CLINICAL_EMAIL: email.default('network.clinical@vhg.co.uk'),
  RISK_DUTY_EMAIL: email.default('ptsriskduty@vhg.co.uk'),
  SUPPORT_EMAIL: email.default('vita.support@vhg.co.uk'),
  SUPPORT_PHONE: z.string().trim().min(3).default('0333 222 0710'),
  PROVIDER_EMAIL: email.default('network.clinical@vhg.co.uk'),
  NOTIFY_API_KEY: optionalString,
  NOTIFY_SMS_TEMPLATE_ID: optionalString,
  NOTIFY_BASE_URL: url(['http:', 'https:']).default('https://api.notifications.service.gov.uk'),
  MPB_MODE: z.enum(['attestation', 'mpb'], { message: "must be 'attestation' or 'mpb'" }).default('attestation'),
  MPB_BASE_URL: optionalUrl(['http:', 'https:']),
  MPB_API_TOKEN: optionalString,
  MPB_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  LINK_KEYS: optionalString,
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
  publicBaseUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string; uiUrl: string };
  mail: { smtpUrl?: string; from: string; mailboxDir: string };
  serviceName: string;
  teams: { network: string; risk: string; support: string; provider: string; supportPhone: string };
  sms: { notify?: { apiKey: string; templateId: string; baseUrl: string } };
  records: { mode: 'attestation' | 'mpb'; baseUrl?: string; token?: string; timeoutMs: number };
  policy: Policy;
  /** Keys sealing client links; the first seals. A fixed, public key outside production. */
  linkKeys: LinkKey[];
}

/** Development only: anyone can read this key, so production refuses to start without LINK_KEYS. */
const DEVELOPMENT_LINK_KEYS = 'dev:ZGV2ZWxvcG1lbnQtb25seS1ub3QtYS1zZWNyZXQtISE=';

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if ((e.NOTIFY_API_KEY === undefined) !== (e.NOTIFY_SMS_TEMPLATE_ID === undefined)) {
    problems.push('  NOTIFY_API_KEY and NOTIFY_SMS_TEMPLATE_ID: set both to send SMS through GOV.UK Notify, or neither');
  }
  if (e.MPB_MODE === 'mpb' && !e.MPB_BASE_URL) {
    problems.push("  MPB_BASE_URL: required when MPB_MODE is 'mpb'");
  }
  let linkKeys: LinkKey[] = [];
  if (!e.LINK_KEYS && e.NODE_ENV === 'production') {
    problems.push('  LINK_KEYS: required in production (keyId:base64 of 32 random bytes)');
  } else {
    try {
      linkKeys = parseLinkKeys(e.LINK_KEYS ?? DEVELOPMENT_LINK_KEYS);
    } catch (err) {
      problems.push(`  LINK_KEYS: ${err instanceof Error ? err.message : 'invalid'}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    publicBaseUrl: e.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE, uiUrl: e.TEMPORAL_UI_URL.replace(/\/+$/, '') },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, mailboxDir: e.MAILBOX_DIR },
    serviceName: e.SERVICE_NAME,
    teams: { network: e.NETWORK_CLINICAL_EMAIL, risk: e.RISK_DUTY_EMAIL, support: e.SUPPORT_EMAIL, provider: e.PROVIDER_EMAIL, supportPhone: e.SUPPORT_PHONE },
    sms: {
      notify:
        e.NOTIFY_API_KEY && e.NOTIFY_SMS_TEMPLATE_ID
          ? { apiKey: e.NOTIFY_API_KEY, templateId: e.NOTIFY_SMS_TEMPLATE_ID, baseUrl: e.NOTIFY_BASE_URL }
          : undefined,
    },
    records: { mode: e.MPB_MODE, baseUrl: e.MPB_BASE_URL, token: e.MPB_API_TOKEN, timeoutMs: e.MPB_TIMEOUT_MS },
    policy: e.POLICY_JSON,
    linkKeys,
  };
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
