/** The middleware chains that put the security rules in front of routes, with their pages. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { StaffRole } from '../../config';
import type { WebContext } from '../context';
import { requireStaff, type StaffGate } from './auth';
import { linkBinding, postedToken, sameOrigin, sessionBinding } from './csrf';
import { sessionOf } from './session';

const UNSAFE = (method: string) => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

export function staffGate(ctx: WebContext): StaffGate {
  return {
    unauthenticated: (_req, res) =>
      ctx.render(res, 401, 'auth/problem.njk', {
        title: 'Sign in to continue',
        message: 'You need to sign in to do this. If you were signed in, your session has ended.',
        signIn: true,
      }),
    forbidden: (req, res) => {
      // The page's sign-out form needs a token, though the route's own CSRF step did not run.
      const sid = sessionOf(req).data?.sid;
      if (sid) res.locals.csrfToken = ctx.csrf.issue(sessionBinding(sid));
      ctx.render(res, 403, 'auth/problem.njk', {
        title: 'You cannot do this',
        message: 'Your role does not allow this. Ask a clinical lead if it needs doing.',
      });
    },
  };
}

/** 403 for a form that failed the CSRF checks; a client gets the support number and crisis lines. */
export function refuseForm(ctx: WebContext, req: Request, res: Response): void {
  ctx.log.warn({ event: 'csrf-refused', method: req.method, route: req.baseUrl + (req.route?.path ?? '') }, 'form refused: missing or wrong CSRF token, or cross-site origin');
  ctx.render(res, 403, 'refused.njk', { client: req.path.startsWith('/c/') });
}

/**
 * Refuses any state-changing request that the browser says came from another site. Runs before
 * bodies are parsed, so a forged request costs nothing.
 */
export function sameOriginForms(ctx: WebContext): RequestHandler {
  const own = new URL(ctx.deps.config.publicBaseUrl).origin;
  return (req, res, next) => {
    if (!UNSAFE(req.method)) return next();
    const addressed = `${req.protocol}://${req.get('host') ?? ''}`;
    if (sameOrigin(req, [own, addressed])) return next();
    refuseForm(ctx, req, res);
  };
}

/**
 * Signed-in staff (with one of `roles`, if given; give them wherever a route is not for every
 * role); a CSRF token for their forms, checked on POST.
 */
export function staffOnly(ctx: WebContext, roles?: readonly StaffRole[]): RequestHandler[] {
  const gate = requireStaff(staffGate(ctx), roles);
  const csrf = (req: Request, res: Response, next: NextFunction) => {
    const sid = sessionOf(req).data!.sid;
    if (UNSAFE(req.method) && !ctx.csrf.verify(sessionBinding(sid), postedToken(req))) return refuseForm(ctx, req, res);
    res.locals.csrfToken = ctx.csrf.issue(sessionBinding(sid));
    next();
  };
  return [gate, csrf];
}

/** A form on a page without sign-in (the sign-in form itself): bound to the anonymous session. */
export function sessionForm(ctx: WebContext): RequestHandler {
  return (req, res, next) => {
    const session = sessionOf(req);
    if (UNSAFE(req.method)) {
      const sid = session.data?.sid;
      if (!sid || !ctx.csrf.verify(sessionBinding(sid), postedToken(req))) return refuseForm(ctx, req, res);
    }
    res.locals.csrfToken = ctx.csrf.issue(sessionBinding(session.ensure().sid));
    next();
  };
}

/** A client's page: its forms' token is bound to the link token in the URL. */
export function linkForm(ctx: WebContext): RequestHandler {
  return (req, res, next) => {
    const token = String(req.params.token ?? '');
    if (UNSAFE(req.method) && !ctx.csrf.verify(linkBinding(token), postedToken(req))) return refuseForm(ctx, req, res);
    res.locals.csrfToken = ctx.csrf.issue(linkBinding(token));
    next();
  };
}

/** 405 with Allow for a known path asked with a method it does not take. */
export function methodNotAllowed(allow: string): RequestHandler {
  return (req, res) => {
    res.set('Allow', allow);
    if (req.path.startsWith('/api/') || req.baseUrl.startsWith('/api')) {
      res.status(405).json({ errors: [{ path: '', message: `Use ${allow.replace(', HEAD', '')} on this endpoint` }] });
      return;
    }
    res.status(405).type('text').send('Method not allowed');
  };
}
