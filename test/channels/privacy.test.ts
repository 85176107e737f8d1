/**
 * Client messages carry the minimum. Every client template, by email and by SMS, is rendered
 * from a notice stuffed with canary values in fields a client must never see; none may appear
 * in the subject, text, HTML or SMS. Every client message carries the crisis signposting, and
 * no value can break out of the body into the headers.
 */
import { smsSegments } from '../../src/wording/sms';
import { LinkSealer } from '../../src/links';
import type { ClientMessageKind, ClientNotice } from '../../src/shared/activities';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { SmtpMailer } from '../../src/mail/smtp';
import { createActivities } from '../../activities';
import {
  CASE_ID,
  CLIENT_KINDS,
  NOW,
  PROVIDER_KINDS,
  TEAMS,
  activitiesWith,
  clientNotice,
  escalationNotice,
  providerNotice,
  recordingSms,
  testConfig,
  therapistNotice,
} from './fixtures';

const CANARY = {
  reason: 'CANARY-REASON-migraine',
  riskNote: 'CANARY-RISK-self-harm',
  therapistName: 'CANARY-THERAPIST-Okonkwo',
  clientRef: 'CANARY-CLIENTREF-77',
  surname: 'Canarysurname',
  email: 'canary.person@example.org',
  phone: '+447700900999',
};

/** A notice as a careless caller might build it: the case input spread into it. */
function stuffedNotice(kind: ClientMessageKind, channel: 'email' | 'sms'): ClientNotice {
  const extra = {
    reason: CANARY.reason,
    risk: { concern: true, note: CANARY.riskNote },
    therapist: { id: 'T-1', name: CANARY.therapistName, email: 'therapist@example.org' },
    therapistName: CANARY.therapistName,
    clientRef: CANARY.clientRef,
    client: { ref: CANARY.clientRef, firstName: 'Sam', email: CANARY.email, phone: CANARY.phone },
    absence: { reason: CANARY.reason },
  };
  const notice: ClientNotice = { ...clientNotice(kind, channel), firstName: `Priya ${CANARY.surname}`, to: { email: CANARY.email, phone: CANARY.phone } };
  return Object.assign(notice, extra);
}

const FORBIDDEN: Array<string | RegExp> = [
  CANARY.reason,
  CANARY.riskNote,
  CANARY.therapistName,
  CANARY.clientRef,
  CANARY.surname,
  CANARY.email,
  '7700900999',
  /therap/i,
  /counsel/i,
  /illness|sick|migraine/i,
  /risk (note|concern)|safeguard|welfare/i,
  CASE_ID,
];

function expectNothingForbidden(text: string) {
  for (const f of FORBIDDEN) {
    if (typeof f === 'string') expect(text).not.toContain(f);
    else expect(text).not.toMatch(f);
  }
}

function expectCrisisSignposting(text: string) {
  expect(text).toContain('Samaritans');
  expect(text).toContain('116 123');
  expect(text).toMatch(/NHS 111,? option 2/);
  expect(text).toContain('999');
}

/** The default service name says "therapies"; the wording is checked under a neutral one. */
const SERVICE_NAME = 'Northside Wellbeing';
const neutralActivities = () => activitiesWith({ config: testConfig({ SERVICE_NAME }) });

describe.each(CLIENT_KINDS)('the %s client message', (kind) => {
  test('by email: no canary, no clinical word, no case id in subject, text or HTML', async () => {
    const { activities, mailer } = neutralActivities();
    await activities.notifyClient(stuffedNotice(kind, 'email'));
    const mail = mailer.sent[0]!;
    expect(mail.to).toBe(CANARY.email);
    for (const part of [mail.subject, mail.text, mail.html!]) expectNothingForbidden(part);
    expect(mail.text).toContain(`From ${SERVICE_NAME}`);
  });

  test('by email: the subject is neutral for a lock screen (no name, no service name)', async () => {
    const { activities, mailer } = activitiesWith();
    await activities.notifyClient(stuffedNotice(kind, 'email'));
    const { subject } = mailer.sent[0]!;
    expect(subject).not.toMatch(/Priya|Northside|\d/);
  });

  test('by email: the text and HTML end with the crisis signposting', async () => {
    const { activities, mailer } = activitiesWith();
    await activities.notifyClient(stuffedNotice(kind, 'email'));
    const mail = mailer.sent[0]!;
    expectCrisisSignposting(mail.text);
    expectCrisisSignposting(mail.html!);
    expect(mail.text).toContain('A&E');
    expect(mail.html).toContain('A&amp;E');
    expect(mail.text.indexOf('Samaritans')).toBeGreaterThan(mail.text.indexOf('Friday 27 November'));
  });

  test('by SMS: no canary, no clinical word, no name, and the crisis line', async () => {
    const { activities, sms } = neutralActivities();
    await activities.notifyClient(stuffedNotice(kind, 'sms'));
    const text = sms.sent[0]!;
    expect(text.to).toBe(CANARY.phone);
    expectNothingForbidden(text.body);
    expect(text.body).not.toContain('Priya');
    expect(text.body).toContain('In crisis? Samaritans 116 123, NHS 111 option 2, 999 if life is at risk.');
    // The service named first, short dates, two segments at most (issue 15).
    expect(text.body.startsWith(`${SERVICE_NAME}: `)).toBe(true);
    expect(text.body).toMatch(/Fri 27 Nov 10:00|Thu 3 Dec 14:30/);
    expect(smsSegments(text.body)).toBeLessThanOrEqual(2);
    expect(text.reference).not.toMatch(/Sam|canary|@|7700/i);
  });
});

test('the email greeting uses the first word of the first name only', async () => {
  const { activities, mailer } = activitiesWith();
  await activities.notifyClient({ ...clientNotice('confirmation'), firstName: `  Sam ${CANARY.surname}` });
  expect(mailer.sent[0]!.text).toMatch(/^Hello Sam,\n/);
});

test('an empty first name gives a plain greeting, not "Hello undefined"', async () => {
  const { activities, mailer } = activitiesWith();
  await activities.notifyClient({ ...clientNotice('confirmation'), firstName: '' });
  expect(mailer.sent[0]!.text).toMatch(/^Hello,\n/);
});

test('an absence update says when the therapist is expected back, and nothing about the absence itself', async () => {
  const { activities, mailer, sms } = activitiesWith();
  await activities.notifyClient(stuffedNotice('absenceUpdate', 'email'));
  await activities.notifyClient(stuffedNotice('absenceUpdate', 'sms'));
  expect(mailer.sent[0]!.text).toContain('Monday 7 December');
  expect(sms.sent[0]!.body).toContain('Monday 7 December');
});

test('HTML in a first name is escaped in the HTML part and left as written in the text part', async () => {
  const { activities, mailer } = activitiesWith();
  await activities.notifyClient({ ...clientNotice('confirmation'), firstName: '<b>Sam</b>' });
  const mail = mailer.sent[0]!;
  expect(mail.html).toContain('Hello &lt;b&gt;Sam&lt;/b&gt;,');
  expect(mail.html).not.toContain('<b>Sam');
  expect(mail.text).toContain("Hello <b>Sam</b>,");
});

test("an apostrophe in a staff-facing name is not turned into an HTML entity in the text part", async () => {
  const { activities, mailer } = activitiesWith();
  await activities.notifyTherapist({ ...therapistNotice('confirmation'), clientFirstName: "D'Arcy" });
  expect(mailer.sent[0]!.text).toContain("D'Arcy (client ref C-2002)");
});

describe('the choice link', () => {
  test('carries an opaque sealed token for the case, valid for the policy TTL, and no personal data', async () => {
    const { activities, mailer, sms, deps } = activitiesWith();
    await activities.notifyClient(stuffedNotice('slotOffer', 'email'));
    await activities.notifyClient(stuffedNotice('slotOffer', 'sms'));
    const urls = [mailer.sent[0]!.text, sms.sent[0]!.body].map((t) => /https:\/\/shortnotice\.example\/c\/([A-Za-z0-9._-]+)/.exec(t)![1]!);
    const sealer = new LinkSealer(deps.config.linkKeys, () => NOW.getTime());
    for (const token of urls) {
      expect(token).not.toMatch(new RegExp(`${CASE_ID}|Sam|canary|7700`, 'i'));
      const opened = sealer.open(token, 'choose');
      expect(opened).toEqual({ ok: true, link: { caseId: CASE_ID, purpose: 'choose', expiresAt: NOW.getTime() + deps.config.policy.clientLinkTtlMs } });
    }
  });
});

describe('staff messages that are not for the therapist carry no client details', () => {
  const stuffed = <T extends object>(notice: T): T => ({
    ...notice,
    clientFirstName: 'Sam',
    firstName: 'Sam',
    clientRef: CANARY.clientRef,
    to: { email: CANARY.email, phone: CANARY.phone },
    riskNote: CANARY.riskNote,
  });

  test.each(TEAMS)('an escalation to %s', async (team) => {
    const { activities, mailer } = activitiesWith();
    await activities.escalate(stuffed(escalationNotice(team)));
    const mail = mailer.sent[0]!;
    for (const part of [mail.subject, mail.text, mail.html!]) {
      for (const f of [CANARY.clientRef, CANARY.email, '7700900999', CANARY.riskNote, 'Sam']) expect(part).not.toContain(f);
    }
  });

  test.each(PROVIDER_KINDS)('a provider %s notice', async (kind) => {
    const { activities, mailer } = activitiesWith();
    await activities.notifyProvider(stuffed(providerNotice(kind)));
    const mail = mailer.sent[0]!;
    for (const part of [mail.subject, mail.text, mail.html!]) {
      for (const f of [CANARY.clientRef, CANARY.email, '7700900999', CANARY.riskNote, 'Sam']) expect(part).not.toContain(f);
    }
  });
});

describe('header injection', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  const INJECTION = '\r\nBcc: intruder@example.org\r\nX-Injected: yes\r\n\r\n<script>alert(1)</script>';

  test('CR/LF in names and reasons cannot add headers or recipients', async () => {
    const config = testConfig({ SMTP_URL: sink.url });
    const mailer = new SmtpMailer({ url: sink.url, from: config.mail.from });
    const activities = createActivities({ config, mailer, sms: recordingSms(), attempt: () => 1, now: () => NOW });
    try {
      await activities.notifyClient({ ...clientNotice('slotOffer'), firstName: `Sam${INJECTION}` });
      await activities.notifyTherapist({ ...therapistNotice('callTask'), clientFirstName: `Sam${INJECTION}`, therapistName: `Alex${INJECTION}` });
      await activities.escalate({ ...escalationNotice('risk'), reason: `Unhappy${INJECTION}`, therapistRef: `T-1${INJECTION}` });
    } finally {
      await mailer.close();
    }
    expect(sink.messages).toHaveLength(3);
    for (const mail of sink.messages) {
      expect(mail.envelope.to).toHaveLength(1);
      expect(mail.envelope.to[0]).not.toContain('intruder');
      expect(mail.parsed.headers.has('bcc')).toBe(false);
      expect(mail.parsed.headers.has('x-injected')).toBe(false);
      expect(mail.parsed.headerLines.map((h) => h.line).join('\n')).not.toMatch(/intruder|X-Injected/i);
      expect(mail.html).not.toContain('<script>');
    }
  });
});
