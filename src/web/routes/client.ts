/**
 * The client's page, reached from the link in their message. The token is the only key: a bad,
 * altered or expired one gets a calm page with the support number, never a reason that helps a
 * guesser. The page shows the first name at most, and crisis signposting always.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { ActOutcome } from '../../cases';
import { greetingName } from '../../mail/format';
import type { CaseView } from '../../shared/case';
import { chooseSlotUpdate, reportUnhappyUpdate, requestCallUpdate } from '../../shared/messages';
import { readUpdateId } from '../case-actions';
import type { WebContext } from '../context';
import { REFUSED_STATUS, refusalText } from '../refusal';
import { linkBinding, postedToken } from '../security/csrf';
import { methodNotAllowed, refuseForm } from '../security/guards';

type Choice = { kind: 'slot'; slot: string } | { kind: 'call' } | { kind: 'cannot-wait' };

/** Nothing on these pages may be cached or leak the token through a Referer header. */
export function clientHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Robots-Tag': 'noindex, nofollow' });
  next();
}

export function clientRoutes(ctx: WebContext): Router {
  const router = Router();
  router.use('/c', clientHeaders);

  /**
   * The case behind the link, or a calm page. Only a link that opens gets a CSRF token for its
   * forms, bound to the link itself.
   */
  const openLink = async (req: Request, res: Response): Promise<CaseView | undefined> => {
    const token = String(req.params.token ?? '');
    const opened = ctx.deps.links.open(token, 'choose');
    if (!opened.ok) {
      const expired = opened.reason === 'expired';
      // The reason, never the token: a link is a key to a client's page.
      ctx.log.info({ event: 'client-link-refused', reason: opened.reason }, 'a client link did not open');
      ctx.render(res, expired ? 410 : 404, 'client/link-problem.njk', { expired });
      return undefined;
    }
    const view = await ctx.deps.cases.view(opened.link.caseId);
    if (!view) ctx.render(res, 404, 'client/link-problem.njk', { expired: false });
    else res.locals.csrfToken = ctx.csrf.issue(linkBinding(token));
    return view;
  };

  const futureSlots = (view: CaseView) => view.offeredSlots.filter((s) => Date.parse(s) > ctx.now().getTime());

  const showCase = (res: Response, status: number, view: CaseView, error?: { text: string; href: string }, chosen?: string) => {
    const base = { firstName: greetingName(view.clientFirstName), sessionStartsAt: view.sessionStartsAt };
    if (view.bookedSlot) {
      ctx.render(res, status, 'client/already.njk', { ...base, bookedSlot: view.bookedSlot });
      return;
    }
    if (view.stage === 'closed' || view.stage === 'completed') {
      ctx.render(res, status, 'client/already.njk', base);
      return;
    }
    const slots = view.stage === 'awaiting-choice' || view.stage === 'awaiting-follow-up' ? futureSlots(view) : [];
    ctx.render(res, status, 'client/choose.njk', {
      ...base,
      slots,
      canChoose: slots.length > 0,
      // The case's own deadline for the choice, while it stands (issue 15: "choose by").
      chooseBy: view.duties.find((d) => d.kind === 'choose' && !d.metAt)?.deadline,
      callbackBy: view.callbackBy,
      stage: view.stage,
      chosen,
      errorList: error ? [error] : [],
      error: error?.text,
      choiceUpdateId: ctx.newUpdateId(),
      waitUpdateId: ctx.newUpdateId(),
    });
  };

  const route = router.route('/c/:token');
  route.get(async (req, res) => {
    const view = await openLink(req, res);
    if (!view) return;
    // Opening the link shows the client knows of the cancellation: no one need phone to make sure.
    if (!view.told && view.stage !== 'closed' && view.stage !== 'completed') {
      await ctx.deps.cases
        .clientSeen(view.caseId)
        .catch((err: unknown) => ctx.log.warn({ event: 'client-seen-not-recorded', caseId: view.caseId, err }, 'could not record that the client opened their link'));
    }
    showCase(res, 200, view);
  });

  route.post(async (req, res) => {
    const view = await openLink(req, res);
    if (!view) return;
    if (!ctx.csrf.verify(linkBinding(String(req.params.token)), postedToken(req))) {
      refuseForm(ctx, req, res);
      return;
    }
    // A choice has been made already (booked, or the case is over): the link decided once; say so.
    if (view.bookedSlot || view.stage === 'closed' || view.stage === 'completed') {
      showCase(res, 200, view);
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const raw = typeof body.choice === 'string' ? body.choice : '';
    let choice: Choice | undefined;
    if (raw === 'call') choice = { kind: 'call' };
    else if (raw === 'cannot-wait') choice = { kind: 'cannot-wait' };
    else if (futureSlots(view).includes(raw)) choice = { kind: 'slot', slot: raw };
    if (!choice) {
      showCase(res, 422, view, { text: 'Choose a new time, or tell us none of these times suit you', href: '#choice' });
      return;
    }
    const { cases } = ctx.deps;
    const token = String(req.params.token);
    const admission = await ctx.clientActions.admit(token, view.caseId);
    if (admission !== 'ok') {
      ctx.log.warn(
        { event: 'client-actions-limited', caseId: view.caseId, reason: admission },
        'a client link passed its daily bound',
      );
      ctx.render(res, 429, 'error.njk', {
        message:
          'We have had this several times today, and have passed it on. If you need to talk to someone now, call us or use the numbers below.',
        client: true,
      });
      return;
    }
    const repeatable = choice.kind === 'slot' ? undefined : choice.kind;
    if (repeatable && !(await ctx.clientActions.claim(view.caseId, repeatable))) {
      ctx.render(res, 200, 'client/done.njk', {
        firstName: greetingName(view.clientFirstName),
        kind: choice.kind,
        again: true,
      });
      return;
    }
    const updateId = readUpdateId(body) ?? ctx.newUpdateId();
    let outcome: ActOutcome<unknown>;
    try {
      outcome =
        choice.kind === 'slot'
          ? await cases.act(view.caseId, chooseSlotUpdate, [{ slot: choice.slot }], updateId)
          : choice.kind === 'call'
            ? await cases.act(view.caseId, requestCallUpdate, [], updateId)
            : await cases.act(
                view.caseId,
                reportUnhappyUpdate,
                [{ by: 'client', source: 'client', cannotWait: true }],
                updateId,
              );
    } catch (e) {
      // Not passed on (Temporal unreachable, say): the next try must reach the case.
      if (repeatable) await ctx.clientActions.release(view.caseId, repeatable);
      throw e;
    }
    if (outcome.kind !== 'done') {
      if (repeatable) await ctx.clientActions.release(view.caseId, repeatable);
      const fresh = (await cases.view(view.caseId)) ?? view;
      showCase(res, REFUSED_STATUS, fresh, {
        text: refusalText(outcome, 'client'),
        href: choice.kind === 'cannot-wait' ? '#cannot-wait' : '#choice',
      });
      return;
    }
    ctx.render(res, 200, 'client/done.njk', {
      firstName: greetingName(view.clientFirstName),
      kind: choice.kind,
      slot: choice.kind === 'slot' ? choice.slot : undefined,
    });
  });
  route.all(methodNotAllowed('GET, HEAD, POST'));

  return router;
}
