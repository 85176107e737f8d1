/**
 * Builds the real activity dependencies from config; the worker calls
 * `createActivities(buildActivityDeps(config))`. Without SMTP, email goes to the development
 * mailbox; without GOV.UK Notify, SMS goes there too. In production a missing channel fails
 * each send with ChannelMisconfigured instead, so no message silently lands in a local file.
 */
import { Context } from '@temporalio/activity';
import type { Config } from '../src/config';
import type { Logger } from '../src/log';
import type { Mailer } from '../src/mail/mailer';
import type { AppMetrics } from '../src/ops/metrics';
import { SmtpMailer } from '../src/mail/smtp';
import { unavailableMailer } from '../src/mail/unavailable';
import { MailboxMailer } from '../src/mailbox/mailbox';
import { MpbRecordsChecker } from '../src/records/mpb';
import { MailboxSmsSender } from '../src/sms/mailbox-sms';
import { NotifySmsSender } from '../src/sms/notify';
import type { SmsSender } from '../src/sms/sender';
import { unavailableSms } from '../src/sms/unavailable';
import type { ActivityDeps } from './index';

/**
 * The mailer with every attempt counted (shortnotice_messages_total): accepted is sent, a throw is
 * failed, whatever the failure (a refusal, a timeout, a dropped connection).
 */
export function countedMailer(mailer: Mailer, metrics: AppMetrics): Mailer {
  return {
    async send(mail) {
      try {
        const sent = await mailer.send(mail);
        metrics.messages.inc({ channel: 'email', outcome: 'sent' });
        return sent;
      } catch (err) {
        metrics.messages.inc({ channel: 'email', outcome: 'failed' });
        throw err;
      }
    },
    close: () => mailer.close(),
    confirmsDelivery: mailer.confirmsDelivery,
  };
}

/** The SMS sender with every send attempt counted, and each text Notify reports failed counted as a bounce. */
export function countedSms(sms: SmsSender, metrics: AppMetrics): SmsSender {
  return {
    async send(to, body, reference, options) {
      try {
        const sent = await sms.send(to, body, reference, options);
        metrics.messages.inc({ channel: 'sms', outcome: 'sent' });
        return sent;
      } catch (err) {
        metrics.messages.inc({ channel: 'sms', outcome: 'failed' });
        throw err;
      }
    },
    async status(id) {
      const status = await sms.status(id);
      if (status.state === 'failed') metrics.bounces.inc({ channel: 'sms' });
      return status;
    },
    confirmsDelivery: sms.confirmsDelivery,
  };
}

export function buildActivityDeps(config: Config, logger?: Logger, metrics?: AppMetrics): ActivityDeps {
  const production = config.env === 'production';
  const now = () => new Date();
  const mailbox = () => new MailboxMailer({ dir: config.mail.mailboxDir, from: config.mail.from, now });

  let mailer: Mailer;
  if (config.mail.smtpUrl) mailer = new SmtpMailer({ url: config.mail.smtpUrl, from: config.mail.from, maxConnections: config.mail.smtpMaxConnections });
  else mailer = production ? unavailableMailer : mailbox();

  let sms: SmsSender;
  if (config.sms.notify) sms = new NotifySmsSender(config.sms.notify);
  else sms = production ? unavailableSms : new MailboxSmsSender(mailer instanceof MailboxMailer ? mailer : mailbox(), now);

  const { records } = config;
  return {
    config,
    mailer: metrics ? countedMailer(mailer, metrics) : mailer,
    sms: metrics ? countedSms(sms, metrics) : sms,
    records:
      records.mode === 'mpb' && records.baseUrl
        ? new MpbRecordsChecker({ baseUrl: records.baseUrl, token: records.token, timeoutMs: records.timeoutMs })
        : undefined,
    attempt: () => Context.current().info.attempt,
    now,
    logger,
  };
}
