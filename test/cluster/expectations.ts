/**
 * The one place the fault-injection suite knows what a case does. The case workflow is being
 * rewritten; these are the behaviours a client and a team would notice, and they stay:
 *
 * - an email client offered slots gets one offer email, and the case waits for the choice
 *   (stage `awaiting-choice`);
 * - a missed choice deadline gives the therapist a follow-up duty by email (`followUpDuty`);
 * - a missed follow-up deadline escalates to the clinical network team.
 *
 * Messages are matched by recipient (every case here has its own client and therapist address)
 * and by subject for staff; a case's messages carry its id at the start of their Message-ID.
 */
import { ESCALATION_SUBJECTS, THERAPIST_SUBJECTS } from '../../src/wording/staff';
import type { ReceivedMail } from '../helpers/smtp-sink';

export const STAGE_WAITING_FOR_CHOICE = 'awaiting-choice';
export const NETWORK_TEAM = 'network.team@cluster.test';
/** Deadlines short enough to fall inside a test: the choice and the follow-up, 30 s each. */
export const SHORT_DEADLINES = { clientResponseWindowMs: 30_000, followUpWindowMs: 30_000 };

export interface CaseRef {
  /** Scenario tag: the therapist reference of every case in it (TherapistRef in visibility). */
  tag: string;
  n: number;
  sessionId: string;
  clientEmail: string;
  therapistEmail: string;
}

export function caseRef(tag: string, n: number): CaseRef {
  return {
    tag,
    n,
    sessionId: `S-${tag}-${n}`,
    clientEmail: `client-${tag}-${n}@cluster.test`,
    therapistEmail: `therapist-${tag}-${n}@cluster.test`,
  };
}

const DAY = 24 * 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** One cancelled session: an email client, two slots offered a few days ahead. */
export function submission(ref: CaseRef, now = Date.now()): unknown {
  const start = now + 3 * DAY;
  return {
    therapist: { id: ref.tag, name: `Therapist ${ref.tag}`, email: ref.therapistEmail },
    reason: 'illness',
    sessions: [
      {
        id: ref.sessionId,
        startsAt: iso(start),
        client: { ref: `C-${ref.tag}-${ref.n}`, firstName: 'Alex', preferredContact: 'email', email: ref.clientEmail },
        rebook: { slots: [iso(start + 2 * DAY), iso(start + 3 * DAY)] },
      },
    ],
  };
}

/** The same message sent again (a retried send) has the same id apart from the attempt number. */
export function logicalId(mail: ReceivedMail): string {
  return `${mail.to.join(',')}|${mail.messageId.replace(/\.\d+@shortnotice>$/, '@shortnotice>')}`;
}

export const isOfferFor = (ref: CaseRef) => (m: ReceivedMail) => m.to.includes(ref.clientEmail);

export const isFollowUpDutyFor = (ref: CaseRef) => (m: ReceivedMail) =>
  m.to.includes(ref.therapistEmail) && m.subject === THERAPIST_SUBJECTS.followUpDuty;

export const isNetworkEscalationFor = (caseId: string) => (m: ReceivedMail) =>
  m.to.includes(NETWORK_TEAM) && m.subject === ESCALATION_SUBJECTS.network && m.messageId.startsWith(`<${caseId}.`);
