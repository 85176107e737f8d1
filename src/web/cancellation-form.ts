/**
 * The therapist's cancellation form: its fields as typed (strings, kept for re-display), their
 * mapping onto the API's submission shape, and the API's error paths mapped back onto fields.
 * Validation is the API's own `submissionSchema`, so the form and the API cannot disagree; only
 * what the API never sees (UK wall-clock date and time fields) is checked here first.
 */
import { CONTACT_METHODS, REASONS, submissionSchema, type Submission } from '../shared/api';
import { normaliseDate, localTimeProblem, ukDateTimeToIso, ukLocalToIso } from './uk-time';

export const MAX_SESSIONS = 50;
export const SLOT_INPUTS = 3;
/** Keeps a hostile or mistaken paste from being echoed back at length. */
const MAX_FIELD_LENGTH = 2_100;

export interface SessionForm {
  id: string;
  startDate: string;
  startTime: string;
  clientRef: string;
  firstName: string;
  contact: string;
  email: string;
  phone: string;
  rebook: string;
  slots: string[];
  callback: string;
  risk: boolean;
  riskNote: string;
}

export interface CancellationForm {
  therapistId: string;
  therapistName: string;
  therapistEmail: string;
  reason: string;
  expectedReturn: string;
  sessions: SessionForm[];
}

export interface FormError {
  /** The id of the field to link to and mark. */
  field: string;
  /** Shown beside the field. */
  message: string;
  /** Shown in the error summary (names the session when there are several). */
  summary: string;
}

export type FormAction = { kind: 'submit' } | { kind: 'add-session' } | { kind: 'remove-session'; index: number };

export function emptySession(): SessionForm {
  return {
    id: '',
    startDate: '',
    startTime: '',
    clientRef: '',
    firstName: '',
    contact: '',
    email: '',
    phone: '',
    rebook: '',
    slots: Array.from({ length: SLOT_INPUTS }, () => ''),
    callback: '',
    risk: false,
    riskNote: '',
  };
}

export function emptyForm(): CancellationForm {
  return { therapistId: '', therapistName: '', therapistEmail: '', reason: '', expectedReturn: '', sessions: [emptySession()] };
}

export const sessionField = (i: number, name: string) => `session-${i}-${name}`;

type Body = Record<string, unknown>;

function text(body: Body, key: string): string {
  const raw = body[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value.slice(0, MAX_FIELD_LENGTH) : '';
}

/** Reads the posted fields; unknown fields are ignored, missing ones are empty. */
export function readForm(body: Body): CancellationForm {
  let count = 1;
  for (const key of Object.keys(body)) {
    const m = /^session-(\d{1,2})-/.exec(key);
    if (m) count = Math.max(count, Number(m[1]) + 1);
  }
  count = Math.min(count, MAX_SESSIONS);
  const sessions = Array.from({ length: count }, (_, i): SessionForm => {
    const f = (name: string) => text(body, sessionField(i, name));
    return {
      id: f('id'),
      startDate: f('start-date'),
      startTime: f('start-time'),
      clientRef: f('client-ref'),
      firstName: f('first-name'),
      contact: f('contact'),
      email: f('email'),
      phone: f('phone'),
      rebook: f('rebook'),
      slots: Array.from({ length: SLOT_INPUTS }, (_, j) => f(`slot-${j}`)),
      callback: f('callback'),
      risk: f('risk') === 'yes',
      riskNote: f('risk-note'),
    };
  });
  return {
    therapistId: text(body, 'therapist-id'),
    therapistName: text(body, 'therapist-name'),
    therapistEmail: text(body, 'therapist-email'),
    reason: text(body, 'reason'),
    expectedReturn: text(body, 'expected-return'),
    sessions,
  };
}

export function readAction(body: Body): FormAction {
  const action = text(body, 'action');
  if (action === 'add-session') return { kind: 'add-session' };
  const m = /^remove-session-(\d{1,2})$/.exec(action);
  if (m) return { kind: 'remove-session', index: Number(m[1]) };
  return { kind: 'submit' };
}

/** UK numbers are usually typed nationally (07700 900123); the API wants +447700900123. */
export function normalisePhone(value: string): string {
  const compact = value.trim().replace(/[\s()-]/g, '');
  const national = /^0(\d{9,10})$/.exec(compact);
  return national ? `+44${national[1]}` : value.trim();
}

const blankToUndefined = (v: string) => (v.trim() === '' ? undefined : v);

/** Messages for required fields left empty, in the words of the form rather than the API. */
const MISSING: Record<string, string> = {
  'therapist-id': 'Enter your therapist reference',
  'therapist-name': 'Enter your name',
  'therapist-email': 'Enter your email address',
  id: 'Enter the session reference',
  'client-ref': 'Enter the client reference',
  'first-name': "Enter the client's first name",
  reason: 'Choose why you are cancelling',
  contact: 'Choose how the client wants to be contacted',
};

interface Built {
  candidate: unknown;
  local: Map<string, string>;
  /** For each session, the input index of each submitted slot (empty inputs are skipped). */
  slotInputs: number[][];
}

function build(form: CancellationForm): Built {
  const local = new Map<string, string>();
  const note = (field: string, message: string) => {
    if (!local.has(field)) local.set(field, message);
  };
  const slotInputs: number[][] = [];
  const sessions = form.sessions.map((s, i) => {
    const start = ukLocalToIso(s.startDate, s.startTime);
    if (!start.ok) {
      note(
        sessionField(i, 'start-date'),
        start.problem === 'missing' ? 'Enter the date and time of the cancelled session' : localTimeProblem(start.problem, 'session time'),
      );
    }
    const inputs: number[] = [];
    slotInputs.push(inputs);
    let rebook: unknown;
    if (s.rebook === 'slots') {
      const slots: string[] = [];
      s.slots.forEach((value, j) => {
        if (!value.trim()) return;
        const slot = ukDateTimeToIso(value);
        if (slot.ok) {
          slots.push(slot.iso);
          inputs.push(j);
        } else {
          note(sessionField(i, `slot-${j}`), localTimeProblem(slot.problem, 'new time'));
        }
      });
      if (slots.length === 0 && !s.slots.some((v) => v.trim())) note(sessionField(i, 'slot-0'), 'Enter at least one new time to offer');
      rebook = { slots };
    } else if (s.rebook === 'callback') {
      const callback = ukDateTimeToIso(s.callback);
      if (!callback.ok) note(sessionField(i, 'callback'), localTimeProblem(callback.problem, 'time you will call back by'));
      rebook = { callbackBy: callback.ok ? callback.iso : '' };
    } else {
      note(sessionField(i, 'rebook'), 'Choose whether to offer new times or to call the client back');
    }
    return {
      id: s.id,
      startsAt: start.ok ? start.iso : '',
      client: {
        ref: s.clientRef,
        firstName: s.firstName,
        preferredContact: (CONTACT_METHODS as readonly string[]).includes(s.contact) ? s.contact : undefined,
        email: blankToUndefined(s.email),
        phone: blankToUndefined(s.phone) && normalisePhone(s.phone),
      },
      rebook,
      risk: s.risk ? { concern: true, note: blankToUndefined(s.riskNote) } : undefined,
    };
  });
  const expectedReturn = blankToUndefined(form.expectedReturn);
  return {
    candidate: {
      therapist: { id: form.therapistId, name: form.therapistName, email: form.therapistEmail },
      reason: (REASONS as readonly string[]).includes(form.reason) ? form.reason : undefined,
      expectedReturn: expectedReturn && normaliseDate(expectedReturn),
      sessions,
    },
    local,
    slotInputs,
  };
}

/** The form field an API error path refers to. */
function fieldFor(path: readonly PropertyKey[], slotInputs: number[][]): string {
  const [top, a, b, c, d] = path;
  if (top === 'therapist') return `therapist-${String(a ?? 'id')}`;
  if (top === 'reason') return 'reason';
  if (top === 'expectedReturn') return 'expected-return';
  if (top !== 'sessions' || typeof a !== 'number') return 'therapist-id';
  const i = a;
  switch (b) {
    case 'id':
      return sessionField(i, 'id');
    case 'startsAt':
      return sessionField(i, 'start-date');
    case 'client': {
      const names: Record<string, string> = { ref: 'client-ref', firstName: 'first-name', preferredContact: 'contact', email: 'email', phone: 'phone' };
      return sessionField(i, names[String(c)] ?? 'client-ref');
    }
    case 'rebook':
      if (c === 'slots') return sessionField(i, `slot-${typeof d === 'number' ? (slotInputs[i]?.[d] ?? 0) : 0}`);
      if (c === 'callbackBy') return sessionField(i, 'callback');
      return sessionField(i, 'rebook');
    case 'risk':
      return sessionField(i, 'risk-note');
    default:
      return sessionField(i, 'id');
  }
}

/** Every field id in page order, so the error summary follows the form. */
function fieldOrder(form: CancellationForm): string[] {
  const order = ['therapist-id', 'therapist-name', 'therapist-email', 'reason', 'expected-return'];
  form.sessions.forEach((_, i) => {
    for (const name of ['id', 'start-date', 'client-ref', 'first-name', 'contact', 'email', 'phone', 'rebook']) order.push(sessionField(i, name));
    for (let j = 0; j < SLOT_INPUTS; j++) order.push(sessionField(i, `slot-${j}`));
    order.push(sessionField(i, 'callback'), sessionField(i, 'risk-note'));
  });
  return order;
}

function valueOf(form: CancellationForm, field: string): string | undefined {
  const top: Record<string, string> = {
    'therapist-id': form.therapistId,
    'therapist-name': form.therapistName,
    'therapist-email': form.therapistEmail,
    reason: form.reason,
  };
  if (field in top) return top[field];
  const m = /^session-(\d+)-(id|client-ref|first-name|contact)$/.exec(field);
  const s = m ? form.sessions[Number(m[1])] : undefined;
  if (!m || !s) return undefined;
  const bySuffix: Record<string, string> = { id: s.id, 'client-ref': s.clientRef, 'first-name': s.firstName, contact: s.contact };
  return bySuffix[m[2]!];
}

export type FormResult = { ok: true; submission: Submission } | { ok: false; errors: FormError[] };

/** Validates the form with the API's schema; errors come back keyed to fields, in page order. */
export function validateForm(form: CancellationForm, now: Date): FormResult {
  const { candidate, local, slotInputs } = build(form);
  const parsed = submissionSchema(now).safeParse(candidate);
  if (parsed.success && local.size === 0) return { ok: true, submission: parsed.data };

  const byField = new Map(local);
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const field = fieldFor(issue.path, slotInputs);
    if (byField.has(field)) continue;
    const kind = field.replace(/^session-\d+-/, '');
    const empty = valueOf(form, field)?.trim() === '';
    byField.set(field, empty && MISSING[kind] ? MISSING[kind] : issue.message);
  }
  const order = fieldOrder(form);
  const several = form.sessions.length > 1;
  const errors = [...byField.entries()]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([field, message]) => {
      const m = /^session-(\d+)-/.exec(field);
      return { field, message, summary: m && several ? `Session ${Number(m[1]) + 1}: ${message}` : message };
    });
  return { ok: false, errors };
}
