/**
 * The therapist's cancellation form: its fields as typed (strings, kept for re-display), their
 * mapping onto the API's submission shape, and the API's error paths mapped back onto fields.
 * Validation is the API's own `submissionSchema`, so the form and the API cannot disagree; only
 * what the API never sees (UK wall-clock date and time fields) is checked here first.
 */
import { CONTACT_METHODS, REASONS, submissionSchema, type Submission } from '../shared/api';
import {
  emptyDate,
  emptyDateTime,
  partsFromSingle,
  partsProblem,
  partsToDate,
  partsToIso,
  type DateParts,
  type DateTimeParts,
} from './uk-time';

export const MAX_SESSIONS = 50;
export const SLOT_INPUTS = 3;
/** Keeps a hostile or mistaken paste from being echoed back at length. */
const MAX_FIELD_LENGTH = 2_100;

export interface SessionForm {
  id: string;
  /** The NHS.UK date input (day, month, year) and a 24-hour time, as typed. */
  start: DateTimeParts;
  clientRef: string;
  firstName: string;
  contact: string;
  email: string;
  phone: string;
  rebook: string;
  slots: DateTimeParts[];
  callback: DateTimeParts;
  risk: boolean;
  riskNote: string;
}

export interface CancellationForm {
  therapistId: string;
  therapistName: string;
  therapistEmail: string;
  reason: string;
  expectedReturn: DateParts;
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
    start: emptyDateTime(),
    clientRef: '',
    firstName: '',
    contact: '',
    email: '',
    phone: '',
    rebook: '',
    slots: Array.from({ length: SLOT_INPUTS }, () => emptyDateTime()),
    callback: emptyDateTime(),
    risk: false,
    riskNote: '',
  };
}

export function emptyForm(): CancellationForm {
  return {
    therapistId: '',
    therapistName: '',
    therapistEmail: '',
    reason: '',
    expectedReturn: emptyDate(),
    sessions: [emptySession()],
  };
}

export const sessionField = (i: number, name: string) => `session-${i}-${name}`;

type Body = Record<string, unknown>;

function text(body: Body, key: string): string {
  const raw = body[key];
  const value = Array.isArray(raw) ? raw[0] : raw;
  return typeof value === 'string' ? value.slice(0, MAX_FIELD_LENGTH) : '';
}

/**
 * A date and time as posted: `<prefix>-day`, `-month`, `-year` and `-time`. A page rendered before
 * the form had the NHS.UK date input posted one field (`legacy`, a date picker's or
 * datetime-local's value): it is still read, so nobody's half-filled form is lost.
 */
function dateTimeOf(body: Body, prefix: string, legacy: string, legacyTime?: string): DateTimeParts {
  const parts = {
    day: text(body, `${prefix}-day`),
    month: text(body, `${prefix}-month`),
    year: text(body, `${prefix}-year`),
    time: text(body, `${prefix}-time`),
  };
  if (parts.day || parts.month || parts.year || !text(body, legacy)) return parts;
  const old = partsFromSingle(text(body, legacy));
  return { ...old, time: (legacyTime ? text(body, legacyTime) : '') || old.time || parts.time };
}

function dateOf(body: Body, prefix: string): DateParts {
  const { day, month, year } = dateTimeOf(body, prefix, prefix);
  return { day, month, year };
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
    const at = (name: string) => sessionField(i, name);
    return {
      id: f('id'),
      start: dateTimeOf(body, at('start'), at('start-date'), at('start-time')),
      clientRef: f('client-ref'),
      firstName: f('first-name'),
      contact: f('contact'),
      email: f('email'),
      phone: f('phone'),
      rebook: f('rebook'),
      slots: Array.from({ length: SLOT_INPUTS }, (_, j) => dateTimeOf(body, at(`slot-${j}`), at(`slot-${j}`))),
      callback: dateTimeOf(body, at('callback'), at('callback')),
      risk: f('risk') === 'yes',
      riskNote: f('risk-note'),
    };
  });
  return {
    therapistId: text(body, 'therapist-id'),
    therapistName: text(body, 'therapist-name'),
    therapistEmail: text(body, 'therapist-email'),
    reason: text(body, 'reason'),
    expectedReturn: dateOf(body, 'expected-return'),
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

/**
 * UK numbers are usually typed nationally (07700 900123), sometimes as +44 (0)7700 900123, 0044
 * 7700 900123 or 447700900123; the API wants +447700900123. Anything else is passed on as typed,
 * for the API's own check.
 */
export function normalisePhone(value: string): string {
  const compact = value
    .trim()
    .replace(/^\+44\s*\(0\)/, '+44')
    .replace(/[\s().-]/g, '');
  const national = /^0(\d{9,10})$/.exec(compact);
  if (national) return `+44${national[1]}`;
  const international = /^(?:\+|00)(\d{8,15})$/.exec(compact);
  if (international) return `+${international[1]}`;
  if (/^44\d{10}$/.test(compact)) return `+${compact}`;
  return value.trim();
}

const blankToUndefined = (v: string) => (v.trim() === '' ? undefined : v);

/** Who fills in the form: the therapist about themselves, or a clinical lead for a therapist. */
export type FormVoice = 'therapist' | 'lead';

/** Messages for required fields left empty, in the words of the form rather than the API. */
function missing(voice: FormVoice): Record<string, string> {
  const lead = voice === 'lead';
  return {
    'therapist-id': lead ? "Enter the therapist's reference" : 'Enter your therapist reference',
    'therapist-name': lead ? "Enter the therapist's name" : 'Enter your name',
    'therapist-email': lead ? "Enter the therapist's work email address" : 'Enter your email address',
    id: 'Enter the session reference',
    'client-ref': 'Enter the client reference',
    'first-name': "Enter the client's first name",
    reason: lead ? 'Choose why the therapist is cancelling' : 'Choose why you are cancelling',
    contact: 'Choose how the client wants to be contacted',
  };
}

const CONTACT_WORDS: Record<string, string> = {
  sms: 'text messages',
  phone: 'a phone call',
  voicemail: 'a phone call',
};

/** The API's words, where the form has plainer ones ("slot" is our word, not a therapist's). */
function reword(message: string): string {
  const plain: Record<string, string> = {
    'A new slot must be after the cancelled session': 'The new time must be after the cancelled session',
    'Each slot can be offered once': 'Offer each new time once',
    'Offer at least one slot': 'Enter at least one new time to offer',
    'The session must be in the future': 'The cancelled session must be in the future',
    'The callback time must be in the future': 'The time to call back by must be in the future',
    'Enter a phone number in international format, like +447700900123':
      'Enter a phone number like 07700 900123, or an international number starting with +',
    'Choose illness, personal or other': 'Choose why the session is cancelled',
  };
  const prefers = /^Enter a phone number: the client prefers (\w+)$/.exec(message);
  if (prefers) return `Enter the client's phone number: they asked for ${CONTACT_WORDS[prefers[1]!] ?? prefers[1]}`;
  return plain[message] ?? message;
}

interface Built {
  candidate: unknown;
  local: Map<string, string>;
  /** For each session, the input index of each submitted slot (empty inputs are skipped). */
  slotInputs: number[][];
}

const blank = (p: DateParts & { time?: string }) =>
  !p.day.trim() && !p.month.trim() && !p.year.trim() && !(p.time ?? '').trim();

function build(form: CancellationForm, now: Date): Built {
  const local = new Map<string, string>();
  const note = (field: string, message: string) => {
    if (!local.has(field)) local.set(field, message);
  };
  const slotInputs: number[][] = [];
  const sessions = form.sessions.map((s, i) => {
    const start = partsToIso(s.start);
    if (!start.ok) {
      note(sessionField(i, 'start'), partsProblem(start.problem, 'the date and time the session was due to start'));
    }
    const inputs: number[] = [];
    slotInputs.push(inputs);
    let rebook: unknown;
    if (s.rebook === 'slots') {
      const slots: string[] = [];
      s.slots.forEach((parts, j) => {
        if (blank(parts)) return;
        const slot = partsToIso(parts);
        const field = sessionField(i, `slot-${j}`);
        if (!slot.ok) note(field, partsProblem(slot.problem, `new time ${j + 1}`));
        else if (Date.parse(slot.value) <= now.getTime()) note(field, 'The new time must be in the future');
        else {
          slots.push(slot.value);
          inputs.push(j);
        }
      });
      if (slots.length === 0 && s.slots.every(blank)) {
        note(sessionField(i, 'slot-0'), 'Enter at least one new time to offer');
      }
      rebook = { slots };
    } else if (s.rebook === 'callback') {
      const callback = partsToIso(s.callback);
      if (!callback.ok) note(sessionField(i, 'callback'), partsProblem(callback.problem, 'the time to call back by'));
      rebook = { callbackBy: callback.ok ? callback.value : '' };
    } else {
      note(sessionField(i, 'rebook'), 'Choose whether to offer new times or to call the client back');
    }
    return {
      id: s.id,
      startsAt: start.ok ? start.value : '',
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
  let expectedReturn: string | undefined;
  if (!blank(form.expectedReturn)) {
    const r = partsToDate(form.expectedReturn);
    if (r.ok) expectedReturn = r.value;
    else note('expected-return', partsProblem(r.problem, 'the date of the expected return', false));
  }
  return {
    candidate: {
      therapist: { id: form.therapistId, name: form.therapistName, email: form.therapistEmail },
      reason: (REASONS as readonly string[]).includes(form.reason) ? form.reason : undefined,
      expectedReturn,
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
      return sessionField(i, 'start');
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
    for (const name of ['id', 'start', 'client-ref', 'first-name', 'contact', 'email', 'phone', 'rebook']) {
      order.push(sessionField(i, name));
    }
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

/** Fields that are a date input: an error links to their first box. */
export function fieldAnchor(field: string): string {
  return /(^expected-return|-start|-slot-\d|-callback)$/.test(field) ? `${field}-day` : field;
}

/** Validates the form with the API's schema; errors come back keyed to fields, in page order. */
export function validateForm(form: CancellationForm, now: Date, voice: FormVoice = 'therapist'): FormResult {
  const { candidate, local, slotInputs } = build(form, now);
  const MISSING = missing(voice);
  const parsed = submissionSchema(now).safeParse(candidate);
  if (parsed.success && local.size === 0) return { ok: true, submission: parsed.data };

  const byField = new Map(local);
  for (const issue of parsed.success ? [] : parsed.error.issues) {
    const field = fieldFor(issue.path, slotInputs);
    if (byField.has(field)) continue;
    const kind = field.replace(/^session-\d+-/, '');
    const empty = valueOf(form, field)?.trim() === '';
    byField.set(field, empty && MISSING[kind] ? MISSING[kind] : reword(issue.message));
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
