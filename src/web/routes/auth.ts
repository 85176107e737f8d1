/**
 * Staff sign-in and sign-out. In production: OpenID Connect (authorization code + PKCE). Outside
 * production, by default: a development sign-in form where anyone can be anyone, marked as such
 * on the page; createApp refuses to build it when NODE_ENV is production.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { WebContext } from '../context';
import { STAFF_TEAMS as TEAMS } from '../../shared/case';
import { ROLE_LABELS, safeReturnPath, TEAM_LABELS } from '../security/auth';
import { methodNotAllowed, sessionForm, staffOnly } from '../security/guards';
import { createOidcClient, SignInRefused, type OidcClient } from '../security/oidc';
import { sessionOf, type StaffUser } from '../security/session';

/** An OIDC round trip must come back within this time. */
const OIDC_TRANSACTION_MS = 10 * 60_000;
/** Each role's home page: their cases, the lead's overview or their team's queue. */
const HOME = '/cancellations';

const ONE_LINE = /^[^\p{Cc}\p{Cf}\u2028\u2029]*$/u;

const devSignIn = z.object({
  role: z.enum(['therapist', 'clinical-lead', 'escalation-team'], { message: 'Choose a role' }),
  team: z.union([z.literal(''), z.enum(TEAMS)], { message: 'Choose risk duty, the clinical network team or support' }),
  ref: z
    .string()
    .trim()
    .min(1, 'Enter a staff reference')
    .max(40, 'The staff reference must be 40 characters or fewer')
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'Use letters, numbers, dots, dashes or slashes only'),
  name: z.string().trim().min(1, 'Enter a name').max(100, 'The name must be 100 characters or fewer').regex(ONE_LINE, 'The name must be on one line'),
  email: z
    .string()
    .trim()
    .max(254, 'The email address must be 254 characters or fewer')
    .pipe(z.union([z.literal(''), z.email({ message: 'Enter an email address like name@example.org' })])),
});

const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
const text = (body: Record<string, unknown>, key: string) => {
  const v = first(body[key]);
  return typeof v === 'string' ? v.slice(0, 300) : '';
};

export function authRoutes(ctx: WebContext): Router {
  const { config } = ctx.deps;
  const router = Router();
  const dev = config.auth.mode === 'dev';
  if (dev && (config.env === 'production' || process.env.NODE_ENV === 'production')) {
    throw new Error('The development sign-in cannot run in production');
  }
  let oidc: OidcClient | undefined = ctx.deps.oidc;
  if (!dev && !oidc) {
    if (!config.auth.oidc) throw new Error('OIDC sign-in is not configured');
    oidc = createOidcClient(config.auth.oidc);
  }

  const finishSignIn = (req: Request, res: Response, user: StaffUser) => {
    const returnTo = safeReturnPath(sessionOf(req).data?.returnTo) ?? HOME;
    sessionOf(req).signIn(user);
    ctx.log.info(
      { event: 'signed-in', role: user.role, staffRef: user.ref, via: user.via, team: user.team },
      'staff signed in',
    );
    res.redirect(303, returnTo);
  };

  const showDevForm = (res: Response, status: number, values: Record<string, string> = {}, errors: Record<string, string> = {}) =>
    ctx.render(res, status, 'auth/dev-sign-in.njk', {
      values: { role: 'therapist', team: '', ...values },
      errors,
      errorList: Object.entries(errors).map(([field, message]) => ({ text: message, href: `#${field}` })),
      roles: Object.entries(ROLE_LABELS).map(([value, label]) => ({ value, text: label })),
      teams: [{ value: '', text: 'None' }, ...TEAMS.map((t) => ({ value: t, text: TEAM_LABELS[t] }))],
    });

  router
    .route('/auth/sign-in')
    .get(sessionForm(ctx), async (req, res) => {
      if (sessionOf(req).user) {
        res.redirect(303, HOME);
        return;
      }
      if (dev) {
        showDevForm(res, 200);
        return;
      }
      try {
        const { url, transaction } = await oidc!.start(ctx.now().getTime());
        sessionOf(req).update({ oidc: transaction });
        res.redirect(303, url);
      } catch (e) {
        ctx.log.error({ event: 'oidc-start-failed', err: e }, 'cannot reach the identity provider');
        ctx.render(res, 503, 'auth/problem.njk', { title: 'Sign-in is not available', message: 'We cannot reach the sign-in service just now. Please try again in a few minutes.' });
      }
    })
    .post(sessionForm(ctx), (req, res) => {
      if (!dev) {
        methodNotAllowed('GET, HEAD')(req, res, () => undefined);
        return;
      }
      const body = (req.body ?? {}) as Record<string, unknown>;
      const values = {
        role: text(body, 'role'),
        team: text(body, 'team'),
        ref: text(body, 'ref'),
        name: text(body, 'name'),
        email: text(body, 'email'),
      };
      const parsed = devSignIn.safeParse(values);
      if (!parsed.success) {
        const errors: Record<string, string> = {};
        for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
        showDevForm(res, 422, values, errors);
        return;
      }
      const { role, team, ref, name, email } = parsed.data;
      // Only the escalation team has teams: a team posted with another role is ignored.
      const teamOf = role === 'escalation-team' && team ? { team } : {};
      finishSignIn(req, res, { role, ref, name, email: email || undefined, via: 'dev', ...teamOf });
    })
    .all(methodNotAllowed(dev ? 'GET, HEAD, POST' : 'GET, HEAD'));

  router
    .route('/auth/callback')
    .get(async (req, res) => {
      const session = sessionOf(req);
      const transaction = session.data?.oidc;
      if (dev || !transaction || ctx.now().getTime() - transaction.startedAt > OIDC_TRANSACTION_MS) {
        ctx.render(res, 400, 'auth/problem.njk', { title: 'Sign-in did not finish', message: 'Sign-in took too long or was started elsewhere. Please sign in again.', signIn: true });
        return;
      }
      // The provider's answer as it reached us, on the redirect URI it was sent to.
      const callbackUrl = new URL(config.auth.oidc!.redirectUri);
      callbackUrl.search = new URL(req.originalUrl, 'http://placeholder').search;
      session.update({ oidc: undefined });
      try {
        finishSignIn(req, res, await oidc!.finish(callbackUrl, transaction));
      } catch (e) {
        if (e instanceof SignInRefused) {
          ctx.log.warn({ event: 'sign-in-refused', reason: e.code }, 'sign-in refused');
          ctx.render(res, 403, 'auth/problem.njk', { title: 'Your account cannot use this service', message: 'Your account does not have a role in this service. Ask your manager to request access.' });
          return;
        }
        ctx.log.warn({ event: 'oidc-callback-failed', err: e }, 'sign-in failed at the callback');
        ctx.render(res, 400, 'auth/problem.njk', { title: 'Sign-in did not finish', message: 'The sign-in service sent an answer we could not accept. Please sign in again.', signIn: true });
      }
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/auth/sign-out')
    .post(...staffOnly(ctx), (req, res) => {
      sessionOf(req).destroy();
      res.locals.staff = undefined;
      ctx.render(res, 200, 'auth/problem.njk', { title: 'You have signed out', message: 'You have signed out of this service.', signIn: true });
    })
    .all(methodNotAllowed('POST'));

  return router;
}
