/**
 * The case workflow's activities. Each one is thin: pick the channel, render the wording, send,
 * and return what was delivered. Every client, clock and attempt counter comes in through
 * `deps`, so tests drive them without a Temporal worker and nothing is created at import time.
 * Each delivery is logged by case, step, channel and message id: never an address or a name.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../src/config';
import { silentLogger, type Logger } from '../src/log';
import { LinkSealer } from '../src/links';
import { clientEmail, clientFacts } from '../src/wording/client';
import type { EmailContent } from '../src/mail/content';
import { INVALID_NOTICE } from '../src/mail/format';
import { messageIdFor, type Mailer } from '../src/mail/mailer';
import { createEmailRenderer } from '../src/mail/render';
import { escalationEmail, providerEmail, therapistEmail, type StaffContext } from '../src/wording/staff';
import type { RecordsChecker } from '../src/records/checker';
import { clientSms } from '../src/wording/sms';
import type { SmsSender } from '../src/sms/sender';
import { FailureType, type CaseActivities, type Delivery } from '../src/shared/activities';
import { TEAMS, type CaseInput } from '../src/shared/case';
import { choiceDeadline } from '../src/shared/policy';

export interface ActivityDeps {
  config: Config;
  mailer: Mailer;
  sms: SmsSender;
  /** Absent in attestation mode (therapists confirm records on the case page). */
  records?: RecordsChecker;
  /** The current activity attempt, from 1 (Context.current().info.attempt in the worker). */
  attempt(): number;
  now(): Date;
  /** Redacting logger (src/log.ts); silent when not given. */
  logger?: Logger;
  /** Starts a case workflow (the worker's one Temporal client); absent where no absence starts cases. */
  startCase?: (input: CaseInput) => Promise<void>;
}

export function createActivities(deps: ActivityDeps): CaseActivities {
  const { config } = deps;
  const log = deps.logger ?? silentLogger;
  const render = createEmailRenderer();
  const links = new LinkSealer(config.linkKeys, () => deps.now().getTime());
  const staff: StaffContext = {
    publicBaseUrl: config.publicBaseUrl,
    serviceName: config.serviceName,
    supportEmail: config.teams.support,
    supportPhone: config.teams.supportPhone,
    recordsMode: config.records.mode,
  };

  async function email(to: string, caseId: string, step: string, content: EmailContent, audience: string): Promise<Delivery> {
    const messageId = messageIdFor(caseId, step, deps.attempt());
    await deps.mailer.send({ to, messageId, date: deps.now(), ...render(content) });
    log.info({ event: 'sent', caseId, step, channel: 'email', audience, messageId }, 'email sent');
    return { channel: 'email', messageId, acceptedAt: deps.now().toISOString(), ...(deps.mailer.confirmsDelivery ? { delivered: true } : {}) };
  }

  return {
    async notifyClient(notice) {
      const chooseUrl =
        notice.kind === 'slotOffer'
          ? `${config.publicBaseUrl}/c/${links.seal(notice.caseId, 'choose', config.policy.clientLinkTtlMs)}`
          : undefined;
      // The client is asked to choose by the deadline the case sets once the message is accepted,
      // worked out the same way from now under the same POLICY_JSON: never later than the case's.
      const chooseBy =
        notice.kind === 'slotOffer' && notice.slots?.length
          ? new Date(
              choiceDeadline(
                config.policy,
                deps.now().getTime(),
                notice.slots.map((x) => Date.parse(x)),
              ),
            ).toISOString()
          : undefined;
      const facts = clientFacts(notice, chooseUrl, chooseBy);
      const wording = { serviceName: config.serviceName, phone: config.appointmentsPhone };
      if (notice.channel === 'email') {
        const to = address(notice.to.email, 'email address');
        return email(to, notice.caseId, notice.step, clientEmail(facts, wording), 'client');
      }
      if (notice.channel === 'sms') {
        const phone = address(notice.to.phone, 'mobile number');
        const reference = smsReference(notice.caseId, notice.step);
        const sent = await deps.sms.send(phone, clientSms(facts, wording), reference, { retry: deps.attempt() > 1 });
        log.info({ event: 'sent', caseId: notice.caseId, step: notice.step, channel: 'sms', audience: 'client', messageId: sent.id }, 'sms sent');
        return {
          channel: 'sms',
          messageId: sent.id,
          notifyId: sent.id,
          acceptedAt: deps.now().toISOString(),
          ...(deps.sms.confirmsDelivery ? { delivered: true } : {}),
        };
      }
      throw ApplicationFailure.nonRetryable('A client notice needs the channel email or sms', INVALID_NOTICE);
    },

    async notifyTherapist(notice) {
      return email(address(notice.to, 'therapist email address'), notice.caseId, notice.step, therapistEmail(notice, staff), 'therapist');
    },

    async notifyProvider(notice) {
      return email(config.teams.provider, notice.caseId, notice.step, providerEmail(notice, staff), 'provider');
    },

    async escalate(notice) {
      if (!(TEAMS as readonly string[]).includes(notice.team)) {
        throw ApplicationFailure.nonRetryable('An escalation needs a known team', INVALID_NOTICE);
      }
      const to = notice.recipient ?? notice.team;
      if (!(TEAMS as readonly string[]).includes(to)) throw ApplicationFailure.nonRetryable('An escalation copy needs a known team', INVALID_NOTICE);
      return email(config.teams[to], notice.caseId, notice.step, escalationEmail(notice, staff), `team:${to}`);
    },

    async startCase(input) {
      if (!deps.startCase) throw ApplicationFailure.nonRetryable('This worker cannot start cases (no Temporal client given)', FailureType.ChannelMisconfigured);
      await deps.startCase(input);
      log.info({ event: 'case-started', caseId: input.caseId }, 'follow-on case started');
    },

    async smsStatus(query) {
      const status = await deps.sms.status(query.notifyId);
      log.info({ event: 'sms-status', caseId: query.caseId, step: query.step, state: status.state, providerStatus: status.reason }, 'sms status');
      // Still on its way: fail retryably, so Temporal asks again later with backoff.
      if (status.state === 'pending') throw ApplicationFailure.retryable(`The text is still on its way (${status.reason ?? 'pending'})`, 'DeliveryPending');
      if (status.state === 'unknown') throw ApplicationFailure.nonRetryable(`No delivery receipt can be had (${status.reason ?? 'unknown'})`, 'DeliveryUnknown');
      return { step: query.step, status: status.state, ...(status.reason ? { reason: status.reason } : {}) };
    },

    async checkRecords(query) {
      if (config.records.mode !== 'mpb' || !deps.records) {
        throw ApplicationFailure.nonRetryable(
          'Records are confirmed by attestation on the case page; MPB is not configured (MPB_MODE, MPB_BASE_URL)',
          FailureType.ChannelMisconfigured,
        );
      }
      return deps.records.check(query);
    },
  };
}

/** The address the notice was sent to; without one the channel cannot be used for this person. */
function address(value: string | undefined, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw ApplicationFailure.nonRetryable(`The notice has no ${what}`, FailureType.ChannelRejected);
  }
  return value.trim();
}

/** Notify's reference for a text: case and step, no personal data, the same on every attempt. */
export function smsReference(caseId: string, step: string): string {
  return `${caseId}.${step}`.replace(/[^A-Za-z0-9._-]+/g, '-');
}
