/**
 * The Temporal shell of a case: it turns updates, signals, timer firings and activity results
 * into events for the pure core (core.ts), and carries out the commands the core returns. It
 * decides nothing itself. Activities run in the background (a slow channel never delays a risk
 * alert); one timer is armed for the earliest moment the case must look at itself, and a timer is
 * never cancelled: one that fires after its reason went away simply finds nothing due.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { CaseActivities } from '../../src/shared/activities';
import type { CaseInput, CloseReason } from '../../src/shared/case';
import { absenceNewsSignal, absenceOverrunSignal, caseReportSignal } from '../../src/shared/absence';
import {
  acknowledgeEscalationUpdate,
  chooseSlotUpdate,
  clientSeenSignal,
  closeCaseUpdate,
  confirmRecordUpdate,
  deliveryReportSignal,
  raiseRiskUpdate,
  recordPhoneOutcomeUpdate,
  recordRebookingUpdate,
  reportRecordsUnavailableUpdate,
  reportUnhappyUpdate,
  requestCallUpdate,
  slotTakenSignal,
  viewQuery,
} from '../../src/shared/messages';
import { withDefaults } from '../../src/shared/policy';
import {
  CancelledAtUnix,
  CaseStage,
  DocsComplete,
  EscalatedTo,
  EscalationsWaiting,
  NextDeadline,
  NextStepOwner,
  RebookedAtUnix,
  RiskConcern,
  SessionStart,
  TherapistRef,
  UnackedEscalationSince,
} from '../../src/shared/search-attributes';
import { apply, heldAbsenceUpdate, initialState, refusal } from './core';
import { countEscalations, escalationMarks } from './metrics';
import type { CaseEvent, CaseState, Command } from './model';
import { attributes, describe, escalationsWaiting, view, wakeups } from './view';

/** Client messages: a few quick retries, then the channel counts as failed and a person steps in. */
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
/**
 * Following an SMS: Notify settles most texts within minutes, and gives up on a phone that is off
 * after 72 hours, so the follow asks with growing gaps for up to four days.
 */
const smsFollow: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '4 days',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumInterval: '2 hours' },
};

const client = proxyActivities<CaseActivities>(clientChannel);
const staff = proxyActivities<CaseActivities>(staffChannel);
const records = proxyActivities<CaseActivities>(recordsCheck);
const follow = proxyActivities<CaseActivities>(smsFollow);

/** Guards the EscalationsWaiting search attribute (issue 16). */
const ESCALATIONS_WAITING_PATCH = 'escalations-waiting-attribute';
/** Guards the follow-up started when a longer absence leaves a client no offered time to choose. */
const NOTHING_LEFT_TO_CHOOSE_PATCH = 'follow-up-when-no-offered-time-left';
/** Guards taking the therapist's return before a moved date in the same news (a case joining after the return). */
const RETURN_FIRST_PATCH = 'return-before-moved-date';
/** Guards dropping, on the therapist's return, updates about the absence held for the morning. */
const DROP_HELD_UPDATE_PATCH = 'return-drops-held-absence-update';
/** Guards ignoring an overrun that reaches the case after the therapist's return. */
const OVERRUN_AFTER_RETURN_PATCH = 'overrun-after-return-ignored';

/** Keeps history well under Temporal's limits; state carries over intact. */
const HISTORY_BUDGET = 5_000;

export interface CaseOutcome {
  stage: 'completed' | 'closed';
  bookedSlot?: string;
  closedBy?: string;
  closeReason?: CloseReason;
}

export async function cancellationCase(input: CaseInput, carried?: CaseState): Promise<CaseOutcome> {
  const policy = withDefaults(input.policy);
  const state: CaseState = carried ?? initialState(input);
  /** Times a timer is armed for; one at a time is enough, since each firing re-arms for the next. */
  const armed = new Set<number>();
  let inflight = 0;
  let changed = false;

  const isOpen = () => state.stage !== 'completed' && state.stage !== 'closed';

  function run(event: CaseEvent): void {
    const before = escalationMarks(state);
    for (const command of apply(state, event, Date.now(), policy)) execute(command);
    countEscalations(before, state);
    changed = true;
  }

  /** Runs an effect beside the loop: never blocks it, never swallows a cancellation. */
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

  function execute(c: Command): void {
    const summary = (text: string) => text.slice(0, 200);
    switch (c.type) {
      case 'notifyClient':
        return background(
          () => client.notifyClient.executeWithOptions({ ...clientChannel, summary: summary(`Client by ${c.notice.channel}: ${c.label}`) }, [c.notice]),
          (delivery) => run({ type: 'sent', key: c.key, delivery }),
          (e) => run({ type: 'sendFailed', key: c.key, reason: failureText(e) }),
        );
      case 'notifyTherapist':
        return background(
          () => staff.notifyTherapist.executeWithOptions({ ...staffChannel, summary: summary(c.label) }, [c.notice]),
          (delivery) => run({ type: 'sent', key: c.key, delivery }),
          (e) => run({ type: 'sendFailed', key: c.key, reason: failureText(e) }),
        );
      case 'notifyProvider':
        return background(
          () => staff.notifyProvider.executeWithOptions({ ...staffChannel, summary: summary(c.label) }, [c.notice]),
          (delivery) => run({ type: 'sent', key: c.key, delivery }),
          (e) => run({ type: 'sendFailed', key: c.key, reason: failureText(e) }),
        );
      case 'escalate':
        return background(
          () => staff.escalate.executeWithOptions({ ...staffChannel, summary: summary(c.label) }, [c.notice]),
          (delivery) => run({ type: 'sent', key: c.key, delivery }),
          (e) => run({ type: 'sendFailed', key: c.key, reason: failureText(e) }),
        );
      case 'smsStatus':
        return background(
          () => follow.smsStatus.executeWithOptions({ ...smsFollow, summary: 'Follow the text message until it is delivered' }, [c.query]),
          (report) => run({ type: 'deliveryReport', report }),
          // Notify never said: neither delivered nor failed is known, so nothing is concluded.
          () => undefined,
        );
      case 'checkRecords':
        return background(
          () => records.checkRecords.executeWithOptions({ ...recordsCheck, summary: 'Check the MPB records' }, [c.query]),
          (found) => run({ type: 'recordsChecked', found }),
          (e) => run({ type: 'recordsChecked', error: failureText(e) }),
        );
      case 'reportToAbsence':
        // Counted as under way, so the case does not end before its last report is sent. An absence
        // that has ended has nobody left to tell; the case's own record stands.
        if (!input.absenceWorkflowId) return;
        return background(
          () => getExternalWorkflowHandle(input.absenceWorkflowId!).signal(caseReportSignal, c.report),
          () => undefined,
          () => undefined,
        );
    }
  }

  /** Arms a timer for the earliest wake-up unless one is already armed at or before it. */
  function armTimer(): void {
    const next = wakeups(state)[0];
    if (!next) return;
    for (const at of armed) if (at <= next.at) return;
    armed.add(next.at);
    sleep(Math.max(next.at - Date.now(), 1), { summary: next.why }).then(
      () => {
        armed.delete(next.at);
        if (isOpen()) run({ type: 'tick' });
      },
      (e: unknown) => {
        if (!isCancellation(e)) throw e;
      },
    );
  }

  // ---- handlers (all registered before the first await) ----------------------------------------

  const refuse = (event: CaseEvent) => {
    const why = refusal(state, event, Date.now(), policy);
    if (why) throw new Error(why);
  };
  const status = () => ({ status: describe(state) });

  setHandler(
    chooseSlotUpdate,
    ({ slot }) => {
      run({ type: 'chooseSlot', slot });
      return { slot };
    },
    { validator: ({ slot }) => refuse({ type: 'chooseSlot', slot }) },
  );
  setHandler(
    requestCallUpdate,
    () => {
      run({ type: 'requestCall' });
      return status();
    },
    { validator: () => refuse({ type: 'requestCall' }) },
  );

  setHandler(
    recordPhoneOutcomeUpdate,
    (o) => {
      run({ type: 'phoneOutcome', ...o });
      return status();
    },
    { validator: (o) => refuse({ type: 'phoneOutcome', ...o }) },
  );
  setHandler(
    recordRebookingUpdate,
    (r) => {
      run({ type: 'rebooking', ...r });
      return status();
    },
    { validator: (r) => refuse({ type: 'rebooking', ...r }) },
  );
  setHandler(
    confirmRecordUpdate,
    (r) => {
      run({ type: 'confirmRecord', ...r });
      return status();
    },
    { validator: (r) => refuse({ type: 'confirmRecord', ...r }) },
  );
  setHandler(
    reportRecordsUnavailableUpdate,
    (a) => {
      run({ type: 'recordsUnavailable', ...a });
      return status();
    },
    { validator: (a) => refuse({ type: 'recordsUnavailable', ...a }) },
  );
  setHandler(
    raiseRiskUpdate,
    (r) => {
      run({ type: 'raiseRisk', ...r });
      return status();
    },
    { validator: (r) => refuse({ type: 'raiseRisk', ...r }) },
  );
  setHandler(
    reportUnhappyUpdate,
    (r) => {
      run({ type: 'unhappy', ...r });
      return status();
    },
    { validator: (r) => refuse({ type: 'unhappy', ...r }) },
  );
  setHandler(
    closeCaseUpdate,
    (c) => {
      run({ type: 'close', ...c });
      return status();
    },
    { validator: (c) => refuse({ type: 'close', ...c }) },
  );
  setHandler(
    acknowledgeEscalationUpdate,
    (a) => {
      run({ type: 'acknowledge', ...a });
      return status();
    },
    { validator: (a) => refuse({ type: 'acknowledge', ...a }) },
  );

  setHandler(absenceNewsSignal, (news) => {
    // Asked only when the return moves (the one change the patch is about): news of a cover or of
    // the therapist's return, which repeats the expected return, records no marker.
    const moved = news.expectedReturn !== undefined && news.expectedReturn !== state.expectedReturn;
    // Likewise asked only for news that moves the return and says the therapist is back, and for a
    // return while an update about the absence is held for the morning.
    const movedAndBack = moved && news.returned;
    const backWithHeldUpdate = news.returned && !state.absence.returned && state.messages.some(heldAbsenceUpdate);
    if (isOpen()) {
      run({
        type: 'absence',
        news,
        ...(moved && !patched(NOTHING_LEFT_TO_CHOOSE_PATCH) ? { keepChoosing: true } : {}),
        ...(movedAndBack && !patched(RETURN_FIRST_PATCH) ? { dateBeforeReturn: true } : {}),
        ...(backWithHeldUpdate && !patched(DROP_HELD_UPDATE_PATCH) ? { keepHeldUpdate: true } : {}),
      });
    }
  });
  setHandler(absenceOverrunSignal, () => {
    // Asked only for an overrun after the return, the one situation the patch changes.
    if (isOpen()) run({ type: 'absenceOverrun', ...(state.absence.returned && !patched(OVERRUN_AFTER_RETURN_PATCH) ? { sendAfterReturn: true } : {}) });
  });
  setHandler(slotTakenSignal, ({ slot, from }) => run({ type: 'slotTaken', slot, from }));
  setHandler(deliveryReportSignal, (report) => {
    if (isOpen()) run({ type: 'deliveryReport', report });
  });
  setHandler(clientSeenSignal, () => {
    if (isOpen()) run({ type: 'clientSeen' });
  });
  setHandler(viewQuery, () => view(state, { sending: inflight, timers: [...armed].sort((a, b) => a - b), now: Date.now() }));

  // ---- the loop ------------------------------------------------------------------------------

  if (!carried) run({ type: 'start' });

  /** The NextDeadline the start set: contact due within contactWithinMs of the submission. */
  const startDue = Date.parse(input.submittedAt) + input.policy.contactWithinMs;
  let published = !carried && input.attributesSetAtStart ? contactingKey({ stage: 'contacting', teams: [], risk: input.risk?.concern === true, docs: false }) : '';
  /** Whether EscalationsWaiting is kept on this case (from its first waiting team; see publish). */
  let waitingPublished = false;
  let details = '';
  /** Keeps the Web UI's details and the search attributes current, upserting only on change, all together. */
  function publish(): void {
    const text = describe(state);
    if (text !== details) {
      details = text;
      setCurrentDetails(text);
    }
    // Cases recorded before EscalationsWaiting existed replay without it (their upserts stay as they
    // were). A new case asks for the patch only once a team is waiting, so a case that never
    // escalates records no patch marker and no TemporalChangeVersion upsert (two history events).
    // On replay it is asked at every step until found: a case recorded when the marker was written
    // at the start must meet the call there, and asking on replay records nothing where the
    // history has no marker.
    const current = escalationsWaiting(state);
    if (!waitingPublished && (current.length > 0 || workflowInfo().unsafe.isReplaying)) waitingPublished = patched(ESCALATIONS_WAITING_PATCH);
    const waiting = waitingPublished ? current : undefined;
    const attrs = attributes(state);
    // The charts' two times ride along with the other attributes and never cause an upsert of their
    // own, so cases recorded before they existed replay with the same commands.
    const { cancelledAt, rebookedAt, ...tracked } = attrs;
    const key = input.attributesSetAtStart && attrs.stage === 'contacting' ? contactingKey({ ...attrs, waiting }) : JSON.stringify({ ...tracked, waiting });
    if (key === published) return;
    published = key;
    upsertSearchAttributes([
      { key: CaseStage, value: attrs.stage },
      { key: TherapistRef, value: input.therapist.id },
      { key: NextDeadline, value: attrs.deadline !== undefined ? new Date(attrs.deadline) : null },
      { key: NextStepOwner, value: attrs.owner ?? null },
      { key: EscalatedTo, value: attrs.teams },
      { key: RiskConcern, value: attrs.risk },
      { key: DocsComplete, value: attrs.docs },
      { key: SessionStart, value: new Date(input.session.startsAt) },
      { key: UnackedEscalationSince, value: attrs.unacked === undefined ? null : new Date(attrs.unacked) },
      ...(waiting ? [{ key: EscalationsWaiting, value: waiting }] : []),
      { key: CancelledAtUnix, value: Math.floor(cancelledAt / 1000) },
      { key: RebookedAtUnix, value: rebookedAt === undefined ? null : Math.floor(rebookedAt / 1000) },
    ]);
  }

  /**
   * While a case started with its attributes set (`attributesSetAtStart`) is still telling the
   * client, the start's attributes stand: stage `contacting`, due within contactWithinMs of the
   * submission, no owner yet ("still telling the client" in the lead's lists). Its first task then
   * upserts nothing, one history event and one visibility write fewer for every case; the first
   * upsert comes once the client is told (or a channel fails), with every attribute in it. Anything
   * a lead must see at once still upserts here: a team escalated to, a risk, records done, or a duty
   * due sooner than the start's deadline.
   */
  function contactingKey(a: { stage: string; teams: string[]; risk: boolean; docs: boolean; unacked?: number; deadline?: number; waiting?: string[] }): string {
    const sooner = a.deadline !== undefined && a.deadline < startDue ? a.deadline : undefined;
    return JSON.stringify({ stage: a.stage, teams: a.teams, risk: a.risk, docs: a.docs, unacked: a.unacked, waiting: a.waiting, sooner });
  }

  for (;;) {
    publish();
    if (!isOpen()) break;
    if (inflight === 0 && historyTooLong()) {
      // A handler finishing during the wait may start an activity: wait for that too.
      await condition(() => inflight === 0 && allHandlersFinished());
      await continueAsNew<typeof cancellationCase>(input, state);
    }
    armTimer();
    changed = false;
    await condition(() => changed);
  }

  // Let confirmations and escalations already under way finish before the case ends.
  await condition(() => inflight === 0 && allHandlersFinished());
  publish();
  return { stage: state.stage as 'completed' | 'closed', bookedSlot: state.bookedSlot, closedBy: state.closed?.by, closeReason: state.closed?.reason };
}

function historyTooLong(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > HISTORY_BUDGET;
}

function failureText(e: unknown): string {
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type) return cause.type;
  return cause instanceof Error ? cause.message.slice(0, 200) : 'unknown failure';
}
