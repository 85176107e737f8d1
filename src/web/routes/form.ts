/**
 * The therapist's form: GET shows it, POST either changes the number of sessions (so "add
 * another session" works without JavaScript) or validates and submits, through the same schema
 * as the API.
 */
import { Router } from 'express';
import { formatUk } from '../../shared/time';
import {
  emptyForm,
  emptySession,
  fieldAnchor,
  MAX_SESSIONS,
  readAction,
  readForm,
  validateForm,
  type CancellationForm,
  type FormError,
} from '../cancellation-form';
import type { WebContext } from '../context';
import { staffOf } from '../security/auth';
import { methodNotAllowed, staffOnly } from '../security/guards';
import type { StaffUser } from '../security/session';
import { idpEmail, staffEmailProblem } from '../security/staff-email';

/**
 * A therapist cancels their own sessions: their reference is the signed-in one, whatever the
 * form says (their name and email start from their account and may be corrected). A clinical
 * lead cancels on a therapist's behalf and fills in all three. The escalation team works on
 * cases already open and does not cancel sessions.
 */
const MAY_CANCEL = ['therapist', 'clinical-lead'] as const;
function asSignedIn(form: CancellationForm, user: StaffUser): CancellationForm {
  if (user.role !== 'therapist') return form;
  // Under OIDC a therapist's own address comes from the identity provider, whatever was typed:
  // their call tasks carry clients' phone numbers (S10).
  const email = idpEmail(user);
  return { ...form, therapistId: user.ref, ...(email ? { therapistEmail: email } : {}) };
}

export function formRoutes(ctx: WebContext): Router {
  const router = Router();

  const show = (res: Parameters<WebContext['render']>[0], status: number, form: CancellationForm, errors: FormError[] = []) =>
    ctx.render(res, status, 'cancellation-form.njk', {
      form,
      // A lead cancels for a therapist: the form says "the therapist" where it means them.
      therapistFixed: staffOf(res).role === 'therapist',
      emailFixed: idpEmail(staffOf(res)) !== undefined,
      errors: Object.fromEntries(errors.map((e) => [e.field, e.message])),
      errorList: errors.map((e) => ({ text: e.summary, href: `#${fieldAnchor(e.field)}` })),
      maxSessions: MAX_SESSIONS,
    });

  router
    .route('/cancellations/new')
    .get(...staffOnly(ctx, MAY_CANCEL), (_req, res) => {
      const user = staffOf(res);
      const form = emptyForm();
      if (user.role === 'therapist') Object.assign(form, { therapistId: user.ref, therapistName: user.name, therapistEmail: user.email ?? '' });
      show(res, 200, form);
    })
    .all(methodNotAllowed('GET, HEAD'));

  router.route('/cancellations').post(...staffOnly(ctx, MAY_CANCEL), async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const user = staffOf(res);
    const form = asSignedIn(readForm(body), user);
    const action = readAction(body);
    if (action.kind === 'add-session') {
      if (form.sessions.length < MAX_SESSIONS) form.sessions.push(emptySession());
      show(res, 200, form);
      return;
    }
    if (action.kind === 'remove-session') {
      if (form.sessions.length > 1) form.sessions.splice(action.index, 1);
      show(res, 200, form);
      return;
    }
    const result = validateForm(form, ctx.now(), user.role === 'therapist' ? 'therapist' : 'lead');
    if (!result.ok) {
      show(res, 422, form, result.errors);
      return;
    }
    const { email } = result.submission.therapist;
    const emailProblem = idpEmail(user) ? undefined : staffEmailProblem(email, ctx.deps.config.auth, 'form');
    if (emailProblem) {
      show(res, 422, form, [{ field: 'therapist-email', message: emailProblem, summary: emailProblem }]);
      return;
    }
    const cases = await ctx.deps.cases.submit(result.submission);
    ctx.log.info({ event: 'cancellations-submitted', staffRef: user.ref, cases: cases.map((c) => c.caseId) }, 'cancellations submitted from the form');
    ctx.render(res, 200, 'cancellation-confirmation.njk', {
      therapistName: result.submission.therapist.name,
      forTherapist: user.role !== 'therapist',
      cases: result.submission.sessions.map((s, i) => ({
        caseId: cases[i]?.caseId,
        changesIgnored: cases[i]?.changesIgnored === true,
        riskRaised: cases[i]?.riskRaised === true,
        sessionRef: s.id,
        sessionTime: formatUk(s.startsAt),
        firstName: s.client.firstName,
        rebook: 'slots' in s.rebook ? `${s.rebook.slots.length} new time${s.rebook.slots.length === 1 ? '' : 's'} offered` : `Callback by ${formatUk(s.rebook.callbackBy)}`,
        risk: s.risk?.concern === true,
      })),
    });
  }).all(methodNotAllowed('GET, HEAD, POST'));

  return router;
}
