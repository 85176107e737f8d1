/**
 * Words for the staff case page: where a case stands in one sentence that names the client by
 * first name (the workflow's own status deliberately does not, as it shows in the Temporal UI),
 * and plain labels for the workflow's codes.
 */
import type { CaseView, CloseReason, Duty, Owner, RecordName, Stage } from '../shared/case';
import { formatUk, formatUkDate } from '../shared/time';

export const RECORD_LABELS: Record<RecordName, string> = {
  attendance: 'Attendance marked "Appointment Cancelled by Therapist/VHG"',
  clinicalNote: 'Clinical note: when and how the client was told, and what was agreed',
  nextSession: 'Next session added, so the client gets a confirmation',
};

export const CLOSE_REASON_LABELS: Record<CloseReason, string> = {
  'client-withdrew': 'The client withdrew from therapy',
  discharged: 'The client was discharged',
  'handed-over': 'Handed over to another therapist or service',
  other: 'Another reason',
};

export const STAGE_LABELS: Record<Stage, string> = {
  contacting: 'Telling the client',
  'awaiting-choice': "Waiting for the client's choice",
  'awaiting-callback': 'Waiting for a callback',
  'awaiting-phone-outcome': 'Waiting for a phone call',
  'awaiting-follow-up': 'Waiting for a follow-up',
  'awaiting-documentation': 'Waiting for the records',
  completed: 'Complete',
  closed: 'Closed',
};

const CONTACT_LABELS: Record<string, string> = { email: 'email', sms: 'text message', phone: 'phone', voicemail: 'phone (voicemail allowed)' };

export function contactLabel(method: string): string {
  return CONTACT_LABELS[method] ?? method;
}

export function ownerLabel(owner: Owner, view: Pick<CaseView, 'therapistName' | 'clientFirstName'>): string {
  switch (owner) {
    case 'client':
      return view.clientFirstName;
    case 'therapist':
      return view.therapistName;
    case 'support':
      return 'the support team';
    case 'network':
      return 'the clinical network team';
    case 'risk':
      return 'risk duty';
    case 'lead':
      return 'the clinical lead';
    case 'cover':
      return 'the covering clinician';
  }
}

export const teamLabel = (team: Owner) => ownerLabel(team, { therapistName: 'the therapist', clientFirstName: 'the client' });

/** "Waiting for Sam to choose a slot until Thu 27 Nov 14:00." */
export function statusSentence(view: CaseView): string {
  const name = view.clientFirstName;
  const open = view.duties.filter((d) => !d.metAt);
  // The case's main line of work, not an acknowledgement or the records, when there is one.
  const duty = open.find((d) => d.kind !== 'acknowledge' && d.kind !== 'records') ?? open.find((d) => d.kind === 'records') ?? open[0];
  const who = duty ? ownerLabel(duty.owner, view) : view.therapistName;
  const until = duty ? ` until ${formatUk(duty.deadline)}` : '';
  const unacked = view.escalations.filter((e) => !e.acknowledgedAt).length;
  const escalated = unacked > 0 ? ` ${unacked === 1 ? 'An escalation is' : `${unacked} escalations are`} waiting for acknowledgement.` : '';
  let sentence: string;
  switch (view.stage) {
    case 'contacting':
      sentence = `Telling ${name} about the cancellation by ${contactLabel(view.preferredContact)}.`;
      break;
    case 'awaiting-choice':
      sentence = `Waiting for ${name} to choose a slot${until}.`;
      break;
    case 'awaiting-callback':
      sentence = `Waiting for ${who} to call ${name} back to rebook${until}.`;
      break;
    case 'awaiting-phone-outcome':
      sentence = `Waiting for ${who} to phone ${name} about the cancellation${until}.`;
      break;
    case 'awaiting-follow-up':
      sentence = `Waiting for ${who} to agree a new time with ${name}${until}.`;
      break;
    case 'awaiting-documentation': {
      const done = Object.values(view.records).filter((r) => r.done).length;
      const booked = view.bookedSlot ? `${name} is rebooked for ${formatUk(view.bookedSlot)}. ` : '';
      sentence = `${booked}Waiting for ${who} to complete the MPB records (${done} of 3 done)${until}.`;
      break;
    }
    case 'completed':
      sentence = `Complete: ${name} is rebooked${view.bookedSlot ? ` for ${formatUk(view.bookedSlot)}` : ''} and the records are done.`;
      break;
    case 'closed':
      if (view.closed) {
        const by = whoLabel(view.closed.by, staffNames(view), view);
        const why = CLOSE_REASON_LABELS[view.closed.reason].toLowerCase();
        sentence = `Closed by ${by} on ${formatUk(view.closed.at)}: ${why}.`;
      } else sentence = 'Closed.';
      break;
  }
  return sentence + escalated;
}

/** Duties that mean speaking to the client, by phone as often as not. */
const CONTACT_KINDS: readonly Duty['kind'][] = [
  'phone',
  'callback',
  'follow-up',
  'tell-client',
  'confirm-told',
  'rebook',
];

/**
 * The voicemail rule for a duty that means reaching the client, unless its own words already say
 * it: a voicemail only if the client chose it, and then with no clinical details.
 */
export function voicemailRule(
  duty: Pick<Duty, 'kind' | 'what'>,
  view: Pick<CaseView, 'preferredContact'>,
): string | undefined {
  if (!CONTACT_KINDS.includes(duty.kind) || /voicemail/i.test(duty.what)) return undefined;
  return view.preferredContact === 'voicemail'
    ? 'A voicemail may be left (the client chose it): keep it short, with no clinical details.'
    : 'Do not leave a voicemail: the client has not agreed to one.';
}

export function isOpen(view: CaseView): boolean {
  return view.stage !== 'completed' && view.stage !== 'closed';
}

export { formatUk, formatUkDate };

/**
 * The names of the staff a case refers to by reference, from what the case itself recorded (the
 * timeline keeps each actor's name beside their reference).
 */
export function staffNames(view: Pick<CaseView, 'timeline' | 'therapistId' | 'therapistName'>): Map<string, string> {
  const names = new Map<string, string>([[view.therapistId, view.therapistName]]);
  for (const t of view.timeline) if (t.by && t.byName) names.set(t.by, t.byName);
  return names;
}

/** "Jo Patel (LEAD7)" when the name is known, the reference alone otherwise; the client by first name. */
export function whoLabel(
  ref: string | undefined,
  names: Map<string, string>,
  view: Pick<CaseView, 'clientFirstName'>,
): string | undefined {
  if (!ref) return undefined;
  if (ref === 'client') return `${view.clientFirstName} (client)`;
  const name = names.get(ref);
  return name ? `${name} (${ref})` : ref;
}

/** GOV.UK Notify's failure statuses, as a person would say them. */
const DELIVERY_WORDS: Record<string, string> = {
  'permanent-failure': 'the number cannot receive text messages',
  'temporary-failure': 'the phone could not be reached for too long',
  'technical-failure': 'a fault at the text message service',
};

const CHANNEL_WORDS: Record<string, string> = { email: 'email', sms: 'text message' };

export interface TimelineRow {
  at: string;
  text: string;
  /** Who did it: name and reference, or the client. */
  who?: string;
  /** Staff free text (a phone-outcome, close or acknowledgement note): staff pages only. */
  note?: string;
  failed: boolean;
}

/**
 * The timeline in plain English for the staff page, newest first: messages say who they went to
 * and how, Notify's codes become words, the people who acted are named, and an acknowledgement
 * carries the note its author left.
 */
export function timelineRows(view: CaseView): TimelineRow[] {
  const names = staffNames(view);
  return [...view.timeline].reverse().map((t) => {
    // The workflow writes "the <team>" for every team; "the support" and "the risk duty" are not English.
    let text = t.text.replace(/\bthe (support|risk duty)\b/g, '$1');
    const how = t.channel ? ` by ${CHANNEL_WORDS[t.channel] ?? t.channel}` : '';
    text = text
      .replace(/^Client: /, `To ${view.clientFirstName}${how}: `)
      .replace(/^Therapist: /, `To ${view.therapistName}${how}: `)
      .replace(/^Provider: /, `To the provider${how}: `)
      .replace(/^For the client: /, `For ${view.clientFirstName}: `)
      .replace(/^For the therapist: /, `For ${view.therapistName}: `)
      .replace(/^Closed by [^:]+: /, 'Closed: ')
      .replace(/: delivered$/, ' (delivered)')
      .replace(/: not delivered \(([^)]*)\)$/, (_m, why: string) => ` (not delivered: ${DELIVERY_WORDS[why] ?? why})`);
    let note = t.note;
    if (!note && t.by && /^Escalation to .+ acknowledged$/.test(t.text)) {
      const ack = view.escalations.find((e) => e.acknowledgedBy === t.by && e.acknowledgedAt === t.at);
      note = ack?.acknowledgedNote;
    }
    const who = whoLabel(t.by, names, view);
    return { at: t.at, text, who, ...(note ? { note } : {}), failed: t.outcome === 'failed' };
  });
}

export const OUTCOME_LABELS: Record<NonNullable<Duty['outcome']>, string> = {
  met: 'Done',
  'handed-over': 'Handed on',
  waived: 'Waived',
  superseded: 'No longer needed',
};
