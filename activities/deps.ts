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
import { SmtpMailer } from '../src/mail/smtp';
import { unavailableMailer } from '../src/mail/unavailable';
import { MailboxMailer } from '../src/mailbox/mailbox';
import { MpbRecordsChecker } from '../src/records/mpb';
import { MailboxSmsSender } from '../src/sms/mailbox-sms';
import { NotifySmsSender } from '../src/sms/notify';
import type { SmsSender } from '../src/sms/sender';
import { unavailableSms } from '../src/sms/unavailable';
import type { ActivityDeps } from './index';

export function buildActivityDeps(config: Config, logger?: Logger): ActivityDeps {
  const production = config.env === 'production';
  const now = () => new Date();
  const mailbox = () => new MailboxMailer({ dir: config.mail.mailboxDir, from: config.mail.from, now });

  let mailer: Mailer;
  if (config.mail.smtpUrl) mailer = new SmtpMailer({ url: config.mail.smtpUrl, from: config.mail.from });
  else mailer = production ? unavailableMailer : mailbox();

  let sms: SmsSender;
  if (config.sms.notify) sms = new NotifySmsSender(config.sms.notify);
  else sms = production ? unavailableSms : new MailboxSmsSender(mailer instanceof MailboxMailer ? mailer : mailbox(), now);

  const { records } = config;
  return {
    config,
    mailer,
    sms,
    records:
      records.mode === 'mpb' && records.baseUrl
        ? new MpbRecordsChecker({ baseUrl: records.baseUrl, token: records.token, timeoutMs: records.timeoutMs })
        : undefined,
    attempt: () => Context.current().info.attempt,
    now,
    logger,
  };
}
