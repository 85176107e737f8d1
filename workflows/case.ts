/**
 * One case per cancelled session: tell the client, get them rebooked, keep everyone informed
 * while the absence lasts, escalate whatever is late, failing or risky, and make sure the
 * clinical record is complete. The workflow is a small event loop over an explicit state:
 * handlers and timers change the state, activities run in the background (so a slow channel
 * never delays a risk alert), and the loop sleeps until the next deadline or the next change.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { CaseActivities, ClientMessageKind, ClientNotice, Delivery, TherapistNotice } from '../src/shared/activities';
import {
  RECORDS,
  type CaseInput,
  type CaseView,
  type CloseReason,
  type Duty,
  type Escalation,
  type Owner,
  type RecordName,
  type RecordState,
  type Stage,
  type Team,
  type TimelineEntry,
} from '../src/shared/case';
import { caseWorkflowId } from '../src/shared/ids';
import {
  absenceChangedSignal,
  acknowledgeEscalationsUpdate,
  chooseSlotUpdate,
  closeCaseUpdate,
  confirmRecordUpdate,
  raiseRiskUpdate,
  recordPhoneOutcomeUpdate,
  recordRebookingUpdate,
  reportAbsenceUpdate,
  reportRecordsUnavailableUpdate,
  reportUnhappyUpdate,
  requestCallUpdate,
  slotTakenSignal,
  viewQuery,
  type AbsenceReport,
} from '../src/shared/messages';
import {
  absenceOverrunAt,
  callbackReminderAt,
  choiceDeadline,
  isSignificantAbsence,
  phoneOutcomeDeadline,
} from '../src/shared/policy';
import {
  CaseStage,
  DocsComplete,
  EscalatedTo,
  NextDeadline,
  NextStepOwner,
  RiskConcern,
  SessionStart,
  TherapistRef,
  UnackedEscalationSince,
} from '../src/shared/search-attributes';
import { formatUk, formatUkDate } from '../src/shared/time';

/** Client messages: a few quick retries, then the channel counts as failed and support steps in. */
const clientChannel: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 6 },
};
/** Staff messages and escalations must get out: a longer retry budget, still capped. */
const staffChannel: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
};
const recordsCheck: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
};

const client = proxyActivities<CaseActivities>(clientChannel);
const staff = proxyActivities<CaseActivities>(staffChannel);
const records = proxyActivities<CaseActivities>(recordsCheck);

/** Keeps history well under Temporal's limits; state carries over intact. */
const HISTORY_BUDGET = 5_000;

type TimerKind =
  | 'choice-deadline'
  | 'follow-up-deadline'
  | 'callback-reminder'
  | 'callback-deadline'
  | 'therapist-reminder'
  | 'phone-deadline'
  | 'support-phone-deadline'
  | 'absence-overrun'
  | 'docs-check'
  | 'docs-deadline'
  | 'docs-grace';

interface Timer {
  kind: TimerKind;
  at: number;
}

export interface CaseState {
  stage: Stage;
  seq: number;
  expectedReturn?: string;
  offeredSlots: string[];
  takenSlots: string[];
  bookedSlot?: string;
  bookedAt?: string;
  callbackBy?: string;
  duties: Duty[];
  escalations: Escalation[];
  timeline: TimelineEntry[];
  risk: boolean;
  records: Record<RecordName, RecordState>;
  recordsUnavailable: boolean;
  significantAbsenceEscalated: boolean;
  docsSupportAsked: boolean;
  closed?: { by: string; reason: CloseReason; note?: string; at: string };
  timers: Timer[];
}

export interface CaseOutcome {
  stage: 'completed' | 'closed';
  bookedSlot?: string;
  closedBy?: string;
  closeReason?: CloseReason;
}

const TIMER_SUMMARIES: Record<TimerKind, string> = {
  'choice-deadline': "Client's time to choose a slot",
  'follow-up-deadline': "Therapist's follow-up deadline",
  'callback-reminder': 'Reminder before the promised callback',
  'callback-deadline': 'Promised callback time',
  'therapist-reminder': 'Next reminder to the therapist',
  'phone-deadline': 'Deadline to reach the client by phone',
  'support-phone-deadline': "Support's deadline to reach the client by phone",
  'absence-overrun': 'Expected return from absence',
  'docs-check': 'Next check of the MPB records',
  'docs-deadline': 'Documentation deadline',
  'docs-grace': 'Documentation grace period',
};

function initialState(input: CaseInput): CaseState {
  const slots = 'slots' in input.rebook ? input.rebook.slots : [];
  return {
    stage: 'contacting',
    seq: 0,
    expectedReturn: input.expectedReturn,
    offeredSlots: slots,
    takenSlots: [],
    callbackBy: 'callbackBy' in input.rebook ? input.rebook.callbackBy : undefined,
    duties: [],
    escalations: [],
    timeline: [],
    risk: false,
    records: { attendance: { done: false }, clinicalNote: { done: false }, nextSession: { done: false } },
    recordsUnavailable: false,
    significantAbsenceEscalated: false,
    docsSupportAsked: false,
    timers: [],
  };
}

export async function cancellationCase(input: CaseInput, carried?: CaseState): Promise<CaseOutcome> {
  const { policy } = input;
  const state: CaseState = carried ?? initialState(input);
  const voicemailAllowed = input.client.preferredContact === 'voicemail';
  const byMessage = input.client.preferredContact === 'email' || input.client.preferredContact === 'sms';
  let inflight = 0;
  let changed = false;

  const now = () => Date.now();
  const iso = (ms: number = now()) => new Date(ms).toISOString();
  const step = (name: string) => `${name}-${++state.seq}`;
  const isOpen = () => state.stage !== 'completed' && state.stage !== 'closed';

  // ---- state helpers -------------------------------------------------------------------------

  function note(entry: Omit<TimelineEntry, 'at'>): void {
    state.timeline.push({ at: iso(), ...entry });
    changed = true;
  }

  function schedule(kind: TimerKind, at: number): void {
    state.timers = state.timers.filter((t) => t.kind !== kind);
    state.timers.push({ kind, at });
    changed = true;
  }

  function unschedule(...kinds: TimerKind[]): void {
    state.timers = state.timers.filter((t) => !kinds.includes(t.kind));
    changed = true;
  }

  function openDuty(what: string, owner: Owner, deadline: number): void {
    state.duties.push({ id: `duty-${++state.seq}`, what, owner, deadline: iso(deadline), openedAt: iso() });
    note({ kind: 'duty', text: `For the ${ownerName(owner)}: ${what}, by ${formatUk(deadline)}` });
  }

  /** Marks every open duty met (a case has one open duty at a time, but closure meets all). */
  function meetDuties(by: string): void {
    for (const d of state.duties) {
      if (!d.metAt) {
        d.metAt = iso();
        d.metBy = by;
      }
    }
    changed = true;
  }

  /** Hands the open duty to someone else, keeping its deadline unless a new one is given. */
  function handOver(owner: Owner, what: string, deadline?: number): void {
    const open = state.duties.find((d) => !d.metAt);
    const due = deadline ?? (open ? Date.parse(open.deadline) : now());
    if (open) {
      open.metAt = iso();
      open.metBy = `handed to ${ownerName(owner)}`;
    }
    openDuty(what, owner, due);
  }

  // ---- effects: activities run in the background; the loop never waits on a channel ---------

  function background<T>(call: () => Promise<T>, onOk: (r: T) => void, onFail: (e: unknown) => void): void {
    inflight++;
    void call()
      .then(onOk, (e: unknown) => {
        if (isCancellation(e)) throw e;
        onFail(e);
      })
      .finally(() => {
        inflight--;
        changed = true;
      });
  }

  function escalate(team: Team, reason: string, deadline?: number): void {
    state.escalations.push({ team, reason, at: iso() });
    note({ kind: 'escalation', team, text: `Escalated to ${ownerName(team)}: ${reason}` });
    background(
      () =>
        staff.escalate.executeWithOptions({ ...staffChannel, summary: `Escalate to ${ownerName(team)}` }, [{
          caseId: input.caseId,
          step: step(`escalate-${team}`),
          team,
          reason,
          therapistRef: input.therapist.id,
          sessionStartsAt: input.session.startsAt,
          deadline: deadline === undefined ? undefined : iso(deadline),
        }]),
      (d) => note({ kind: 'message', channel: d.channel, outcome: 'sent', team, text: `Escalation delivered to ${ownerName(team)}` }),
      (e) => {
        note({ kind: 'message', outcome: 'failed', team, text: `Escalation to ${ownerName(team)} could not be delivered: ${failureText(e)}` });
        // An alert that cannot reach its team goes to support to pass on by phone.
        if (team !== 'support') escalate('support', `An escalation to the ${ownerName(team)} could not be delivered; please pass it on: ${reason}`, deadline);
      },
    );
  }

  function tellTherapist(kind: TherapistNotice['kind'], text: string, extra: Partial<TherapistNotice> = {}): void {
    background(
      () =>
        staff.notifyTherapist.executeWithOptions({ ...staffChannel, summary: `Therapist: ${text}`.slice(0, 200) }, [{
          caseId: input.caseId,
          step: step(kind),
          kind,
          to: input.therapist.email,
          therapistName: input.therapist.name,
          clientRef: input.client.ref,
          clientFirstName: input.client.firstName,
          sessionStartsAt: input.session.startsAt,
          ...extra,
        }]),
      (d) => note({ kind: 'message', channel: d.channel, outcome: 'sent', text: `Therapist: ${text}` }),
      (e) => {
        note({ kind: 'message', outcome: 'failed', text: `Therapist could not be emailed (${text}): ${failureText(e)}` });
        escalate('support', `The therapist could not be emailed (${text}); please contact them`);
      },
    );
  }

  function tellProvider(kind: 'absenceExtended' | 'absenceOverrun', text: string): void {
    background(
      () =>
        staff.notifyProvider.executeWithOptions({ ...staffChannel, summary: `Provider: ${text}`.slice(0, 200) }, [{
          caseId: input.caseId,
          step: step(kind),
          kind,
          therapistRef: input.therapist.id,
          sessionStartsAt: input.session.startsAt,
          expectedReturn: state.expectedReturn,
        }]),
      (d) => note({ kind: 'message', channel: d.channel, outcome: 'sent', text: `Provider: ${text}` }),
      (e) => note({ kind: 'message', outcome: 'failed', text: `Provider could not be told (${text}): ${failureText(e)}` }),
    );
  }

  /**
   * Messages the client on their preferred channel (email or SMS). A permanent failure, or one
   * that outlasts the retry budget, goes to support at once so someone phones the client (W5).
   */
  function tellClient(kind: ClientMessageKind, text: string, onSent?: (d: Delivery) => void, facts: Partial<ClientNotice> = {}): void {
    const channel = input.client.preferredContact === 'sms' ? 'sms' : 'email';
    background(
      () =>
        client.notifyClient.executeWithOptions({ ...clientChannel, summary: `Client by ${channel}: ${text}`.slice(0, 200) }, [{
          caseId: input.caseId,
          step: step(`client-${kind}`),
          kind,
          channel,
          to: { email: input.client.email, phone: input.client.phone },
          firstName: input.client.firstName,
          sessionStartsAt: input.session.startsAt,
          slots: availableSlots(),
          callbackBy: state.callbackBy,
          bookedSlot: state.bookedSlot,
          expectedReturn: state.expectedReturn,
          ...facts,
        }]),
      (d) => {
        note({ kind: 'message', channel: d.channel, outcome: 'sent', text: `Client: ${text}` });
        onSent?.(d);
      },
      (e) => {
        note({ kind: 'message', channel, outcome: 'failed', text: `Client could not be reached by ${channel} (${text}): ${failureText(e)}` });
        // A lead closed the case, or the client was rebooked another way while this retried.
        if (state.stage === 'closed' || ((kind === 'slotOffer' || kind === 'callbackPromise') && state.bookedSlot)) return;
        const start = Date.parse(input.session.startsAt);
        const due = start > now() ? start : now() + policy.phoneOutcomeMinimumMs;
        escalate('support', `The client could not be reached by ${channel} (${text}); session ${formatUk(start)}. Please phone the client`, due);
        if ((kind === 'slotOffer' || kind === 'callbackPromise') && state.stage === 'contacting') {
          unschedule('choice-deadline', 'callback-reminder', 'callback-deadline');
          setStage('awaiting-phone-outcome');
          handOverCall(due);
        }
      },
    );
  }

  /** For phone and voicemail clients, a person makes the call: the therapist gets a task. */
  function callTask(purpose: 'cancel' | 'absenceUpdate' | 'followUp', text: string, deadline: number): void {
    tellTherapist('callTask', text, {
      deadline: iso(deadline),
      contact: { method: input.client.preferredContact, phone: input.client.phone, voicemailAllowed, purpose },
      slots: availableSlots(),
      callbackBy: state.callbackBy,
      expectedReturn: state.expectedReturn,
    });
  }

  function availableSlots(): string[] {
    return state.offeredSlots.filter((s) => !state.takenSlots.includes(s) && Date.parse(s) > now());
  }

  function setStage(stage: Stage): void {
    state.stage = stage;
    note({ kind: 'event', text: STAGE_LABELS[stage] });
  }

  // ---- transitions ---------------------------------------------------------------------------

  function contactClient(): void {
    if ('slots' in input.rebook) {
      if (byMessage) {
        tellClient('slotOffer', `cancellation with ${availableSlots().length} slots to choose from`, () => {
          if (state.stage !== 'contacting') return;
          const due = choiceDeadline(policy, now(), state.offeredSlots.map((s) => Date.parse(s)));
          setStage('awaiting-choice');
          openDuty('Choose one of the offered slots', 'client', due);
          schedule('choice-deadline', due);
        });
        return;
      }
    } else if (byMessage) {
      tellClient('callbackPromise', `cancellation; the therapist will call by ${formatUk(input.rebook.callbackBy)}`, () => {
        if (state.stage !== 'contacting') return;
        awaitCallback(Date.parse(state.callbackBy!));
      });
      return;
    }
    // One call both cancels and rebooks: due before the session, and by the promised callback.
    const promised = 'callbackBy' in input.rebook ? Date.parse(input.rebook.callbackBy) : Infinity;
    const due = Math.min(phoneOutcomeDeadline(policy, now(), Date.parse(input.session.startsAt)), promised);
    setStage('awaiting-phone-outcome');
    openDuty(voicemailAllowed ? 'Phone the client (a voicemail may be left)' : 'Phone the client (do not leave a voicemail)', 'therapist', due);
    callTask('cancel', `call task for the cancellation (${voicemailAllowed ? 'voicemail allowed' : 'no voicemail'})`, due);
    schedule('phone-deadline', due);
  }

  function awaitCallback(callbackBy: number): void {
    state.callbackBy = iso(callbackBy);
    setStage('awaiting-callback');
    openDuty('Call the client back to rebook', 'therapist', callbackBy);
    schedule('callback-reminder', callbackReminderAt(policy, now(), callbackBy));
    schedule('callback-deadline', callbackBy);
  }

  function startFollowUp(why: string): void {
    const due = now() + policy.followUpWindowMs;
    unschedule('choice-deadline');
    setStage('awaiting-follow-up');
    handOver('therapist', `Contact the client to agree a new time (${why})`, due);
    if (byMessage) tellTherapist('followUpDuty', `follow-up duty (${why})`, { deadline: iso(due), slots: availableSlots() });
    else callTask('followUp', `follow-up call task (${why})`, due);
    schedule('follow-up-deadline', due);
  }

  function book(slot: string, by: string): void {
    state.bookedSlot = slot;
    state.bookedAt = iso();
    state.callbackBy = undefined;
    meetDuties(by);
    unschedule('choice-deadline', 'follow-up-deadline', 'callback-reminder', 'callback-deadline', 'therapist-reminder', 'phone-deadline', 'support-phone-deadline');
    note({ kind: 'event', by, text: `Rebooked for ${formatUk(slot)}` });
    for (const sibling of input.siblingCaseIds) {
      void getExternalWorkflowHandle(caseWorkflowId(sibling))
        .signal(slotTakenSignal, { slot, from: input.caseId })
        .catch(() => undefined); // a finished sibling needs no news
    }
    if (byMessage) tellClient('confirmation', `new session confirmed for ${formatUk(slot)}`);
    tellTherapist('confirmation', `new session confirmed for ${formatUk(slot)}`, { bookedSlot: slot });
    startDocumentation();
  }

  function startDocumentation(): void {
    const due = now() + policy.documentationDeadlineMs;
    setStage('awaiting-documentation');
    openDuty('Add the cancellation, a clinical note and the next session to MPB', 'therapist', due);
    schedule('docs-deadline', due);
    if (input.recordsMode === 'mpb') schedule('docs-check', now() + policy.documentationCheckIntervalMs);
    if (state.recordsUnavailable) askSupportForRecords('the therapist cannot reach MPB');
  }

  function missingRecords(): RecordName[] {
    return RECORDS.filter((r) => !state.records[r].done);
  }

  function checkMpb(then?: () => void): void {
    if (input.recordsMode !== 'mpb') {
      then?.();
      return;
    }
    background(
      () =>
        records.checkRecords.executeWithOptions({ ...recordsCheck, summary: 'Check the MPB records' }, [{
          caseId: input.caseId,
          sessionId: input.session.id,
          clientRef: input.client.ref,
          therapistRef: input.therapist.id,
          cancelledAt: input.submittedAt,
        }]),
      (found) => {
        for (const r of RECORDS) {
          if (found[r] && !state.records[r].done) state.records[r] = { done: true, at: iso(), by: 'MPB', source: 'mpb' };
        }
        note({ kind: 'event', text: `MPB checked: ${RECORDS.length - missingRecords().length} of ${RECORDS.length} records found` });
        then?.();
      },
      (e) => {
        // A records system that cannot answer never counts as "documented".
        note({ kind: 'event', text: `MPB could not be checked: ${failureText(e)}` });
        then?.();
      },
    );
  }

  /** `origin`: this case took the report; it alone tells the provider, for the whole absence. */
  function applyAbsence(report: AbsenceReport, origin: boolean): void {
    if (report.expectedReturn === state.expectedReturn) return;
    state.expectedReturn = report.expectedReturn;
    note({ kind: 'event', by: report.by, text: `Expected return now ${formatUkDate(report.expectedReturn)}` });
    // The therapist cannot see anyone before the new return date: those slots are withdrawn.
    const returns = Date.parse(`${report.expectedReturn}T00:00:00Z`);
    for (const slot of state.offeredSlots) {
      if (Date.parse(slot) < returns && !state.takenSlots.includes(slot)) state.takenSlots.push(slot);
    }
    schedule('absence-overrun', absenceOverrunAt(report.expectedReturn));
    if (byMessage) tellClient('absenceUpdate', `absence update (expected return ${formatUkDate(report.expectedReturn)})`);
    else callTask('absenceUpdate', 'call task to tell the client of the longer absence', now() + policy.followUpWindowMs);
    if (origin) tellProvider('absenceExtended', `absence extended to ${formatUkDate(report.expectedReturn)}`);
    checkSignificantAbsence(origin);
  }

  /** The network team hears of a significant absence once, from one case of the absence. */
  function checkSignificantAbsence(speaksForAbsence: boolean): void {
    if (state.significantAbsenceEscalated || !state.expectedReturn) return;
    if (!isSignificantAbsence(policy, Date.parse(input.submittedAt), absenceOverrunAt(state.expectedReturn))) return;
    state.significantAbsenceEscalated = true;
    if (speaksForAbsence) escalate('network', `Significant absence: the therapist expects to return ${formatUkDate(state.expectedReturn)}`);
    else note({ kind: 'event', text: 'Significant absence: the network team is told once, through another case of this absence' });
  }

  // ---- timers --------------------------------------------------------------------------------

  function fire(kind: TimerKind): void {
    switch (kind) {
      case 'choice-deadline':
        if (state.stage === 'awaiting-choice') startFollowUp('the client has not chosen a slot');
        break;
      case 'follow-up-deadline':
        if (state.stage === 'awaiting-follow-up') {
          escalate('network', 'The client has not been rebooked after the follow-up deadline');
          schedule('therapist-reminder', now() + policy.reminderRepeatMs);
        }
        break;
      case 'callback-reminder':
        if (state.stage === 'awaiting-callback') {
          tellTherapist('callbackReminder', `reminder of the callback due ${formatUk(state.callbackBy!)}`, {
            deadline: state.callbackBy,
            callbackBy: state.callbackBy,
          });
        }
        break;
      case 'callback-deadline':
        if (state.stage === 'awaiting-callback') {
          escalate('network', `The promised callback (by ${formatUk(state.callbackBy!)}) has not led to a rebooking`);
          tellTherapist('callbackReminder', 'the promised callback time has passed', { callbackBy: state.callbackBy });
          schedule('therapist-reminder', now() + policy.reminderRepeatMs);
        }
        break;
      case 'therapist-reminder':
        if (state.stage === 'awaiting-callback' || state.stage === 'awaiting-follow-up' || state.stage === 'awaiting-phone-outcome') {
          tellTherapist(state.stage === 'awaiting-callback' ? 'callbackReminder' : 'followUpDuty', 'the client is still waiting to be rebooked', {
            callbackBy: state.callbackBy,
            slots: availableSlots(),
          });
          schedule('therapist-reminder', now() + policy.reminderRepeatMs);
        }
        break;
      case 'phone-deadline':
        if (state.stage === 'awaiting-phone-outcome') {
          const start = Date.parse(input.session.startsAt);
          const due = Math.max(start, now() + policy.phoneOutcomeMinimumMs);
          escalate('support', `No phone outcome recorded; please phone the client before the session at ${formatUk(start)}`, due);
          handOverCall(due);
        }
        break;
      case 'support-phone-deadline':
        if (state.stage === 'awaiting-phone-outcome') {
          escalate('network', `Nobody has reached the client by phone; the session was at ${formatUk(input.session.startsAt)}`);
          handOver('therapist', 'Reach the client by any means and agree a new time', now() + policy.followUpWindowMs);
          schedule('therapist-reminder', now() + policy.reminderRepeatMs);
        }
        break;
      case 'absence-overrun':
        if (isOpen() && !state.bookedSlot && state.expectedReturn) {
          tellTherapist('absenceOverrunReminder', `your expected return (${formatUkDate(state.expectedReturn)}) has passed`, {
            expectedReturn: state.expectedReturn,
          });
          tellProvider('absenceOverrun', `the expected return (${formatUkDate(state.expectedReturn)}) has passed with no update`);
          // The client hears too: no date to give, but that we have not forgotten them.
          if (byMessage) tellClient('absenceUpdate', 'still no date for a new appointment', undefined, { expectedReturn: undefined });
          else callTask('absenceUpdate', 'call task to tell the client there is still no date', now() + policy.followUpWindowMs);
          schedule('absence-overrun', now() + policy.absenceUpdateCadenceMs);
        }
        break;
      case 'docs-check':
        if (state.stage === 'awaiting-documentation') {
          checkMpb();
          schedule('docs-check', now() + policy.documentationCheckIntervalMs);
        }
        break;
      case 'docs-deadline':
        if (state.stage === 'awaiting-documentation') {
          checkMpb(() => {
            const missing = missingRecords();
            if (state.stage !== 'awaiting-documentation' || missing.length === 0) return;
            const grace = now() + policy.documentationGraceMs;
            tellTherapist('documentationReminder', `${missing.length} MPB record(s) still missing`, { missingRecords: missing, deadline: iso(grace) });
            schedule('docs-grace', grace);
          });
        }
        break;
      case 'docs-grace':
        if (state.stage === 'awaiting-documentation' && missingRecords().length > 0) askSupportForRecords('records still missing after the grace period');
        break;
    }
  }

  /** Support takes over the call; if support cannot make it in time either, the network team hears. */
  function handOverCall(due: number): void {
    unschedule('phone-deadline');
    handOver('support', 'Phone the client to tell them of the cancellation and agree a new time', due);
    schedule('support-phone-deadline', due);
  }

  /**
   * Asks support to add the records. Before the rebooking support is told at once but the duty
   * stays where it is; the hand-over happens when the documentation stage starts.
   */
  function askSupportForRecords(why: string): void {
    if (state.docsSupportAsked) return;
    const due = now() + policy.documentationGraceMs;
    escalate('support', `Please add the missing MPB records on the therapist's behalf (${why}): ${missingRecords().join(', ')}`, due);
    if (state.stage === 'awaiting-documentation') {
      state.docsSupportAsked = true;
      handOver('support', 'Add the missing records to MPB', due);
    }
  }

  // ---- handlers (all registered before the first await) ----------------------------------------

  const mustBeOpen = () => {
    if (!isOpen()) throw new Error(state.stage === 'closed' ? 'This case has been closed' : 'This case is complete');
  };
  const mustBeFuture = (when: string, what: string) => {
    const ms = Date.parse(when);
    if (Number.isNaN(ms)) throw new Error(`The ${what} is not a valid date and time`);
    if (ms <= now()) throw new Error(`The ${what} must be in the future`);
  };
  const status = () => ({ status: describe(state, input) });

  setHandler(
    chooseSlotUpdate,
    ({ slot }) => {
      if (state.bookedSlot === slot) return { slot };
      book(slot, 'client');
      return { slot };
    },
    {
      validator: ({ slot }) => {
        if (state.bookedSlot === slot) return; // a repeated choice gets the same answer
        mustBeOpen();
        if (state.bookedSlot) throw new Error('A new session has already been booked');
        if (state.stage !== 'awaiting-choice' && state.stage !== 'awaiting-follow-up') throw new Error('This case is not waiting for a choice');
        if (!state.offeredSlots.includes(slot)) throw new Error('That time was not one of the offered slots');
        if (state.takenSlots.includes(slot)) throw new Error('That time has just been taken; please choose another');
        mustBeFuture(slot, 'slot');
      },
    },
  );

  setHandler(
    requestCallUpdate,
    () => {
      if (state.stage === 'awaiting-choice') startFollowUp('the client asked to be called: none of the slots suit');
      return status();
    },
    {
      validator: () => {
        mustBeOpen();
        if (state.bookedSlot) throw new Error('A new session has already been booked');
        if (state.stage !== 'awaiting-choice' && state.stage !== 'awaiting-follow-up') throw new Error('This case is not waiting for a choice');
      },
    },
  );

  setHandler(
    recordPhoneOutcomeUpdate,
    (o) => {
      note({ kind: 'event', by: o.by, text: `Phone outcome: ${o.reached ? 'reached' : 'not reached'}` });
      if (o.reached && o.rebookedSlot) {
        book(o.rebookedSlot, o.by);
      } else if (o.reached && o.callbackBy) {
        meetDuties(o.by);
        unschedule('phone-deadline', 'support-phone-deadline', 'follow-up-deadline', 'therapist-reminder');
        awaitCallback(Date.parse(o.callbackBy));
      } else if (!o.reached && state.stage === 'awaiting-phone-outcome' && !state.duties.some((d) => !d.metAt && d.owner === 'support')) {
        const start = Date.parse(input.session.startsAt);
        const due = Math.max(start, now() + policy.phoneOutcomeMinimumMs);
        escalate('support', `The therapist could not reach the client by phone; please try before the session at ${formatUk(start)}`, due);
        handOverCall(due);
      } else if (!o.reached && state.stage === 'awaiting-phone-outcome') {
        escalate('network', 'Neither the therapist nor support has reached the client by phone');
      }
      return status();
    },
    {
      validator: (o) => {
        mustBeOpen();
        if (state.bookedSlot) throw new Error('A new session has already been booked');
        if (o.reached && !o.rebookedSlot && !o.callbackBy) throw new Error('Record the new session time, or when you will call the client back');
        if (o.rebookedSlot) mustBeFuture(o.rebookedSlot, 'new session time');
        if (o.callbackBy) mustBeFuture(o.callbackBy, 'callback time');
      },
    },
  );

  setHandler(
    recordRebookingUpdate,
    ({ slot, by }) => {
      if (state.bookedSlot !== slot) book(slot, by);
      return status();
    },
    {
      validator: ({ slot }) => {
        mustBeOpen();
        if (state.bookedSlot === slot) return;
        if (state.bookedSlot) throw new Error('A new session has already been booked');
        mustBeFuture(slot, 'new session time');
      },
    },
  );

  setHandler(
    reportAbsenceUpdate,
    (report) => {
      if (report.expectedReturn !== state.expectedReturn) {
        applyAbsence(report, true);
        for (const sibling of input.siblingCaseIds) {
          void getExternalWorkflowHandle(caseWorkflowId(sibling))
            .signal(absenceChangedSignal, report)
            .catch(() => undefined); // a finished sibling has nobody left to tell
        }
      }
      return status();
    },
    {
      validator: ({ expectedReturn }) => {
        mustBeOpen();
        if (!/^\d{4}-\d{2}-\d{2}$/.test(expectedReturn) || Number.isNaN(Date.parse(expectedReturn))) throw new Error('Enter the expected return as a date');
        if (absenceOverrunAt(expectedReturn) < now()) throw new Error('The expected return must be today or later');
      },
    },
  );

  setHandler(absenceChangedSignal, (report) => {
    if (isOpen()) applyAbsence(report, false);
  });

  setHandler(slotTakenSignal, ({ slot, from }) => {
    if (!state.takenSlots.includes(slot)) state.takenSlots.push(slot);
    // Two clients of the same absence chose the same time at once: one of the two cases says so.
    if (state.bookedSlot === slot && from !== undefined && from < input.caseId && isOpen()) {
      escalate('support', `Two clients of this absence booked the same time (${formatUk(slot)}); please rebook one of them`);
    }
    changed = true;
  });

  setHandler(
    confirmRecordUpdate,
    ({ record, by }) => {
      if (!state.records[record].done) {
        state.records[record] = { done: true, at: iso(), by, source: 'attestation' };
        note({ kind: 'event', by, text: `Confirmed in MPB: ${RECORD_LABELS[record]}` });
      }
      return status();
    },
    {
      validator: ({ record }) => {
        mustBeOpen();
        if (!RECORDS.includes(record)) throw new Error('Unknown record');
        if (record === 'nextSession' && !state.bookedSlot) throw new Error('Record the rebooking before confirming the next session in MPB');
      },
    },
  );

  setHandler(
    reportRecordsUnavailableUpdate,
    ({ by }) => {
      if (!state.recordsUnavailable) {
        state.recordsUnavailable = true;
        note({ kind: 'event', by, text: 'The therapist reported that MPB cannot be reached' });
        state.docsSupportAsked = false;
        askSupportForRecords('the therapist cannot reach MPB');
      }
      return status();
    },
    { validator: (_action) => mustBeOpen() },
  );

  setHandler(
    raiseRiskUpdate,
    ({ by, source }) => {
      state.risk = true;
      note({ kind: 'event', by, text: `Risk concern raised by the ${source}` });
      escalate('risk', `A ${source === 'client' ? "client's" : 'therapist'} risk concern has been raised; see the case page now`);
      return status();
    },
    { validator: (_action) => mustBeOpen() },
  );

  setHandler(
    reportUnhappyUpdate,
    ({ by, source, cannotWait }) => {
      note({ kind: 'event', by, text: `${source === 'client' ? 'The client' : 'The therapist'} reported the client ${cannotWait ? 'cannot wait' : 'is unhappy'}` });
      escalate('network', cannotWait ? 'The client feels unable to wait for the therapist to return' : 'The client is unhappy with the cancellation');
      return status();
    },
    { validator: (_action) => mustBeOpen() },
  );

  setHandler(
    closeCaseUpdate,
    ({ by, reason, note: why }) => {
      state.closed = { by, reason, note: why, at: iso() };
      meetDuties(by);
      state.timers = [];
      state.stage = 'closed';
      note({ kind: 'event', by, text: `Closed by ${by}: ${reason}` });
      return status();
    },
    {
      validator: ({ by }) => {
        mustBeOpen();
        if (!by.trim()) throw new Error('Say who is closing the case');
      },
    },
  );

  setHandler(
    acknowledgeEscalationsUpdate,
    ({ by }) => {
      for (const e of state.escalations) {
        if (!e.acknowledgedAt) {
          e.acknowledgedAt = iso();
          e.acknowledgedBy = by;
        }
      }
      for (const d of state.duties) {
        if (!d.metAt && d.owner === 'risk') {
          d.metAt = iso();
          d.metBy = by;
        }
      }
      note({ kind: 'event', by, text: 'Escalations acknowledged' });
      return status();
    },
    {
      validator: (_action) => {
        if (!state.escalations.some((e) => !e.acknowledgedAt)) throw new Error('There is no escalation waiting for acknowledgement');
      },
    },
  );

  setHandler(viewQuery, () => ({ ...view(state, input), sending: inflight }));

  // ---- start ---------------------------------------------------------------------------------

  if (!carried) {
    note({ kind: 'event', text: `Case opened: session ${formatUk(input.session.startsAt)} cancelled by the therapist` });
    if (input.risk?.concern) {
      state.risk = true;
      escalate('risk', 'A risk concern was recorded when the session was cancelled; see the case page now');
    }
    contactClient();
    if (state.expectedReturn) {
      schedule('absence-overrun', absenceOverrunAt(state.expectedReturn));
      checkSignificantAbsence([input.caseId, ...input.siblingCaseIds].sort()[0] === input.caseId);
    }
  }

  // ---- the loop ------------------------------------------------------------------------------

  let published = '';
  for (;;) {
    publish();
    if (!isOpen()) break;
    if (state.bookedSlot && missingRecords().length === 0) {
      if (!riskAwaitingAcknowledgement()) break;
      awaitRiskAcknowledgement();
    }
    if (inflight === 0 && historyTooLong()) {
      // A handler finishing during the wait may start an activity: wait for that too.
      await condition(() => inflight === 0 && allHandlersFinished());
      await continueAsNew<typeof cancellationCase>(input, state);
    }
    const next = state.timers.reduce<Timer | undefined>((a, t) => (!a || t.at < a.at ? t : a), undefined);
    changed = false;
    if (next) {
      await condition(() => changed, Math.max(next.at - now(), 1), { summary: TIMER_SUMMARIES[next.kind] });
    } else {
      await condition(() => changed);
    }
    for (const due of state.timers.filter((t) => t.at <= now()).sort((a, b) => a.at - b.at)) {
      state.timers = state.timers.filter((t) => t !== due);
      fire(due.kind);
    }
  }

  if (state.stage !== 'closed') {
    meetDuties(input.therapist.id);
    state.timers = [];
    state.stage = 'completed';
    note({ kind: 'event', text: 'Case complete: rebooked and documented' });
  }
  // Let confirmations and escalations already under way finish before the case ends.
  await condition(() => inflight === 0 && allHandlersFinished());
  publish();
  return { stage: state.stage as 'completed' | 'closed', bookedSlot: state.bookedSlot, closedBy: state.closed?.by, closeReason: state.closed?.reason };

  function riskAwaitingAcknowledgement(): Escalation | undefined {
    return state.escalations.find((e) => e.team === 'risk' && !e.acknowledgedAt);
  }

  /** Rebooked and documented, but a risk concern has not been acknowledged: that is the duty now. */
  function awaitRiskAcknowledgement(): void {
    const risk = riskAwaitingAcknowledgement();
    if (!risk || state.duties.some((d) => !d.metAt && d.owner === 'risk')) return;
    meetDuties(input.therapist.id);
    openDuty('Acknowledge the risk concern on the case page', 'risk', Date.parse(risk.at) + policy.escalationAckWindowMs);
  }

  function historyTooLong(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > HISTORY_BUDGET;
  }

  /** Keeps the Web UI's details and the search attributes current, upserting only on change. */
  function publish(): void {
    const openDuty = state.duties.find((d) => !d.metAt);
    const unacked = state.escalations.filter((e) => !e.acknowledgedAt).map((e) => Date.parse(e.at));
    const attrs = {
      stage: state.stage,
      // Until the client has been told, the case is due within contactWithinMs of submission,
      // so a case no worker ever picks up still turns late. Cases started before the setting
      // existed carry a policy without it.
      deadline: openDuty?.deadline ?? (state.stage === 'contacting' ? iso(Date.parse(input.submittedAt) + (policy.contactWithinMs ?? 3_600_000)) : undefined),
      owner: openDuty?.owner,
      teams: [...new Set(state.escalations.map((e) => e.team))].sort(),
      risk: state.risk,
      docs: missingRecords().length === 0,
      unacked: unacked.length > 0 ? Math.min(...unacked) : undefined,
    };
    const text = describe(state, input);
    setCurrentDetails(text);
    const key = JSON.stringify(attrs);
    if (key === published) return;
    published = key;
    upsertSearchAttributes([
      { key: CaseStage, value: attrs.stage },
      { key: TherapistRef, value: input.therapist.id },
      { key: NextDeadline, value: attrs.deadline && isOpen() ? new Date(attrs.deadline) : null },
      { key: NextStepOwner, value: attrs.owner && isOpen() ? attrs.owner : null },
      { key: EscalatedTo, value: attrs.teams },
      { key: RiskConcern, value: attrs.risk },
      { key: DocsComplete, value: attrs.docs },
      { key: SessionStart, value: new Date(input.session.startsAt) },
      { key: UnackedEscalationSince, value: attrs.unacked === undefined ? null : new Date(attrs.unacked) },
    ]);
  }
}

const STAGE_LABELS: Record<Stage, string> = {
  contacting: 'Telling the client',
  'awaiting-choice': "Waiting for the client's choice",
  'awaiting-callback': 'Waiting for the promised callback',
  'awaiting-phone-outcome': 'Waiting for the phone call to the client',
  'awaiting-follow-up': 'Waiting for the therapist to follow up',
  'awaiting-documentation': 'Rebooked; waiting for the MPB records',
  completed: 'Complete',
  closed: 'Closed',
};

const RECORD_LABELS: Record<RecordName, string> = {
  attendance: 'attendance marked "Appointment Cancelled by Therapist/VHG"',
  clinicalNote: 'clinical note of how the client was told and what was agreed',
  nextSession: 'next session booked',
};

function ownerName(owner: Owner): string {
  switch (owner) {
    case 'network':
      return 'clinical network team';
    case 'risk':
      return 'risk duty';
    case 'support':
      return 'support';
    case 'client':
      return 'client';
    case 'therapist':
      return 'therapist';
  }
}

function failureText(e: unknown): string {
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type) return cause.type;
  return cause instanceof Error ? cause.message.slice(0, 200) : 'unknown failure';
}

/** The case in one sentence, without the client's name (it is shown in the Web UI). */
export function describe(state: CaseState, input: CaseInput): string {
  const duty = state.duties.find((d) => !d.metAt);
  const until = duty ? ` until ${formatUk(duty.deadline)}` : '';
  const escalated = state.escalations.some((e) => !e.acknowledgedAt) ? ' Escalated, awaiting acknowledgement.' : '';
  switch (state.stage) {
    case 'contacting':
      return `Telling the client by ${input.client.preferredContact}.${escalated}`;
    case 'awaiting-choice': {
      const n = state.offeredSlots.filter((s) => !state.takenSlots.includes(s)).length;
      return `Waiting for the client's choice${until}; ${n} slot${n === 1 ? '' : 's'} offered.${escalated}`;
    }
    case 'awaiting-callback':
      return `Waiting for ${duty ? ownerName(duty.owner) : 'the therapist'} to call the client back to rebook${until}.${escalated}`;
    case 'awaiting-phone-outcome':
      return `Waiting for ${duty ? ownerName(duty.owner) : 'the therapist'} to phone the client${until}.${escalated}`;
    case 'awaiting-follow-up':
      return `Waiting for the therapist to follow up with the client${until}.${escalated}`;
    case 'awaiting-documentation': {
      if (duty?.owner === 'risk') return `Rebooked and documented; waiting for a clinical lead or risk duty to acknowledge the risk concern${until}.${escalated}`;
      const done = RECORDS.filter((r) => state.records[r].done).length;
      return `Rebooked for ${formatUk(state.bookedSlot!)}; waiting for ${duty ? ownerName(duty.owner) : 'the therapist'} to complete the MPB records (${done} of 3)${until}.${escalated}`;
    }
    case 'completed':
      return `Complete: rebooked for ${formatUk(state.bookedSlot!)} and documented.`;
    case 'closed':
      return `Closed by ${state.closed?.by ?? 'a clinical lead'}: ${state.closed?.reason ?? ''}.`;
  }
}

function view(state: CaseState, input: CaseInput): Omit<CaseView, 'sending'> {
  const duty = state.duties.find((d) => !d.metAt);
  return {
    caseId: input.caseId,
    absenceId: input.absenceId,
    siblingCaseIds: input.siblingCaseIds,
    stage: state.stage,
    status: describe(state, input),
    therapistId: input.therapist.id,
    therapistName: input.therapist.name,
    clientFirstName: input.client.firstName,
    preferredContact: input.client.preferredContact,
    sessionStartsAt: input.session.startsAt,
    offeredSlots: state.offeredSlots.filter((s) => !state.takenSlots.includes(s)),
    bookedSlot: state.bookedSlot,
    callbackBy: state.callbackBy,
    expectedReturn: state.expectedReturn,
    nextDeadline: duty?.deadline,
    duties: state.duties,
    escalations: state.escalations,
    timeline: state.timeline,
    risk: state.risk,
    riskNote: input.risk?.note,
    records: state.records,
    recordsMode: input.recordsMode,
    recordsUnavailable: state.recordsUnavailable,
    closed: state.closed,
  };
}
