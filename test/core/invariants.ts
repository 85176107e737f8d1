/**
 * The safety invariants of a case, each a named check over what one step of the pure core did.
 * Shared by the property test on the core (thousands of cases) and the same test on the real
 * workflow (time-skipping server). Each returns a description of the violation, or undefined.
 */
import { RECORDS, type CaseInput, type Owner } from '../../src/shared/case';
import { inQuietHours, returnsAt, type Policy } from '../../src/shared/policy';
import { heldAbsenceUpdate, LIMITS } from '../../workflows/case/core';
import type { CaseState } from '../../workflows/case/model';
import type { Applied } from './world';

const OWNERS: Owner[] = ['client', 'therapist', 'cover', 'network', 'risk', 'support', 'lead'];

export interface StepCheck {
  name: string;
  check(a: Applied, after: CaseState, policy: Policy): string | undefined;
}

export const STEP_INVARIANTS: StepCheck[] = [
  {
    name: 'every open obligation has an owner, a deadline and a pending timer',
    check(a, s) {
      for (const ob of s.obligations) {
        if (ob.done) continue;
        if (!OWNERS.includes(ob.owner)) return `${ob.id} has no owner`;
        if (!Number.isFinite(ob.due)) return `${ob.id} has no deadline`;
        if (!(ob.chaseAt > a.at)) return `${ob.id} (${ob.kind}) has no timer still to fire: chase at ${new Date(ob.chaseAt).toISOString()}`;
      }
      return undefined;
    },
  },
  {
    name: 'every risk concern reaches risk duty in the first workflow task',
    check(a, s) {
      const raised = (a.event.type === 'start' && s.input.risk?.concern) || a.event.type === 'raiseRisk';
      if (!raised) return undefined;
      const alerted = a.commands.some((c) => c.type === 'escalate' && c.notice.team === 'risk');
      const topic = a.event.type === 'raiseRisk' ? `risk:${a.event.source}` : 'risk:therapist';
      const alreadyOpen = a.before.escalations.some((e) => e.team === 'risk' && !e.ack && e.topic === topic);
      return alerted || alreadyOpen ? undefined : `a risk concern (${a.event.type}) sent no alert to risk duty in the same task`;
    },
  },
  {
    name: 'a risk alert stays open until risk duty or a clinical lead acknowledges it',
    check(a, s) {
      for (const esc of s.escalations) {
        if (esc.team !== 'risk' || !esc.ack) continue;
        const was = a.before.escalations.find((e) => e.id === esc.id);
        if (!was || was.ack) continue;
        const e = a.event;
        const byRisk = e.type === 'acknowledge' && (e.role === 'clinical-lead' || (e.role === 'escalation-team' && e.team === 'risk'));
        const byLeadClosing = e.type === 'close' && e.role === 'clinical-lead' && !!e.riskDisposition;
        if (!byRisk && !byLeadClosing) return `risk alert ${esc.id} was cleared by ${e.type} (${'role' in e ? String(e.role) : 'no role'})`;
      }
      for (const esc of s.escalations) {
        if (esc.team === 'risk' && !esc.ack && !s.obligations.some((o) => o.id === esc.ob && !o.done)) return `risk alert ${esc.id} has no open acknowledgement duty`;
      }
      return undefined;
    },
  },
  {
    name: 'no case completes or closes with an unacknowledged risk alert',
    check(_a, s) {
      if (s.stage !== 'completed' && s.stage !== 'closed') return undefined;
      const open = s.escalations.find((e) => e.team === 'risk' && !e.ack);
      return open ? `case ${s.stage} with risk alert ${open.id} unacknowledged` : undefined;
    },
  },
  {
    name: 'no client message between 20:00 and 08:00 UK except a first notice or the answer to the client’s own action',
    check(a, s, policy) {
      if (!inQuietHours(policy, a.at)) return undefined;
      for (const c of a.commands) {
        if (c.type !== 'notifyClient') continue;
        const msg = s.messages.find((m) => m.key === c.key);
        if (!msg || msg.purpose === 'update') return `client message ${c.notice.kind} sent at ${new Date(a.at).toISOString()} (quiet hours)`;
      }
      return undefined;
    },
  },
  {
    name: 'voicemail only when the client chose it',
    check(a, s) {
      const chose = s.input.client.preferredContact === 'voicemail';
      for (const c of a.commands) {
        if (c.type === 'notifyTherapist' && c.notice.contact && c.notice.contact.voicemailAllowed !== chose) return 'a call task allowed voicemail the client did not choose';
      }
      for (const ob of s.obligations) {
        if (!ob.done && /voicemail may be left/.test(ob.what) && !chose) return `${ob.id} allows a voicemail`;
      }
      return undefined;
    },
  },
  {
    name: 'no client message after closure',
    check(a, s) {
      const closed = a.before.stage === 'closed' || s.stage === 'closed';
      if (closed && a.commands.some((c) => c.type === 'notifyClient')) return 'a message went to the client of a closed case';
      if (s.stage === 'closed' && s.messages.some((m) => m.status === 'deferred')) return 'a closed case still holds a message for the client';
      return undefined;
    },
  },
  {
    name: 'no booked slot inside a known absence',
    check(_a, s) {
      // Known: still on. Once the therapist is back, times before the old return are fair (A9).
      if (!s.bookedSlot || !s.expectedReturn || s.absence.returned) return undefined;
      return Date.parse(s.bookedSlot) < returnsAt(s.expectedReturn) ? `booked ${s.bookedSlot} before the return ${s.expectedReturn}` : undefined;
    },
  },
  {
    name: 'news that the therapist is back withdraws no booking, tells the client no return date and leaves no update about the absence held for the morning',
    check(a, s) {
      const e = a.event;
      if (e.type !== 'absence' || !e.news.returned || e.dateBeforeReturn) return undefined;
      // (Telling a client waiting for a callback who will contact them now is right: that update carries no date.)
      const aboutTheDate = (m: CaseState['messages'][number]) => m.kind === 'absenceUpdate' && !m.facts?.contactBy;
      if (!a.before.absence.returned && !e.keepHeldUpdate && s.messages.some((m) => heldAbsenceUpdate(m) && aboutTheDate(m))) return 'an update about the absence held for the morning will still go after the therapist is back';
      if (s.withdrawnSlots.length > a.before.withdrawnSlots.length) return `news that the therapist is back withdrew the booking ${s.withdrawnSlots.at(-1)}`;
      const told = new Set(a.before.messages.map((m) => m.key));
      if (s.messages.some((m) => aboutTheDate(m) && !told.has(m.key))) return 'news that the therapist is back sent the client a return date';
      return undefined;
    },
  },
  {
    name: 'an overrun that reaches the case after the therapist is back tells the client nothing and asks no one to call them',
    check(a, s) {
      const e = a.event;
      if (e.type !== 'absenceOverrun' || !a.before.absence.returned || e.sendAfterReturn) return undefined;
      const told = new Set(a.before.messages.map((m) => m.key));
      const asked = new Set(a.before.obligations.map((o) => o.id));
      if (s.messages.some((m) => !told.has(m.key))) return 'an overrun after the return sent the client a message';
      if (s.obligations.some((o) => !asked.has(o.id))) return 'an overrun after the return asked someone to contact the client';
      return undefined;
    },
  },
  {
    name: 'documentation for every cancellation is either confirmed or owned',
    check(_a, s) {
      if (s.stage === 'closed') return s.closed?.recordsWaiver || RECORDS.every((r) => s.records[r].done || (r === 'nextSession' && !s.bookedSlot)) ? undefined : 'closed with records missing and no reason';
      const owed: string[] = ['attendance', 'clinicalNote', ...(s.bookedSlot ? ['nextSession'] : [])];
      for (const r of owed) {
        if (s.records[r as keyof typeof s.records].done) continue;
        if (!s.obligations.some((o) => !o.done && o.kind === 'records' && o.records?.includes(r as never))) return `${r} is neither confirmed nor owned`;
      }
      return undefined;
    },
  },
  {
    name: "the case's state stays bounded whatever arrives",
    check(_a, s) {
      // Only what is still open may go past a limit: settled items are dropped, oldest first.
      if (s.timeline.length > LIMITS.timeline) return `timeline of ${s.timeline.length}`;
      const openObligations = s.obligations.filter((o) => !o.done).length;
      if (s.obligations.length > Math.max(LIMITS.obligations, openObligations)) return `${s.obligations.length} obligations`;
      if (openObligations > 30) return `${openObligations} open obligations`;
      const unacked = s.escalations.filter((e) => !e.ack).length;
      if (unacked > 20) return `${unacked} unacknowledged escalations`;
      if (s.escalations.length > LIMITS.escalations + unacked) return `${s.escalations.length} escalations`;
      const live = s.messages.filter((m) => m.status === 'sending' || m.status === 'deferred').length;
      if (s.messages.length > Math.max(LIMITS.messages, live)) return `${s.messages.length} messages`;
      if ((s.riskNote?.length ?? 0) > LIMITS.riskNote) return `risk note of ${s.riskNote?.length}`;
      return undefined;
    },
  },
];

/**
 * At the moment the session starts: the client was told (delivered, not just accepted), or a
 * person's phone outcome was recorded, or a person has an open duty to reach them due at or
 * before the start.
 */
export function toldBySessionStart(s: CaseState, start: number): string | undefined {
  if (s.stage === 'closed' || s.told) return undefined;
  const duty = s.obligations.some((o) => !o.done && o.clientFacing && o.owner !== 'client' && o.due <= start);
  const escalation = s.escalations.some((e) => !e.ack && e.deadline !== undefined && e.deadline <= start);
  if (duty || escalation) return undefined;
  const open = s.obligations.filter((o) => !o.done).map((o) => `${o.kind}/${o.owner}/${new Date(o.due).toISOString()}`);
  return `at the session's start (${new Date(start).toISOString()}) the client was not told and nobody was due to phone them; open: ${open.join(', ') || 'none'}; stage ${s.stage}`;
}

export const SESSION_START_INVARIANT = 'by the session’s start the client was told, or a person’s phone outcome was recorded, or a duty to reach them due at or before the start is open';

export type { CaseInput };
