/**
 * Logs carry no personal data: the logger censors fields that mean a person (names, emails,
 * phones, notes) and masks addresses and numbers left in free text; the web app, the worker
 * entry point and the activities log through it, never through console.*.
 * (A full scenario's log lines are checked for canaries in scenario.test.ts.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { createLogger, scrubText, TemporalPinoLogger } from '../../src/log';
import { createApp } from '../../src/web/app';
import { activitiesWith, clientNotice, therapistNotice } from '../channels/fixtures';
import type { Submission } from '../../src/shared/api';
import type { CaseInput } from '../../src/shared/case';
import type { Closure, PhoneOutcome } from '../../src/shared/messages';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import type { StaffUser } from '../../src/web/security/session';
import { caseView, CASE_ID, DAY, makeDeps, signIn, THERAPIST } from '../web/fakes';

const CANARIES = ['Zephyrine', 'Quillon Farrowdale', 'zephyrine.canary@example.org', '+447700900777', '07700 900777', 'canary risk note about self-harm'];

function captured() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination: stream }) };
}

const expectClean = (lines: string[]) => {
  const all = lines.join('\n');
  for (const c of CANARIES) expect(all).not.toContain(c);
};

describe('the logger', () => {
  it('when personal data is logged in fields, nested objects, errors and the message, then none of it is written', () => {
    const { lines, logger } = captured();
    (logger as unknown as { info(fields: unknown, msg: string): void }).info(
      {
        caseId: CASE_ID,
        client: { firstName: 'Zephyrine', email: 'zephyrine.canary@example.org', phone: '+447700900777' },
        therapist: { name: 'Quillon Farrowdale' },
        risk: { note: 'canary risk note about self-harm' },
        notices: [{ to: 'zephyrine.canary@example.org', personalisation: { body: 'Hello Zephyrine' } }],
        err: new Error('550 <zephyrine.canary@example.org> refused; call 07700 900777', { cause: new Error('+447700900777 unreachable') }),
      },
      'sent to zephyrine.canary@example.org and 07700 900777',
    );
    new TemporalPinoLogger(logger).warn('Activity failed', { error: new Error('rcpt zephyrine.canary@example.org'), input: { firstName: 'Zephyrine' } });
    expect(lines).toHaveLength(2);
    expectClean(lines);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(first.caseId).toBe(CASE_ID);
    expect(first.msg).toBe('sent to [email] and [phone]');
    expect(first.redacted).toEqual(['client', 'therapist', 'risk', 'notices']);
  });

  it('when text holds dates, times, ids and durations, then they are left alone', () => {
    const text = 'case c0123456789abcdefghij at 2026-11-27T10:00:00.000Z took 1764201600000 ms, attempt 3, port 7233';
    expect(scrubText(text)).toBe(text);
  });
});

/** S7: personal data in every shape the code holds it, under names no deny-list would guess. */
const S7 = {
  firstName: 'Zephyrine',
  otherFirstName: 'Oriella',
  therapistName: 'Quillon Farrowdale',
  clientEmail: 'zephyrine.canary@example.org',
  therapistEmail: 'quillon.canary@example.org',
  phone: '+447700900777',
  clientRef: 'CREF7731',
  riskNote: 'canary risk note about self-harm',
  closeNote: 'Canary closing note: moved away',
  outcomeNote: 'Canary outcome note: spoke to her mum',
};
const S7_CANARIES = [...Object.values(S7), '7700900777', 'CREF', 'canary'];

/** Every domain object that carries a person, as the code builds them. */
function domainObjects(): Record<string, object> {
  const startsAt = '2026-12-02T10:00:00Z';
  const client = {
    ref: S7.clientRef,
    firstName: S7.firstName,
    preferredContact: 'phone' as const,
    email: S7.clientEmail,
    phone: S7.phone,
  };
  const therapist = { id: 'T7001', name: S7.therapistName, email: S7.therapistEmail };
  const session = {
    id: 'S-1',
    startsAt,
    client,
    rebook: { callbackBy: startsAt },
    risk: { concern: true, note: S7.riskNote },
  };
  const submission: Submission = { therapist, reason: 'illness', sessions: [session] };
  const input: CaseInput = {
    caseId: CASE_ID,
    absenceId: 'a0123456789abcdefghij',
    siblingCaseIds: [],
    submittedAt: startsAt,
    therapist,
    reason: 'illness',
    session: { id: 'S-1', startsAt },
    client,
    rebook: { callbackBy: startsAt },
    risk: { concern: true, note: S7.riskNote },
    policy: DEFAULT_POLICY,
    recordsMode: 'attestation',
  };
  const view = caseView({
    clientFirstName: S7.firstName,
    therapistName: S7.therapistName,
    riskNote: S7.riskNote,
    closed: { by: 'LEAD7', reason: 'other', note: S7.closeNote, at: startsAt },
  });
  const outcome: PhoneOutcome = { by: 'T7001', reached: true, note: S7.outcomeNote };
  const closure: Closure = { by: 'LEAD7', reason: 'other', note: S7.closeNote };
  const staff: StaffUser = {
    role: 'therapist',
    ref: 'T7001',
    name: S7.therapistName,
    email: S7.therapistEmail,
    via: 'oidc',
  };
  const form = {
    'therapist-name': S7.therapistName,
    'session-0-first-name': S7.otherFirstName,
    'session-0-client-ref': S7.clientRef,
    'session-0-phone': '07700 900777',
    'session-0-risk-note': S7.riskNote,
  };
  return {
    submission,
    input,
    view,
    clientNotice: {
      ...clientNotice('slotOffer'),
      firstName: S7.firstName,
      to: { email: S7.clientEmail, phone: S7.phone },
    },
    callTask: {
      ...therapistNotice('callTask'),
      to: S7.therapistEmail,
      therapistName: S7.therapistName,
      clientRef: S7.clientRef,
      clientFirstName: S7.firstName,
      contact: { method: 'phone', phone: S7.phone, voicemailAllowed: false, purpose: 'cancel' },
    },
    recordsQuery: {
      caseId: CASE_ID,
      sessionId: 'S-1',
      clientRef: S7.clientRef,
      therapistRef: 'T7001',
      cancelledAt: startsAt,
    },
    outcome,
    closure,
    staff,
    form,
  };
}

describe('S7 log redaction by type', () => {
  it('S7 when every domain object is logged whole, nested, under a field the logger knows, spread into an error or through Temporal, then no personal data is written', () => {
    const objects = domainObjects();
    // Control: the canaries are there to be found.
    for (const c of Object.values(S7)) expect(JSON.stringify(objects)).toContain(c);

    const { lines, logger } = captured();
    const temporal = new TemporalPinoLogger(logger.child({ component: 'temporal' }));
    for (const [name, o] of Object.entries(objects)) {
      const log = logger as unknown as {
        info(fields: unknown, msg: string): void;
        warn(fields: unknown, msg: string): void;
      };
      log.info(o, `${name} whole`);
      log.info({ event: 'logged', [name]: o, data: o, input: o, view: o }, `${name} nested`);
      log.info({ event: 'logged', caseId: o, step: o, reason: o, route: o, cases: [o] }, `${name} under known fields`);
      log.info({ event: 'logged', ...o }, `${name} spread`);
      log.warn({ event: 'failed', err: Object.assign(new Error(`${name} failed`), o) }, `${name} in an error`);
      temporal.warn('Activity failed', { workflowId: 'cancellation-c0123456789abcdefghij', ...o, input: o });
    }
    expect(lines.length).toBe(Object.keys(objects).length * 6);
    const all = lines.join('\n');
    expect(S7_CANARIES.filter((c) => all.includes(c))).toEqual([]);
    // The therapist's absence reason and the lead's closing reason are personal too.
    expect(all).not.toMatch(/illness|"other"/);
    // What operators need is still there.
    const spread = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'view spread')!;
    expect(spread).toMatchObject({ event: 'logged', caseId: CASE_ID });
  });

  it('S7 when the code logs what it does (ids, steps, channels, routes, counts, errors), then each field survives as logged', () => {
    const { lines, logger } = captured();
    logger.info(
      {
        event: 'sent',
        caseId: CASE_ID,
        step: 'client-slotOffer',
        channel: 'email',
        audience: 'client',
        messageId: `<${CASE_ID}.client-slotOffer.1@shortnotice>`,
      },
      'email sent',
    );
    logger.warn({ event: 'csrf-refused', method: 'POST', route: '/cancellations/:id/actions/:action' }, 'form refused');
    logger.info(
      { event: 'cancellations-submitted', staffRef: 'T1042', caller: 'token:bridge', cases: [CASE_ID] },
      'submitted',
    );
    logger.error({ event: 'request-failed', err: new Error('connect ECONNREFUSED 127.0.0.1:7233') }, 'request failed');
    const [sent, refused, submitted, failed] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(sent).toMatchObject({
      event: 'sent',
      caseId: CASE_ID,
      step: 'client-slotOffer',
      channel: 'email',
      audience: 'client',
      messageId: `<${CASE_ID}.client-slotOffer.1@shortnotice>`,
    });
    expect(refused).toMatchObject({ method: 'POST', route: '/cancellations/:id/actions/:action' });
    expect(submitted).toMatchObject({ staffRef: 'T1042', caller: 'token:bridge', cases: [CASE_ID] });
    expect(failed).toMatchObject({ err: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:7233' } });
    expect(sent).not.toHaveProperty('redacted');
  });

  it('S7 when a route would log a client link, then the token is not written', () => {
    const { lines, logger } = captured();
    const token = 'l1.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdEfGh';
    logger.info({ event: 'x', route: `/c/${token}` }, 'x');
    expect(lines.join('')).not.toContain(token);
  });
});

describe('the web app', () => {
  it('when requests fail, are refused or carry client links, then the log lines name routes and events, never people, tokens or links', async () => {
    const { lines, logger } = captured();
    const d = makeDeps();
    d.cases.add(caseView({ clientFirstName: 'Zephyrine', therapistName: 'Quillon Farrowdale' }));
    const app = createApp({ ...d.deps, logger });
    const token = d.links.seal(CASE_ID, 'choose', DAY);

    d.cases.view.mockRejectedValueOnce(new Error('query failed for zephyrine.canary@example.org (+447700900777)'));
    await request(app).get(`/c/${token}`).expect(500);
    await request(app).get(`/c/${token.slice(0, -5)}`).expect(404);
    await request(app).post(`/c/${token}`).type('form').send({ choice: 'call' }).expect(403);
    const staff = await signIn(app, THERAPIST);
    await staff.post('/cancellations', { 'therapist-name': 'Quillon Farrowdale', 'session-0-first-name': 'Zephyrine', 'session-0-email': 'zephyrine.canary@example.org', action: 'submit' }).expect(422);

    expect(lines.length).toBeGreaterThan(3);
    expectClean(lines);
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).not.toContain(token.slice(0, -5));
    const events = lines.map((l) => (JSON.parse(l) as { event?: string }).event);
    expect(events).toEqual(expect.arrayContaining(['request-failed', 'client-link-refused', 'csrf-refused', 'signed-in']));
  });
});

describe('the activities', () => {
  it('when notices are sent, then each is logged by case, step and channel, without the recipient', async () => {
    const { lines, logger } = captured();
    const { activities } = activitiesWith({ logger });
    await activities.notifyClient({ ...clientNotice('slotOffer'), firstName: 'Zephyrine', to: { email: 'zephyrine.canary@example.org' } });
    await activities.notifyClient({ ...clientNotice('callbackPromise', 'sms'), firstName: 'Zephyrine', to: { phone: '+447700900777' } });
    await activities.notifyTherapist({ ...therapistNotice('followUpDuty'), therapistName: 'Quillon Farrowdale', clientFirstName: 'Zephyrine' });
    expect(lines).toHaveLength(3);
    expectClean(lines);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l.channel, l.audience])).toEqual([
      ['email', 'client'],
      ['sms', 'client'],
      ['email', 'therapist'],
    ]);
  });
});

describe('the code', () => {
  it('when the web entry point, the worker and the activities log, then they use the injected logger, not console.*', () => {
    const root = path.join(__dirname, '..', '..');
    const files = ['src/web/main.ts', 'src/web/app.ts', 'worker.ts', ...readdirSync(path.join(root, 'activities')).map((f) => `activities/${f}`)];
    for (const f of files) expect({ f, console: /\bconsole\.\w+\(/.test(readFileSync(path.join(root, f), 'utf8')) }).toEqual({ f, console: false });
  });
});
