/**
 * The web app: the therapist's form, staff case pages, the client's page and the JSON API.
 * Built without listening, so tests drive it in-process; `main.ts` gives it a port.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { httpMetrics } from '../ops/metrics';
import { createContext, type AppDeps, type WebContext } from './context';
import { healthRoutes, HEALTH_PATHS } from './routes/health';
import { httpSpans } from './http-spans';
import { apiRoutes, API_BODY_LIMIT } from './routes/api';
import { authRoutes } from './routes/auth';
import { caseRoutes } from './routes/cases';
import { clientRoutes } from './routes/client';
import { codecRoutes } from './routes/codec';
import { formRoutes } from './routes/form';
import { hookRoutes } from './routes/hooks';
import { listRoutes } from './routes/lists';
import { mailboxRoutes } from './routes/mailbox';
import { sameOriginForms } from './security/guards';
import { knownHostsOnly } from './security/hosts';
import { limiter } from './security/limits';
import { sessionMiddleware } from './security/session';
import { createViews, NHSUK_DIST } from './views';

export type { AppDeps } from './context';
export type { Mailbox, MailDetail, MailSummary } from './mailbox';

/** Form bodies: the largest real form (50 sessions) is far below both limits. */
const FORM_BODY_LIMIT = '100kb';
const FORM_PARAMETER_LIMIT = 1_000;

/** Methods the app answers on some route; anything else (TRACE, PROPFIND, ...) is 501. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE']);

/**
 * helmet, with a policy under which scripts and styles come only from this site (no inline
 * script or style), nothing may frame the pages, forms post only here, and no page leaks its
 * address (a client's link) in a Referer header.
 */
function securityHeaders(https: boolean) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // HSTS only means something over https; on http://localhost it would be ignored anyway.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
  });
}

function noStore(_req: Request, res: Response, next: NextFunction): void {
  // Pages carry client names and case details: never keep them in a shared cache or history.
  res.set({ 'Cache-Control': 'no-store', 'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()' });
  next();
}

let nhsukCss: string | undefined;

/**
 * NHS.UK frontend's stylesheet without its @font-face rules: its typeface is licensed to the
 * NHS and fetched from the NHS's servers, which our CSP (rightly) refuses. Text falls back to
 * Arial, as the NHS.UK styles intend when the typeface is missing.
 */
function nhsukStylesheet(): string {
  nhsukCss ??= readFileSync(path.join(NHSUK_DIST, 'nhsuk', 'nhsuk-frontend.min.css'), 'utf8')
    .replace(/@font-face\{[^}]*\}/g, '')
    .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '');
  return nhsukCss;
}

interface HttpError {
  status?: number;
  statusCode?: number;
  type?: string;
}

/** What a request that the rate limiter stopped gets: JSON for machines, a calm page for people. */
function tooMany(ctx: WebContext) {
  return (req: Request, res: Response) => {
    ctx.log.warn({ event: 'rate-limited', route: req.baseUrl || req.path.split('/')[1] }, 'too many requests');
    if (req.baseUrl.startsWith('/api') || req.baseUrl.startsWith('/codec')) {
      res.status(429).json({ errors: [{ path: '', message: 'Too many requests: wait a minute and try again' }] });
      return;
    }
    const client = req.path.startsWith('/c/') || req.baseUrl.startsWith('/c');
    ctx.render(res, 429, 'error.njk', { message: 'There have been too many attempts from your connection. Please wait a few minutes and try again.', client });
  };
}

export function createApp(deps: AppDeps): Express {
  const { config } = deps;
  const app = express();
  // First, so every request is timed, including those refused below.
  if (deps.ops) app.use(httpMetrics(deps.ops.metrics));
  app.disable('x-powered-by');
  // The number of proxies in front (TRUST_PROXY_HOPS): req.ip and req.protocol come from the
  // X-Forwarded-* headers they add, and no further, so a client cannot choose its own address.
  app.set('trust proxy', config.trustProxyHops);
  const views = createViews(config);
  const ctx = createContext(deps, views);
  const refuse = tooMany(ctx);
  const https = config.auth.secureCookies;

  // Traces on (OTEL_EXPORTER_OTLP_ENDPOINT): each request is a span, a submission's trace root.
  if (config.tracing) app.use(httpSpans());
  app.use((req, res, next) => {
    if (KNOWN_METHODS.has(req.method)) return next();
    res.status(501).type('text').send('Not implemented');
  });
  app.use(knownHostsOnly(config.publicBaseUrl, ctx.log, HEALTH_PATHS));
  app.use(securityHeaders(https));

  const assets = { maxAge: '1h', index: false, fallthrough: true } as const;
  const nhsuk = path.join(NHSUK_DIST, 'nhsuk');
  app.use('/assets', express.static(path.join(__dirname, 'public'), assets));
  app.get('/assets/nhsuk-frontend.min.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(nhsukStylesheet());
  });
  app.get('/assets/nhsuk-frontend.min.js', (_req, res) => res.sendFile(path.join(nhsuk, 'nhsuk-frontend.min.js'), { maxAge: '1h' }));
  app.use('/assets/images', express.static(path.join(nhsuk, 'assets', 'images'), assets));

  app.use(noStore);

  // Before any session, rate limit or log line: probes and scrapes come every few seconds.
  app.use(healthRoutes(deps.ops));

  // Machines: bearer tokens, no cookies, no forms.
  app.use('/api', limiter(ctx.limits.api, ctx.log, refuse), apiRoutes(ctx));
  app.use('/hooks', hookRoutes(ctx));

  app.use(sessionMiddleware({ auth: config.auth, now: () => ctx.now().getTime() }));
  app.use('/codec', limiter(ctx.limits.codec, ctx.log, refuse), codecRoutes(ctx));

  // People: every state-changing request must come from this site and carry its form's token.
  app.use(sameOriginForms(ctx));
  app.use(express.urlencoded({ extended: false, limit: FORM_BODY_LIMIT, parameterLimit: FORM_PARAMETER_LIMIT }));
  app.use('/auth', limiter(ctx.limits.signIn, ctx.log, refuse));
  app.use(authRoutes(ctx));
  app.use(listRoutes(ctx));
  app.use(formRoutes(ctx));
  app.use(caseRoutes(ctx));
  app.use('/c', limiter(ctx.limits.clientLinks, ctx.log, refuse));
  app.use(clientRoutes(ctx));
  if (deps.mailbox) app.use(mailboxRoutes(ctx, deps.mailbox));

  app.use((req, res) => {
    ctx.render(res, 404, 'not-found.njk', { what: 'page', client: req.path.startsWith('/c/') });
  });

  const onError: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = (err ?? {}) as HttpError;
    const status = e.status ?? e.statusCode ?? 500;
    const machine = req.path.startsWith('/api/') || req.path.startsWith('/codec/');
    let message: string;
    if (status === 413) message = `The request is too large: send at most ${API_BODY_LIMIT.replace('kb', ' kB')}${e.type === 'parameters.too.many' ? ` and ${FORM_PARAMETER_LIMIT} fields` : ''}`;
    else if (e.type === 'entity.parse.failed') message = 'The request body is not valid JSON';
    else if (status >= 400 && status < 500) message = 'The request could not be read';
    else {
      message = 'Something went wrong on our side. Please try again in a few minutes.';
      // The route pattern, not the URL: a client link's token must not reach the logs.
      ctx.log.error({ event: 'request-failed', method: req.method, route: `${req.baseUrl}${req.route?.path ?? ''}`, err }, 'request failed');
    }
    const code = status >= 400 && status < 600 ? status : 500;
    if (machine) {
      res.status(code).json({ errors: [{ path: '', message }] });
      return;
    }
    try {
      ctx.render(res, code, 'error.njk', { message, client: req.path.startsWith('/c/') });
    } catch {
      // Never Express's default page, which shows a stack trace outside production.
      res.status(code).type('text').send(message);
    }
  };
  app.use(onError);

  return app;
}
