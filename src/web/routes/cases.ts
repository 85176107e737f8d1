/**
 * The staff case page and its actions. Every action is a Workflow Update: a field problem is
 * caught here (422), a refusal by the workflow comes back with its reason (409), and success
 * redirects to the page so a refresh cannot repeat it.
 */
import { Router, type Response } from 'express';
import { CLOSE_REASONS, RECORDS, type CaseView } from '../../shared/case';
import {
  ACTION_DONE,
  ACTION_FIELDS,
  actionAnchor,
  actionField,
  availableActions,
  isActionName,
  mayTake,
  parseAction,
  readActionValues,
  readUpdateId,
  type ActionName,
  type ActionValues,
} from '../case-actions';
import {
  CLOSE_REASON_LABELS,
  contactLabel,
  isOpen,
  OUTCOME_LABELS,
  RECORD_LABELS,
  STAGE_LABELS,
  staffNames,
  statusSentence,
  teamLabel,
  timelineRows,
  voicemailRule,
  whoLabel,
} from '../case-status';
import { otherSessions } from '../case-views';
import type { WebContext } from '../context';
import { REFUSED_STATUS, refusalText } from '../refusal';
import { canSeeCase, staffOf } from '../security/auth';
import { methodNotAllowed, staffOnly } from '../security/guards';
import type { StaffUser } from '../security/session';
import { uiWorkflowUrl } from '../../ops/visibility';
import { caseWorkflowId } from '../../shared/ids';

interface ActionState {
  values: ActionValues;
  errors: Record<string, string>;
}

interface PageExtras {
  action?: ActionName;
  state?: ActionState;
  errorList?: { text: string; href: string }[];
  done?: string;
}

export function caseRoutes(ctx: WebContext): Router {
  const router = Router();

  const renderCase = async (res: Response, status: number, view: CaseView, extras: PageExtras = {}) => {
    const forms: Record<string, ActionState & { updateId: string }> = {};
    const user = staffOf(res);
    const role = user.role;
    ctx.audit.read({ who: user.ref, role, caseId: view.caseId, via: 'page', what: 'case page' });
    for (const name of availableActions(view).filter((a) => mayTake(role, a))) {
      const kept = extras.action === name ? extras.state : undefined;
      forms[name] = { updateId: ctx.newUpdateId(), values: kept?.values ?? {}, errors: kept?.errors ?? {} };
    }
    // The other sessions of the absence, named: each is a read of that client's case too.
    const siblings = await otherSessions(view, ctx.deps.cases);
    for (const s of siblings) {
      if (!s.clientFirstName) continue;
      const what = 'named as another session of the absence';
      ctx.audit.read({ who: user.ref, role, caseId: s.caseId, via: 'page', what });
    }
    const names = staffNames(view);
    if (user.name) names.set(user.ref, user.name);
    const who = (ref: string | undefined) => whoLabel(ref, names, view);
    const open = isOpen(view);
    const openDuties = view.duties.filter((d) => !d.metAt);
    // Staff who may have to phone the client see how to reach them (D3); the read is recorded.
    const showContact = user.role === 'clinical-lead' || user.role === 'escalation-team';
    if (showContact) ctx.audit.read({ who: user.ref, role: user.role, caseId: view.caseId, via: 'page', what: 'client contact details' });
    const riskAlerts = view.escalations.filter((e) => e.team === 'risk');
    const { uiUrl, namespace } = ctx.deps.config.temporal;
    const recordWaiver = view.closed?.recordsWaiver;
    ctx.render(res, status, 'case.njk', {
      view,
      // Leads read cases in the Web UI too (the codec decodes only for them).
      webUiUrl:
        user.role === 'clinical-lead' ? uiWorkflowUrl(uiUrl, namespace, caseWorkflowId(view.caseId)) : undefined,
      // What the therapist wrote about the risk: for staff who may see this case only (auto-escaped).
      riskNote: canSeeCase(user, view) ? view.riskNote : undefined,
      contactDetails: showContact ? view.clientContact : undefined,
      voicemailAllowed: view.preferredContact === 'voicemail',
      riskAlerts: riskAlerts.map((e) => ({
        ...e,
        teamLabel: teamLabel(e.team),
        acknowledgedByName: who(e.acknowledgedBy),
      })),
      unackedRisk: riskAlerts.some((e) => !e.acknowledgedAt),
      recordsOwed: view.duties.some((d) => !d.metAt && d.kind === 'records'),
      stageLabels: STAGE_LABELS,
      noticeLabels: NOTICE_LABELS,
      status: statusSentence(view),
      stageLabel: STAGE_LABELS[view.stage],
      contact: contactLabel(view.preferredContact),
      open,
      siblings,
      openDuties: openDuties.map((d) => ({
        ...d,
        ownerLabel: d.owner === 'client' ? `${view.clientFirstName} (client)` : teamLabelFor(d.owner, view),
        voicemail: voicemailRule(d, view),
      })),
      // What was settled, and how: done, handed on, waived (with the reason) or no longer needed.
      settledDuties: view.duties
        .filter((d) => d.metAt)
        .map((d) => ({ ...d, outcomeLabel: OUTCOME_LABELS[d.outcome ?? 'met'], metByName: who(d.metBy) }))
        .reverse(),
      closed: view.closed
        ? {
            ...view.closed,
            byName: who(view.closed.by),
            reasonLabel: CLOSE_REASON_LABELS[view.closed.reason],
          }
        : undefined,
      escalations: [...view.escalations].reverse().map((e) => ({
        ...e,
        teamLabel: teamLabel(e.team),
        deliveryLabel: DELIVERY_LABELS[e.delivery],
        acknowledgedByName: who(e.acknowledgedBy),
      })),
      unackedEscalations: view.escalations
        .filter((e) => !e.acknowledgedAt)
        .map((e) => ({ value: e.id, text: `${teamLabel(e.team)}: ${e.reason}` })),
      unacked: view.escalations.filter((e) => !e.acknowledgedAt).length,
      // A closed case says which records were waived, and why, instead of "To do".
      records: RECORDS.map((r) => ({
        name: r,
        label: RECORD_LABELS[r],
        ...view.records[r],
        byName: who(view.records[r].by),
        waived: !open && !view.records[r].done,
      })),
      recordWaiver,
      undoneRecords: RECORDS.filter((r) => !view.records[r].done).map((r) => ({ value: r, text: RECORD_LABELS[r] })),
      closeReasons: CLOSE_REASONS.map((r) => ({ value: r, text: CLOSE_REASON_LABELS[r] })),
      timeline: timelineRows(view),
      forms,
      errorList: extras.errorList ?? [],
      openAction: extras.errorList?.length ? extras.action : undefined,
      done: extras.done,
    });
  };

  /**
   * The case, if this member of staff may see it. Another therapist's case answers exactly as a
   * case that does not exist, so its id reveals nothing.
   */
  const visibleCase = async (user: StaffUser, id: string): Promise<CaseView | undefined> => {
    const view = await ctx.deps.cases.view(id);
    if (view && !canSeeCase(user, view)) {
      ctx.log.warn({ event: 'case-refused', caseId: id, staffRef: user.ref }, 'a therapist asked for a case that is not theirs');
      return undefined;
    }
    return view;
  };

  router.route('/cancellations/:id').get(...staffOnly(ctx), async (req, res) => {
    const view = await visibleCase(staffOf(res), req.params.id);
    if (!view) {
      ctx.render(res, 404, 'not-found.njk', { what: 'case' });
      return;
    }
    const done = typeof req.query.done === 'string' && isActionName(req.query.done) ? ACTION_DONE[req.query.done] : undefined;
    await renderCase(res, 200, view, { done });
  }).all(methodNotAllowed('GET, HEAD'));

  router.route('/cancellations/:id/actions/:action').post(...staffOnly(ctx), async (req, res) => {
    const { id, action } = req.params;
    const user = staffOf(res);
    const view = isActionName(action) ? await visibleCase(user, id) : undefined;
    if (!view || !isActionName(action)) {
      ctx.render(res, 404, 'not-found.njk', { what: 'case' });
      return;
    }
    if (!mayTake(user.role, action)) {
      const message =
        action === 'close'
          ? 'Only a clinical lead can close a case.'
          : action === 'cover'
            ? 'Only a clinical lead or the escalation team can arrange cover.'
            : 'Only a clinical lead or the escalation team can acknowledge escalations.';
      ctx.render(res, 403, 'auth/problem.njk', { title: 'You cannot do this', message });
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = readActionValues(action, body);
    const parsed = parseAction(action, values, { ref: user.ref, name: user.name, role: user.role, team: user.team });
    if (!parsed.ok) {
      const order = ACTION_FIELDS[action].map((f) => actionField(action, f));
      const errorList = Object.entries(parsed.errors)
        .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
        .map(([field, text]) => ({ text, href: `#${actionAnchor(field)}` }));
      await renderCase(res, 422, view, { action, state: { values, errors: parsed.errors }, errorList });
      return;
    }
    const updateId = readUpdateId(body) ?? ctx.newUpdateId();
    const outcome =
      parsed.target === 'absence'
        ? await ctx.deps.cases.actOnAbsence(id, parsed.update, parsed.args, updateId)
        : await ctx.deps.cases.act(id, parsed.update, parsed.args, updateId);
    if (outcome.kind !== 'done') {
      const fresh = (await ctx.deps.cases.view(id)) ?? view;
      const errorList = [{ text: refusalText(outcome, 'staff'), href: `#action-${action}` }];
      await renderCase(res, REFUSED_STATUS, fresh, { action, state: { values, errors: {} }, errorList });
      return;
    }
    // The team's queue acknowledges from the list, and goes back to it.
    const backToList = action === 'acknowledge' && body.return === 'list';
    res.redirect(303, backToList ? '/cancellations?done=acknowledge' : `/cancellations/${encodeURIComponent(id)}?done=${action}`);
  }).all(methodNotAllowed('POST'));

  return router;
}

const NOTICE_LABELS: Record<string, string> = {
  absenceStarted: 'the absence began',
  absenceExtended: 'the absence was extended',
  absenceShortened: 'the therapist is back sooner',
  absenceOverrun: 'the expected return passed with no news',
  absenceEnded: 'the therapist is back',
  significant: 'a significant absence',
};

const DELIVERY_LABELS: Record<CaseView['escalations'][number]['delivery'], string> = {
  sending: 'Sending',
  accepted: 'Sent (accepted by the mail server)',
  delivered: 'Delivered',
  failed: 'Not delivered',
};

function teamLabelFor(owner: CaseView['duties'][number]['owner'], view: CaseView): string {
  return owner === 'therapist' ? `${view.therapistName} (therapist)` : teamLabel(owner);
}
