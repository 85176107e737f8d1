/**
 * Development SMS: with no SMS provider configured, each text is written to the development
 * mailbox as a message to sms+<digits>@mailbox.localhost with the subject "SMS", so a person
 * can read it on the mailbox page.
 */
import { createHash } from 'node:crypto';
import type { Mailer } from '../mail/mailer';
import type { SmsSender, SmsStatus } from './sender';

export const SMS_MAILBOX_DOMAIN = 'mailbox.localhost';

export function smsMailboxAddress(phone: string): string {
  return `sms+${phone.replace(/\D/g, '')}@${SMS_MAILBOX_DOMAIN}`;
}

export class MailboxSmsSender implements SmsSender {
  /** A text written to the mailbox has arrived: there is nobody further to deliver it to. */
  readonly confirmsDelivery = true;

  constructor(
    private readonly mailbox: Mailer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async send(to: string, body: string, reference: string): Promise<{ id: string }> {
    const ref = createHash('sha256').update(reference).digest('hex').slice(0, 16);
    const at = this.now();
    const messageId = `<sms.${ref}.${at.getTime().toString(36)}@shortnotice>`;
    await this.mailbox.send({ to: smsMailboxAddress(to), subject: 'SMS', text: body, messageId, date: at });
    return { id: messageId };
  }

  status(): Promise<SmsStatus> {
    return Promise.resolve({ state: 'delivered' });
  }
}
