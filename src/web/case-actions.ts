/**
 * The staff actions on a case page. Each form posts to /cancellations/:id/actions/<name>; its
 * fields are parsed here into the arguments of one Workflow Update, so the workflow's validator
 * has the last word and a refusal comes back with its reason.
 */
import { z } from 'zod';
import { CLOSE_REASONS, RECORDS, type CaseView, type CloseReason, type RecordName } from '../shared/case';
import type { UpdateDefinition } from '@temporalio/common';
import { assignCoverUpdate, reportAbsenceReturnUpdate, reportBackUpdate } from '../shared/absence';
import {
  acknowledgeEscalationUpdate,
  closeCaseUpdate,
  confirmRecordUpdate,
  raiseRiskUpdate,
  recordPhoneOutcomeUpdate,
  recordRebookingUpdate,
  reportRecordsUnavailableUpdate,
  reportUnhappyUpdate,
} from '../shared/messages';
import type { WorkflowHandle } from '@temporalio/client';
import type { StaffRole } from '../config';
import type { StaffUser } from './security/session';
import { isOpen } from './case-status';
import { partsFromSingle, partsProblem, partsToDate, partsToIso, type DateTimeParts } from './uk-time';

export type CaseHandle = Pick<WorkflowHandle, 'executeUpdate'>;

export const ACTION_NAMES = [
  'phone-outcome',
  'rebooking',
  'absence',
  'back',
  'cover',
  'confirm-record',
  'records-unavailable',
  'risk',
  'unhappy',
  'acknowledge',
  'close',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export function isActionName(value: string): value is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(value);
}

/** What the page says after an action went through. */
export const ACTION_DONE: Record<ActionName, string> = {
  'phone-outcome': 'Phone outcome recorded.',
  rebooking: 'Rebooking recorded.',
  absence: 'Expected return updated. Every client of the absence and the provider will be told.',
  back: 'Recorded that the therapist is back. Their calls and follow-ups come back to them.',
  cover: 'Cover recorded. The therapist\'s calls and follow-ups go to them while the therapist is away.',
  'confirm-record': 'Record confirmed.',
  'records-unavailable': 'Support has been asked to add the records for you.',
  risk: 'Risk concern raised. An alert is on its way to risk duty: see Escalations for its delivery.',
  unhappy: 'Escalated to the clinical network team.',
  acknowledge: 'Escalation acknowledged.',
  close: 'Case closed.',
};

export type ActionValues = Record<string, string>;

/** What an action does: one Workflow Update, on the case or on the therapist's absence. */
export interface ActionCommand {
  update: UpdateDefinition<unknown, unknown[]>;
  args: unknown[];
  target: 'case' | 'absence';
}

export type ParsedAction = ({ ok: true } & ActionCommand) | { ok: false; errors: Record<string, string> };

const MULTI_LINE = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/u;

const note = z.string().trim().max(1000, 'The note must be 1000 characters or fewer').regex(MULTI_LINE, 'Remove control characters from the note');

/** Field ids are unique on the page: every action's fields are prefixed with its name. */
export const actionField = (action: ActionName, name: string) => `${action}-${name}`;

/**
 * The fields each action's form posts, by name. Who acted (`by`) is never a field: it is the
 * signed-in member of staff.
 */
export const ACTION_FIELDS: Record<ActionName, string[]> = {
  'phone-outcome': ['reached', 'new-time', 'callback', 'note', 'hand-over'],
  rebooking: ['slot'],
  absence: ['expected-return'],
  back: [],
  cover: ['cover-ref', 'cover-name', 'cover-email', 'cover-clear'],
  'confirm-record': ['record'],
  'records-unavailable': [],
  risk: ['note'],
  unhappy: ['kind'],
  acknowledge: ['escalation', 'note'],
  close: ['reason', 'note', 'risk-disposition', 'records-waiver'],
};

/** Actions only a clinical lead may take. */
export const LEAD_ONLY_ACTIONS: readonly ActionName[] = ['close'];
/** Actions a therapist may not take, even on their own case. */
export const NOT_FOR_THERAPISTS: readonly ActionName[] = ['acknowledge', 'close', 'cover'];

/**
 * A clinical lead may take every action; the escalation team (risk duty, the clinical network
 * team, support) every action but closing; a therapist neither closing nor acknowledging.
 * Which cases each may act on is canSeeCase's rule.
 */
export function mayTake(role: StaffRole, action: ActionName): boolean {
  switch (role) {
    case 'clinical-lead':
      return true;
    case 'escalation-team':
      return !LEAD_ONLY_ACTIONS.includes(action);
    case 'therapist':
      return !NOT_FOR_THERAPISTS.includes(action);
    default:
      return false;
  }
}

/** Fields asked as a date (and time): the NHS.UK date input's boxes, posted as <name>-day and so on. */
export const DATE_FIELDS: readonly string[] = ['new-time', 'callback', 'slot', 'expected-return'];

/** Where an error summary's link for a field lands: a date input's first box. */
export function actionAnchor(field: string): string {
  return DATE_FIELDS.some((f) => field.endsWith(`-${f}`)) ? `${field}-day` : field;
}

export function readActionValues(action: ActionName, body: Record<string, unknown>): ActionValues {
  const values: ActionValues = {};
  const read = (name: string) => {
    const raw = body[name];
    const v = Array.isArray(raw) ? raw[0] : raw;
    values[name] = typeof v === 'string' ? v.slice(0, 2_100) : '';
  };
  for (const name of ACTION_FIELDS[action]) {
    read(name);
    if (DATE_FIELDS.includes(name)) for (const box of ['day', 'month', 'year', 'time']) read(`${name}-${box}`);
  }
  return values;
}

/** A date field's boxes as typed, or what an older page posted as one value. */
export function dateParts(values: ActionValues, name: string): DateTimeParts {
  const box = (b: string) => values[`${name}-${b}`] ?? '';
  const parts = { day: box('day'), month: box('month'), year: box('year'), time: box('time') };
  const typed = parts.day.trim() || parts.month.trim() || parts.year.trim() || parts.time.trim();
  return !typed && values[name]?.trim() ? partsFromSingle(values[name]!) : parts;
}

const isBlank = (p: DateTimeParts) => !p.day.trim() && !p.month.trim() && !p.year.trim() && !p.time.trim();

/** The signed-in member of staff as the workflow records them: reference, role and team. */
export type Acting = Pick<StaffUser, 'ref' | 'role'> & { name?: string; team?: 'network' | 'risk' | 'support' };

/** Parses an action's posted fields into the Workflow Update it performs, recorded as `acting`. */
export function parseAction(action: ActionName, values: ActionValues, acting: Acting): ParsedAction {
  const who = acting.ref;
  const actor = { by: acting.ref, ...(acting.name ? { name: acting.name } : {}), role: acting.role, ...(acting.team ? { team: acting.team } : {}) };
  const errors: Record<string, string> = {};
  const fail = (name: string, message: string) => {
    errors[actionField(action, name)] ??= message;
  };
  const optionalText = (name: string) => {
    const n = note.safeParse(values[name] ?? '');
    if (!n.success) fail(name, n.error.issues[0]!.message);
    return n.success && n.data ? n.data : undefined;
  };
  const optionalNote = () => optionalText('note');
  const instant = (name: string, what: string) => {
    const r = partsToIso(dateParts(values, name));
    if (!r.ok) fail(name, partsProblem(r.problem, what));
    return r.ok ? r.value : '';
  };
  const done = <A extends unknown[]>(update: UpdateDefinition<unknown, A>, args: A, target: 'case' | 'absence' = 'case'): ParsedAction =>
    Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, update: update as unknown as UpdateDefinition<unknown, unknown[]>, args, target };

  switch (action) {
    case 'phone-outcome': {
      const reached = values.reached;
      if (reached !== 'yes' && reached !== 'no') fail('reached', 'Say whether you reached the client');
      const hasNew = !isBlank(dateParts(values, 'new-time'));
      const hasCallback = !isBlank(dateParts(values, 'callback'));
      let rebookedSlot: string | undefined;
      let callbackBy: string | undefined;
      if (reached === 'yes') {
        if (hasNew && hasCallback) fail('new-time', 'Enter a new session time or a callback time, not both');
        else if (!hasNew && !hasCallback) fail('new-time', 'Enter the new session time, or when you will call the client back');
        else if (hasNew) rebookedSlot = instant('new-time', 'the new session time');
        else callbackBy = instant('callback', 'the time you will call back by');
      }
      const text = optionalNote();
      return done(recordPhoneOutcomeUpdate, [
        { ...actor, reached: reached === 'yes', rebookedSlot, callbackBy, note: text, ...(reached === 'no' && values['hand-over'] === 'yes' ? { handOver: true } : {}) },
      ]);
    }
    case 'rebooking': {
      const slot = instant('slot', 'the new session time');
      return done(recordRebookingUpdate, [{ ...actor, slot }]);
    }
    case 'absence': {
      const r = partsToDate(dateParts(values, 'expected-return'));
      if (!r.ok) {
        const words = partsProblem(r.problem, 'the date of your expected return', false);
        fail('expected-return', r.problem === 'missing' ? 'Enter the date you now expect to return' : words);
      }
      const date = r.ok ? r.value : '';
      return done(reportAbsenceReturnUpdate, [{ by: who, ...(acting.name ? { name: acting.name } : {}), expectedReturn: date }], 'absence');
    }
    case 'back':
      return done(reportBackUpdate, [{ by: who, ...(acting.name ? { name: acting.name } : {}) }], 'absence');
    case 'cover': {
      if (values['cover-clear'] === 'yes') return done(assignCoverUpdate, [{ by: who }], 'absence');
      const ref = (values['cover-ref'] ?? '').trim();
      const name = (values['cover-name'] ?? '').trim();
      const email = (values['cover-email'] ?? '').trim().toLowerCase();
      if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/.test(ref)) fail('cover-ref', "Enter the covering clinician's staff reference");
      if (!name || name.length > 100 || /[\u0000-\u001f]/.test(name)) fail('cover-name', "Enter the covering clinician's name");
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) fail('cover-email', "Enter the covering clinician's work email address");
      return done(assignCoverUpdate, [{ by: who, cover: { ref, name, email } }], 'absence');
    }
    case 'confirm-record': {
      const record = values.record as RecordName;
      if (!RECORDS.includes(record)) fail('record', 'Choose the record you have added to MPB');
      return done(confirmRecordUpdate, [{ ...actor, record }]);
    }
    case 'records-unavailable':
      return done(reportRecordsUnavailableUpdate, [actor]);
    case 'risk': {
      // Recorded as raised by the role of whoever raised it, not always "the therapist".
      const text = optionalNote();
      return done(raiseRiskUpdate, [{ by: who, ...(acting.name ? { name: acting.name } : {}), source: acting.role, ...(text ? { note: text } : {}) }]);
    }
    case 'unhappy': {
      const kind = values.kind;
      if (kind !== 'unhappy' && kind !== 'cannot-wait') fail('kind', 'Choose what the client told you');
      return done(reportUnhappyUpdate, [{ by: who, source: 'therapist', cannotWait: kind === 'cannot-wait' }]);
    }
    case 'acknowledge': {
      const escalationId = (values.escalation ?? '').trim();
      if (!/^esc-\d{1,9}$/.test(escalationId)) fail('escalation', 'Choose the escalation you are acknowledging');
      const text = optionalNote();
      return done(acknowledgeEscalationUpdate, [{ ...actor, escalationId, ...(text ? { note: text } : {}) }]);
    }
    case 'close': {
      const reason = values.reason as CloseReason;
      if (!CLOSE_REASONS.includes(reason)) fail('reason', 'Choose why you are closing the case');
      const text = optionalNote();
      const riskDisposition = optionalText('risk-disposition');
      const recordsWaiver = optionalText('records-waiver');
      return done(closeCaseUpdate, [{ ...actor, reason, note: text, ...(riskDisposition ? { riskDisposition } : {}), ...(recordsWaiver ? { recordsWaiver } : {}) }]);
    }
  }
}

/** The actions worth offering for the case as it stands; the workflow still checks each one. */
export function availableActions(view: CaseView): ActionName[] {
  const open = isOpen(view);
  const shown: ActionName[] = [];
  if (view.escalations.some((e) => !e.acknowledgedAt)) shown.push('acknowledge');
  if (!open) return shown;
  if (!view.bookedSlot) shown.push('phone-outcome', 'rebooking');
  shown.push('absence');
  if (view.absence?.away) shown.push('back', 'cover');
  if (Object.values(view.records).some((r) => !r.done)) shown.push('confirm-record');
  if (!view.recordsUnavailable) shown.push('records-unavailable');
  shown.push('risk', 'unhappy', 'close');
  return shown;
}

/** Update ids are random per rendered form; anything else posted is replaced. */
export function readUpdateId(body: Record<string, unknown>): string | undefined {
  const v = body.updateId;
  return typeof v === 'string' && /^[A-Za-z0-9-]{16,64}$/.test(v) ? v : undefined;
}
