/**
 * The v1 JSON API: submit cancellations and read a case. Integrations authenticate with a
 * bearer token from API_TOKENS, which says what the token may do (`submit`, `read`) and, for an
 * integration that serves one team, for which therapists. There are no cookies here, so no CSRF
 * to defend against.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { ApiScope, ApiToken } from '../../config';
import type { CaseView } from '../../shared/case';
import { z } from 'zod';
import { reportAbsenceReturnUpdate, reportBackUpdate } from '../../shared/absence';
import { submissionSchema, toFieldErrors } from '../../shared/api';
import type { WebContext } from '../context';
import { bearerMatcher } from '../security/auth';
import { methodNotAllowed } from '../security/guards';
import { staffEmailProblem } from '../security/staff-email';

export const API_BODY_LIMIT = '100kb';

const notFound = { errors: [{ path: 'id', message: 'No such case' }] };

const SCOPE_REFUSALS: Record<ApiScope, string> = {
  submit: 'This token may not submit cancellations (it has no submit scope)',
  read: 'This token may not read cases (it has no read scope)',
};

/**
 * What integrations see of a case: every field named here, nothing else. Staff free text (the
 * risk note, a closing note) stays on the authenticated case page; a field added to the case
 * view later stays out of the API until it is added here on purpose.
 */
/** The absence for integrations: its dates and whether the therapist is away, not the other clients. */
function absenceForApi(a: NonNullable<CaseView['absence']>) {
  return { absenceId: a.absenceId, openedAt: a.openedAt, expectedReturn: a.expectedReturn, returnedAt: a.returnedAt, away: a.away, sessions: a.sessions.length };
}

export function apiView(view: CaseView) {
  const { closed } = view;
  return {
    caseId: view.caseId,
    absenceId: view.absenceId,
    absence: view.absence ? absenceForApi(view.absence) : undefined,
    therapistAway: view.therapistAway,
    siblingCaseIds: view.siblingCaseIds,
    stage: view.stage,
    status: view.status,
    therapistId: view.therapistId,
    therapistName: view.therapistName,
    clientFirstName: view.clientFirstName,
    preferredContact: view.preferredContact,
    sessionStartsAt: view.sessionStartsAt,
    offeredSlots: view.offeredSlots,
    bookedSlot: view.bookedSlot,
    callbackBy: view.callbackBy,
    expectedReturn: view.expectedReturn,
    withdrawnSlots: view.withdrawnSlots,
    nextDeadline: view.nextDeadline,
    // Staff free text (phone-outcome, acknowledgement and closing notes) stays on the staff page.
    duties: view.duties.map(({ note: _note, ...duty }) => duty),
    escalations: view.escalations.map(({ acknowledgedNote: _note, ...escalation }) => escalation),
    clientMessages: view.clientMessages,
    told: view.told,
    timeline: view.timeline.map(({ note: _note, ...entry }) => entry),
    timelineDropped: view.timelineDropped,
    risk: view.risk,
    records: view.records,
    recordsMode: view.recordsMode,
    recordsUnavailable: view.recordsUnavailable,
    closed: closed ? { by: closed.by, reason: closed.reason, at: closed.at } : undefined,
    sending: view.sending,
  };
}

const callerOf = (res: Response) => res.locals.apiCaller as ApiToken;

/** Whether the token may act for this therapist (every therapist, unless it names some). */
const servesTherapist = (token: ApiToken, therapistId: string) =>
  !token.therapists || token.therapists.includes(therapistId);

function requireScope(scope: ApiScope) {
  return (_req: Request, res: Response, next: NextFunction) => {
    if (callerOf(res).scopes.includes(scope)) return next();
    res.status(403).json({ errors: [{ path: '', message: SCOPE_REFUSALS[scope] }] });
  };
}

export function apiRoutes(ctx: WebContext): Router {
  const router = Router();
  const match = bearerMatcher(ctx.deps.config.auth.apiTokens);

  router.use((req: Request, res: Response, next: NextFunction) => {
    const caller = match(req.get('authorization'));
    if (!caller) {
      res.set('WWW-Authenticate', 'Bearer realm="shortnotice"');
      res.status(401).json({ errors: [{ path: '', message: 'Send an API token: Authorization: Bearer <token>' }] });
      return;
    }
    res.locals.apiCaller = caller;
    next();
  });

  router
    .route('/cancellations')
    // The scope is checked before the body is read: a refused caller costs nothing.
    .post(requireScope('submit'), express.json({ limit: API_BODY_LIMIT, strict: false }), async (req, res) => {
      if (!req.is('application/json')) {
        res
          .status(415)
          .json({
            errors: [{ path: '', message: 'Send the cancellation as JSON, with Content-Type: application/json' }],
          });
        return;
      }
      const parsed = submissionSchema(ctx.now()).safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({ errors: toFieldErrors(parsed.error) });
        return;
      }
      const caller = callerOf(res);
      if (!servesTherapist(caller, parsed.data.therapist.id)) {
        res
          .status(403)
          .json({
            errors: [
              { path: 'therapist.id', message: 'This token may submit cancellations for its own therapists only' },
            ],
          });
        return;
      }
      const emailProblem = staffEmailProblem(parsed.data.therapist.email, ctx.deps.config.auth, 'api');
      if (emailProblem) {
        res.status(400).json({ errors: [{ path: 'therapist.email', message: emailProblem }] });
        return;
      }
      const cases = await ctx.deps.cases.submit(parsed.data);
      ctx.log.info(
        { event: 'cancellations-submitted', caller: `token:${caller.name}`, cases: cases.map((c) => c.caseId) },
        'cancellations submitted through the API',
      );
      res.status(201).json({
        // changesIgnored: this session was submitted before with other details, which still stand;
        // riskRaised: this submission's risk concern was raised on that earlier case.
        cancellations: cases.map(({ caseId, changesIgnored, riskRaised }) => ({
          id: caseId,
          links: { self: `/api/cancellations/${caseId}` },
          ...(changesIgnored ? { changesIgnored } : {}),
          ...(riskRaised ? { riskRaised } : {}),
        })),
      });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/cancellations/:id')
    .get(requireScope('read'), async (req, res) => {
      const view = await ctx.deps.cases.view(req.params.id);
      // Another team's case answers exactly like a case that does not exist.
      if (!view || !servesTherapist(callerOf(res), view.therapistId)) {
        res.status(404).json(notFound);
        return;
      }
      ctx.audit.read({
        who: callerOf(res).name,
        role: 'api-token',
        caseId: view.caseId,
        via: 'api',
        what: 'case view',
      });
      res.json(apiView(view));
    })
    .all(methodNotAllowed('GET, HEAD'));

  // The therapist's absence, reached through one of its cases: a new expected return, or back (issue 11).
  router
    .route('/cancellations/:id/absence')
    .post(requireScope('submit'), express.json({ limit: '2kb', strict: true }), async (req, res) => {
      const parsed = absenceChangeSchema.safeParse(req.body);
      if (!req.is('application/json') || !parsed.success) {
        res.status(400).json({ errors: parsed.success ? [{ path: '', message: 'Send JSON' }] : toFieldErrors(parsed.error) });
        return;
      }
      const view = await ctx.deps.cases.view(req.params.id);
      const caller = callerOf(res);
      // A token limited to some therapists answers for another therapist's case as for no case.
      if (!view || !servesTherapist(caller, view.therapistId)) {
        res.status(404).json(notFound);
        return;
      }
      const by = `token:${caller.name}`;
      const change = parsed.data;
      const outcome =
        'back' in change
          ? await ctx.deps.cases.actOnAbsence(view.caseId, reportBackUpdate, [{ by }], ctx.newUpdateId())
          : await ctx.deps.cases.actOnAbsence(view.caseId, reportAbsenceReturnUpdate, [{ by, expectedReturn: change.expectedReturn }], ctx.newUpdateId());
      if (outcome.kind !== 'done') {
        res.status(409).json({ errors: [{ path: '', message: outcome.kind === 'refused' ? outcome.reason : 'This absence has ended' }] });
        return;
      }
      ctx.log.info({ event: 'absence-changed', caller: by, caseId: view.caseId }, 'absence changed through the API');
      const after = await ctx.deps.cases.view(view.caseId);
      res.status(200).json({ absence: after?.absence ? absenceForApi(after.absence) : null });
    })
    .all(methodNotAllowed('POST'));

  router.use((_req, res) => {
    res.status(404).json({ errors: [{ path: '', message: 'No such endpoint' }] });
  });
  return router;
}

/** `{ "expectedReturn": "2026-12-14" }` when the return moves; `{ "back": true }` when the therapist is back. */
const absenceChangeSchema = z.union([
  z.object({ expectedReturn: z.iso.date({ message: 'Enter a date like 2026-12-14' }) }).strict(),
  z.object({ back: z.literal(true) }).strict(),
]);
