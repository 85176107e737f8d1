/**
 * Who may do what. Staff pages need a signed-in session (therapist, clinical lead or escalation
 * team: risk duty, the clinical network team and support); the JSON
 * API and machine callers of the codec endpoint present a bearer token from the environment.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { BearerToken, StaffRole } from '../../config';
import type { CaseView, StaffTeam } from '../../shared/case';
import { sessionOf, type StaffUser } from './session';

export const ROLE_LABELS: Record<StaffRole, string> = {
  therapist: 'Therapist',
  'clinical-lead': 'Clinical lead',
  'escalation-team': 'Escalation team (risk duty, clinical network team, support)',
};

/** An escalation-team member's team, as the pages name it. */
export const TEAM_LABELS: Record<StaffTeam, string> = {
  risk: 'Risk duty',
  network: 'Clinical network team',
  support: 'Support',
};

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;
const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens. Both sides are hashed
 * to equal length and every token is compared, so timing says neither which token nor how much
 * of it matched.
 */
export function bearerMatcher<T extends BearerToken>(
  tokens: readonly T[],
): (header: string | undefined) => T | undefined {
  const known = tokens.map((t) => ({ t, hash: digest(t.token) }));
  return (header) => {
    if (typeof header !== 'string' || header.length > 600) return undefined;
    const m = BEARER.exec(header);
    if (!m) return undefined;
    const given = digest(m[1]!);
    let found: T | undefined;
    for (const k of known) {
      if (timingSafeEqual(given, k.hash) && !found) found = k.t;
    }
    return found;
  };
}

/** Where a signed-out visitor may be sent back to after signing in: a path on this site only. */
export function safeReturnPath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 300) return undefined;
  if (!/^\/(?![/\\])[A-Za-z0-9/._~?=&%-]*$/.test(value)) return undefined;
  if (value.startsWith('/auth/') || value.startsWith('/codec')) return undefined;
  return value;
}

export interface StaffGate {
  /** Renders the page for a visitor who is not signed in (GET/HEAD are redirected instead). */
  unauthenticated(req: Request, res: Response): void;
  /** Renders the page for a signed-in member of staff whose role does not allow this. */
  forbidden(req: Request, res: Response): void;
}

/** Lets signed-in staff through (with one of `roles`, if given); puts them in res.locals.staff. */
export function requireStaff(gate: StaffGate, roles?: readonly StaffRole[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const session = sessionOf(req);
    const user = session.user;
    if (!user) {
      if (req.method === 'GET' || req.method === 'HEAD') {
        session.update({ returnTo: safeReturnPath(req.originalUrl) });
        res.redirect(303, '/auth/sign-in');
        return;
      }
      gate.unauthenticated(req, res);
      return;
    }
    // Set before the role check too, so a refusal page still shows who is signed in and sign-out.
    res.locals.staff = user;
    if (roles && !roles.includes(user.role)) {
      gate.forbidden(req, res);
      return;
    }
    next();
  };
}

export function staffOf(res: Response): StaffUser {
  const user = res.locals.staff as StaffUser | undefined;
  if (!user) throw new Error('requireStaff has not run for this request');
  return user;
}

/** A therapist sees their own cases only; a clinical lead and the escalation team see every case. */
export function canSeeCase(user: StaffUser, view: Pick<CaseView, 'therapistId'>): boolean {
  if (user.role === 'clinical-lead' || user.role === 'escalation-team') return true;
  return user.role === 'therapist' && view.therapistId === user.ref;
}
