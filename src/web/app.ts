/**
 * The web app: the therapist's form, staff case pages, the client's page and the JSON API.
 * Built without listening, so tests drive it in-process; `main.ts` gives it a port.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import { createContext, type AppDeps } from './context';
import { apiRoutes, API_BODY_LIMIT } from './routes/api';
import { caseRoutes } from './routes/cases';
import { clientRoutes } from './routes/client';
import { formRoutes } from './routes/form';
import { mailboxRoutes } from './routes/mailbox';
import { createViews, NHSUK_DIST } from './views';

export type { AppDeps } from './context';
export type { Mailbox, MailDetail, MailSummary } from './mailbox';

/**
 * Scripts and styles come only from this site (no inline script or style), nothing may frame
 * the pages, and forms post only here.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    // Pages carry client names and case details: never keep them in a shared cache or history.
    'Cache-Control': 'no-store',
  });
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

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const views = createViews(deps.config);
  const ctx = createContext(deps, views);

  const assets = { maxAge: '1h', index: false, fallthrough: true } as const;
  const nhsuk = path.join(NHSUK_DIST, 'nhsuk');
  app.use('/assets', express.static(path.join(__dirname, 'public'), assets));
  app.get('/assets/nhsuk-frontend.min.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(nhsukStylesheet());
  });
  app.get('/assets/nhsuk-frontend.min.js', (_req, res) => res.sendFile(path.join(nhsuk, 'nhsuk-frontend.min.js'), { maxAge: '1h' }));
  app.use('/assets/images', express.static(path.join(nhsuk, 'assets', 'images'), assets));

  app.use(securityHeaders);

  app.get('/', (_req, res) => res.redirect(302, '/cancellations/new'));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.use('/api', apiRoutes(ctx));

  app.use(express.urlencoded({ extended: false, limit: API_BODY_LIMIT, parameterLimit: 2_000 }));
  app.use(formRoutes(ctx));
  app.use(caseRoutes(ctx));
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
    const api = req.path.startsWith('/api/');
    let message: string;
    if (status === 413) message = `The request is too large: send at most ${API_BODY_LIMIT.replace('kb', ' kB')}`;
    else if (e.type === 'entity.parse.failed') message = 'The request body is not valid JSON';
    else if (status >= 400 && status < 500) message = 'The request could not be read';
    else {
      message = 'Something went wrong on our side. Please try again in a few minutes.';
      // The route pattern, not the URL: a client link's token must not reach the logs.
      const where = `${req.method} ${req.route?.path ?? req.baseUrl ?? ''}`;
      const what = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : 'non-error thrown';
      console.error(`web: ${where} failed: ${what}`);
    }
    const code = status >= 400 && status < 600 ? status : 500;
    if (api) {
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
