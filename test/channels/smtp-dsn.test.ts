/**
 * D7, sending side: the SMTP mailer asks a relay that speaks DSN (RFC 3461) for a report on
 * failure, delay and success, quoting the message's envelope id and returning headers only, and
 * still sends, without DSN parameters, through a relay that does not.
 */
import { createActivities } from '../../activities';
import { parseMessageRef } from '../../src/delivery/message-ref';
import { SmtpMailer } from '../../src/mail/smtp';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { CASE_ID, NOW, clientNotice, recordingSms, testConfig } from './fixtures';

let withDsn: SmtpSink;
let withoutDsn: SmtpSink;
const mailers: SmtpMailer[] = [];

beforeAll(async () => {
  withDsn = await startSmtpSink({ dsn: true });
  withoutDsn = await startSmtpSink();
});
afterAll(async () => {
  await Promise.all(mailers.map((m) => m.close()));
  await withDsn.close();
  await withoutDsn.close();
});

function activitiesThrough(sink: SmtpSink, attempt = 1) {
  const config = testConfig({ SMTP_URL: sink.url });
  const mailer = new SmtpMailer({
    url: sink.url,
    from: config.mail.from,
    connectionTimeoutMs: 2000,
    greetingTimeoutMs: 1000,
  });
  mailers.push(mailer);
  return createActivities({ config, mailer, sms: recordingSms(), attempt: () => attempt, now: () => NOW });
}

test("D7 a relay that advertises DSN is asked for reports on failure, delay and success, headers only, by the message's envelope id", async () => {
  const delivery = await activitiesThrough(withDsn, 2).notifyClient(clientNotice('slotOffer'));
  const mail = await withDsn.waitFor((m) => m.messageId === delivery.messageId);

  expect(mail.dsn).toEqual({
    ret: 'HDRS',
    envid: `${CASE_ID}.client-slotOffer.2@shortnotice`,
    notify: [['FAILURE', 'DELAY', 'SUCCESS']],
  });
  // The envelope id a DSN will quote leads back to the case step that sent the message.
  expect(parseMessageRef(mail.dsn!.envid!)).toEqual({ caseId: CASE_ID, step: 'client-slotOffer', attempt: 2 });
  // Acceptance by a relay is not delivery: the case still waits for the report.
  expect(delivery.delivered).toBeUndefined();
});

test('D7 a relay that does not advertise DSN gets the message all the same, with no DSN parameters', async () => {
  const delivery = await activitiesThrough(withoutDsn).notifyClient(clientNotice('confirmation'));
  const mail = await withoutDsn.waitFor((m) => m.messageId === delivery.messageId);

  expect(mail.to).toEqual(['sam@example.org']);
  expect(mail.dsn).toBeUndefined();
});
