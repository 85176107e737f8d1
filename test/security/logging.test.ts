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
    logger.info(
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
    expect(JSON.stringify(first)).toContain('[redacted]');
  });

  it('when text holds dates, times, ids and durations, then they are left alone', () => {
    const text = 'case c0123456789abcdefghij at 2026-11-27T10:00:00.000Z took 1764201600000 ms, attempt 3, port 7233';
    expect(scrubText(text)).toBe(text);
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
