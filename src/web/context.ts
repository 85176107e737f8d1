/** What every route module of the web app shares: its dependencies, the views and a clock. */
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type nunjucks from 'nunjucks';
import { noAudit, type AuditLog } from '../audit';
import type { CaseService } from '../cases';
import type { Config } from '../config';
import type { LinkSealer } from '../links';
import { silentLogger, type Logger } from '../log';
import type { CaseGauges } from '../ops/case-gauges';
import type { Readiness } from '../ops/health';
import type { AppMetrics } from '../ops/metrics';
import type { Mailbox } from './mailbox';
import { ClientActions } from './security/client-actions';
import { CsrfTokens } from './security/csrf';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './security/limits';
import type { OidcClient } from './security/oidc';

export interface AppDeps {
  config: Config;
  cases: Pick<
    CaseService,
    | 'submit'
    | 'view'
    | 'act'
    | 'actOnAbsence'
    | 'reportDelivery'
    | 'clientSeen'
    | 'list'
    | 'listAll'
    | 'count'
    | 'leadCharts'
  >;
  links: LinkSealer;
  /** The development mailbox pages exist only when this is given. */
  mailbox?: Mailbox;
  /** For tests; defaults to the system clock. */
  now?: () => Date;
  /** Structured, redacting logger (src/log.ts); silent when not given. */
  logger?: Logger;
  /** OpenID Connect sign-in; built from config.auth.oidc when not given. */
  oidc?: OidcClient;
  /** Request rate limits; tests lower them. */
  limits?: Partial<RateLimits>;
  /** The audit stream of reads (src/audit.ts); `npm run web` writes AUDIT_LOG_FILE. Nothing when not given. */
  audit?: AuditLog;
  /** Metrics (/metrics) and readiness (/readyz); `npm run web` gives both. Without them only /healthz answers. */
  ops?: WebOps;
}

export interface WebOps {
  metrics: AppMetrics;
  readiness: Readiness;
  /** Visibility counts refreshed before each scrape. */
  caseGauges?: CaseGauges;
}

export interface WebContext {
  deps: AppDeps;
  log: Logger;
  csrf: CsrfTokens;
  limits: RateLimits;
  /** Bounds on client links' actions (S2), for this app instance. */
  clientActions: ClientActions;
  /** Call before showing a case to anyone: who, how and what (throws if it cannot be recorded). */
  audit: AuditLog;
  now(): Date;
  /** Renders a template with res.locals (signed-in staff, CSRF token) and `data`. */
  render(res: Response, status: number, template: string, data?: Record<string, unknown>): void;
  /** A fresh id for a rendered action form, so a double click makes one Workflow Update. */
  newUpdateId(): string;
}

export function createContext(deps: AppDeps, views: nunjucks.Environment): WebContext {
  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.limits };
  return {
    deps,
    log: deps.logger ?? silentLogger,
    csrf: new CsrfTokens(deps.config.auth.sessionKeys),
    limits,
    clientActions: new ClientActions(limits.clientActions),
    audit: deps.audit ?? noAudit,
    now: deps.now ?? (() => new Date()),
    render(res, status, template, data = {}) {
      const html = views.render(template, { ...res.locals, ...data });
      res.status(status).type('html').send(html);
    },
    newUpdateId: () => randomUUID(),
  };
}
