/**
 * Email through a real SMTP server on loopback: every message kind arrives with the right
 * addresses, subject, text, HTML and Message-ID, and each kind of SMTP failure comes back as the
 * error Temporal should see (retry, ChannelRejected or ChannelMisconfigured).
 */
import net from 'node:net';
import path from 'node:path';
import { createActivities } from '../../activities';
import { createEmailRenderer } from '../../src/mail/render';
import { SmtpMailer } from '../../src/mail/smtp';
import { FailureType } from '../../src/shared/activities';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import {
  BASE_URL,
  CASE_ID,
  CASE_PAGE,
  CLIENT_KINDS,
  NOW,
  PROVIDER_KINDS,
  TEAMS,
  THERAPIST_KINDS,
  clientNotice,
  escalationNotice,
  expectNonRetryable,
  failureOf,
  isRetryable,
  providerNotice,
  recordingSms,
  testConfig,
  therapistNotice,
} from './fixtures';

let sink: SmtpSink;
let mailer: SmtpMailer;
let attempt = 1;

beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(async () => {
  await sink.close();
});
beforeEach(() => {
  sink.clear();
  attempt = 1;
});
afterEach(async () => {
  await mailer?.close();
});

function smtpActivities(url = sink.url, env: Record<string, string> = {}) {
  const config = testConfig({ SMTP_URL: url, MAIL_FROM: 'Appointments <appointments@provider.example>', ...env });
  mailer = new SmtpMailer({ url, from: config.mail.from, connectionTimeoutMs: 2000, greetingTimeoutMs: 500, socketTimeoutMs: 2000 });
  return createActivities({ config, mailer, sms: recordingSms(), attempt: () => attempt, now: () => NOW });
}

describe('client email', () => {
  const expected: Record<string, RegExp[]> = {
    slotOffer: [/Wednesday 2 December at 10:00/, /Thursday 3 December at 14:30/, new RegExp(`${BASE_URL}/c/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+`)],
    callbackPromise: [/We will phone you by Monday 30 November at 17:00/, /If we have not called you by then, please ring us on 0333 222 0710/],
    absenceUpdate: [/from Monday 7 December/],
    confirmation: [/Your new appointment is on Thursday 3 December at 14:30/],
    bookingWithdrawn: [/your new appointment on Thursday 3 December at 14:30, booked in place of your cancelled appointment/, /from Monday 7 December/],
  };

  test.each(CLIENT_KINDS)('a %s email arrives from the configured sender, to the client only, in text and HTML', async (kind) => {
    const delivery = await smtpActivities().notifyClient(clientNotice(kind));

    const mail = await sink.waitFor(() => true);
    expect(mail.envelope.to).toEqual(['sam@example.org']);
    expect(mail.envelope.from).toBe('appointments@provider.example');
    expect(mail.parsed.from?.value).toEqual([{ name: 'Appointments', address: 'appointments@provider.example' }]);
    expect(mail.messageId).toBe(`<${CASE_ID}.client-${kind}.1@shortnotice>`);
    expect(delivery).toEqual({ channel: 'email', messageId: mail.messageId, acceptedAt: NOW.toISOString() });
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain('Friday 27 November at 10:00');
      for (const pattern of expected[kind]!) expect(body).toMatch(pattern);
    }
    expect(mail.text).toMatch(/^Hello Sam,/);
    expect(mail.html).toMatch(/^<!doctype html>/);
  });

  test('the slot offer links to the choice page as a button in HTML and as a plain URL in text', async () => {
    await smtpActivities().notifyClient(clientNotice('slotOffer'));
    const mail = await sink.waitFor(() => true);
    const url = /https:\/\/shortnotice\.example\/c\/[A-Za-z0-9._-]+/.exec(mail.text)![0];
    expect(mail.html).toContain(`href="${url}"`);
  });
});

describe('staff email', () => {
  test.each(THERAPIST_KINDS)('a therapist %s arrives at the therapist and links to the case page', async (kind) => {
    await smtpActivities().notifyTherapist(therapistNotice(kind));
    const mail = await sink.waitFor(() => true);
    expect(mail.envelope.to).toEqual(['alex@example.org']);
    expect(mail.messageId).toBe(`<${CASE_ID}.therapist-${kind}.1@shortnotice>`);
    expect(mail.text).toContain(CASE_PAGE);
    expect(mail.html).toContain(`href="${CASE_PAGE}"`);
    expect(mail.text).toContain('Friday 27 November at 10:00');
    expect(mail.subject).not.toMatch(/Sam|C-2002/);
  });

  test('a call task for a client who prefers a phone call says not to leave a voicemail, with the times to offer', async () => {
    await smtpActivities().notifyTherapist(therapistNotice('callTask'));
    const mail = await sink.waitFor(() => true);
    expect(mail.text).toContain('Do not leave a voicemail');
    expect(mail.text).toContain('+447700900123');
    expect(mail.text).toContain('Wednesday 2 December at 10:00');
    expect(mail.text).toContain('Call by: Friday 27 November at 09:00');
  });

  test('a call task for a client who chose voicemail says a voicemail may be left', async () => {
    const notice = therapistNotice('callTask');
    notice.contact = { method: 'voicemail', phone: '+447700900123', voicemailAllowed: true, purpose: 'cancel' };
    delete notice.slots;
    notice.callbackBy = '2026-11-30T17:00:00Z';
    await smtpActivities().notifyTherapist(notice);
    const mail = await sink.waitFor(() => true);
    expect(mail.text).toContain('you may leave a voicemail');
    expect(mail.text).not.toContain('Do not leave a voicemail');
    expect(mail.text).toContain('you will contact them by Monday 30 November at 17:00');
  });

  test('a documentation reminder lists only the missing MPB records and the support contacts', async () => {
    await smtpActivities().notifyTherapist(therapistNotice('documentationReminder'));
    const mail = await sink.waitFor(() => true);
    expect(mail.text).toContain('Appointment Cancelled by Therapist/VHG');
    expect(mail.text).toContain('Clinical Note');
    expect(mail.text).not.toContain('Next session');
    expect(mail.text).toContain('0333 222 0710');
    expect(mail.text).toContain('confirm it on the case page');
  });

  test.each(PROVIDER_KINDS)('a provider %s notice goes to the provider address with the therapist ref, the expected return while away, and the case link', async (kind) => {
    await smtpActivities(sink.url, { PROVIDER_EMAIL: 'provider@vhg.example' }).notifyProvider(providerNotice(kind));
    const mail = await sink.waitFor(() => true);
    expect(mail.envelope.to).toEqual(['provider@vhg.example']);
    expect(mail.text).toContain('T-1001');
    // A therapist who is back has no expected return to give; every other notice gives it.
    if (kind === 'absenceEnded') expect(mail.text).not.toContain('Monday 7 December');
    else expect(mail.text).toContain('Monday 7 December');
    expect(mail.text).toContain(CASE_PAGE);
  });

  test.each(TEAMS)('an escalation to %s goes to that team with reason, therapist ref, session time, link and support phone', async (team) => {
    const env = { NETWORK_CLINICAL_EMAIL: 'network@vhg.example', RISK_DUTY_EMAIL: 'risk@vhg.example', SUPPORT_EMAIL: 'support@vhg.example', CLINICAL_LEAD_EMAIL: 'lead@vhg.example', SUPPORT_PHONE: '0300 000 0000' };
    await smtpActivities(sink.url, env).escalate(escalationNotice(team));
    const mail = await sink.waitFor(() => true);
    expect(mail.envelope.to).toEqual([`${team}@vhg.example`]);
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain('The client cannot wait for the therapist to return');
      expect(body).toContain('T-1001');
      expect(body).toContain('Friday 27 November at 10:00');
      expect(body).toContain(CASE_PAGE);
      expect(body).toContain('0300 000 0000');
    }
  });
});

describe('Message-ID', () => {
  test('is the same for the same case, step and attempt, and changes with the attempt', async () => {
    const acts = smtpActivities();
    const first = await acts.notifyClient(clientNotice('confirmation'));
    const again = await acts.notifyClient(clientNotice('confirmation'));
    attempt = 2;
    const retry = await acts.notifyClient(clientNotice('confirmation'));

    expect(sink.messages.map((m) => m.messageId)).toEqual([
      `<${CASE_ID}.client-confirmation.1@shortnotice>`,
      `<${CASE_ID}.client-confirmation.1@shortnotice>`,
      `<${CASE_ID}.client-confirmation.2@shortnotice>`,
    ]);
    expect(again.messageId).toBe(first.messageId);
    expect(retry.messageId).not.toBe(first.messageId);
  });
});

describe('SMTP connections (issue 14)', () => {
  test('issue 14: emails sent one after another share one pooled connection', async () => {
    const acts = smtpActivities();
    const before = sink.connections();
    for (const kind of CLIENT_KINDS) await acts.notifyClient(clientNotice(kind));
    expect(sink.messages).toHaveLength(CLIENT_KINDS.length);
    expect(sink.connections() - before).toBe(1);
  });

  test('issue 14: emails sent at once open up to SMTP_MAX_CONNECTIONS connections, and no more', async () => {
    const config = testConfig({ SMTP_URL: sink.url, SMTP_MAX_CONNECTIONS: '3' });
    mailer = new SmtpMailer({ url: sink.url, from: config.mail.from, maxConnections: config.mail.smtpMaxConnections });
    const acts = createActivities({ config, mailer, sms: recordingSms(), attempt: () => attempt, now: () => NOW });
    const before = sink.connections();
    await Promise.all(Array.from({ length: 9 }, () => acts.notifyClient(clientNotice('callbackPromise'))));
    expect(sink.messages).toHaveLength(9);
    expect(sink.connections() - before).toBe(3);
  });

  test('issue 14: the email templates are read and compiled when the renderer is built, so a missing one stops the worker, not the first email', () => {
    expect(() => createEmailRenderer(path.join(__dirname, 'no-such-templates'))).toThrow(/email\.html\.njk/);
  });
});

describe('SMTP failures', () => {
  const send = () => smtpActivities().notifyClient(clientNotice('callbackPromise'));

  function expectNoAddress(err: Error) {
    expect(err.message).not.toContain('sam@example.org');
    expect(JSON.stringify(err)).not.toContain('sam@example.org');
  }

  test('a 451 at RCPT TO is retryable and nothing is delivered', async () => {
    sink.failNext({ at: 'rcpt', reply: 451, text: '4.3.0 <sam@example.org> try again later' });
    const err = await failureOf(send());
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('451');
    expectNoAddress(err);
    expect(sink.messages).toHaveLength(0);
  });

  test('a 451 after DATA is retryable', async () => {
    sink.failNext({ at: 'data', reply: 451, text: 'local error in processing' });
    const err = await failureOf(send());
    expect(isRetryable(err)).toBe(true);
  });

  test('a 550 at RCPT TO is a non-retryable ChannelRejected without the address in the message', async () => {
    sink.failNext({ at: 'rcpt', reply: 550, text: '5.1.1 <sam@example.org>: mailbox unavailable' });
    const err = await failureOf(send());
    expectNonRetryable(err, FailureType.ChannelRejected);
    expect(err.message).toContain('550');
    expectNoAddress(err);
  });

  test('a 554 after DATA is a non-retryable ChannelRejected', async () => {
    sink.failNext({ at: 'data', reply: 554, text: 'message refused' });
    expectNonRetryable(await failureOf(send()), FailureType.ChannelRejected);
  });

  test('a 553 refusing the sender is ChannelMisconfigured, not a verdict on the client', async () => {
    sink.failNext({ at: 'mail', reply: 553, text: 'sender not allowed' });
    expectNonRetryable(await failureOf(send()), FailureType.ChannelMisconfigured);
  });

  test('a connection dropped during the transaction is retryable, and the next attempt gets through', async () => {
    sink.failNext({ at: 'data', drop: true });
    const err = await failureOf(send());
    expect(isRetryable(err)).toBe(true);
    expectNoAddress(err);
    attempt = 2;
    await send();
    expect(sink.messages).toHaveLength(1);
  });

  test('a connection dropped at RCPT TO is retryable', async () => {
    sink.failNext({ at: 'rcpt', drop: true });
    expect(isRetryable(await failureOf(send()))).toBe(true);
  });

  test('a refused connection (nothing listening) is retryable', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));

    const err = await failureOf(smtpActivities(`smtp://127.0.0.1:${port}`).notifyClient(clientNotice('callbackPromise')));
    expect(isRetryable(err)).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  test('a server that never greets times out, retryably', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const err = await failureOf(smtpActivities(`smtp://127.0.0.1:${port}`).notifyClient(clientNotice('callbackPromise')));
      expect(isRetryable(err)).toBe(true);
      expect(err.message).toContain('ETIMEDOUT');
    } finally {
      silent.close();
    }
  });

  describe('with a server that requires a login', () => {
    let secured: SmtpSink;
    beforeAll(async () => {
      secured = await startSmtpSink({ auth: { user: 'shortnotice', pass: 'right-password' } });
    });
    afterAll(async () => {
      await secured.close();
    });

    test('the right credentials deliver', async () => {
      await smtpActivities(secured.url).notifyClient(clientNotice('confirmation'));
      expect((await secured.waitFor(() => true)).envelope.to).toEqual(['sam@example.org']);
    });

    test('wrong credentials (535) are a non-retryable ChannelMisconfigured', async () => {
      const url = `smtp://shortnotice:wrong-password@127.0.0.1:${secured.port}`;
      const err = await failureOf(smtpActivities(url).notifyClient(clientNotice('confirmation')));
      expectNonRetryable(err, FailureType.ChannelMisconfigured);
      expect(err.message).toContain('535');
      expect(err.message).not.toContain('wrong-password');
    });

    test('a login refused by the server with 535 is ChannelMisconfigured', async () => {
      secured.failNext({ at: 'auth' });
      const err = await failureOf(smtpActivities(secured.url).notifyClient(clientNotice('confirmation')));
      expectNonRetryable(err, FailureType.ChannelMisconfigured);
    });
  });
});
