/**
 * The Temporal shell of a therapist's absence: signals, updates, timers and activity results in;
 * the absence core's commands out (notices, alerts, news to the cases, follow-on cases). Every
 * submission of the therapist joins it with signal-with-start; it ends when the therapist is back
 * and every case of the absence has settled, and continues as new when its history grows long.
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
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import {
  absenceNewsSignal,
  absenceOverrunSignal,
  absenceViewQuery,
  assignCoverUpdate,
  caseReportSignal,
  claimSlotUpdate,
  joinAbsenceSignal,
  releaseSlotSignal,
  reportAbsenceReturnUpdate,
  reportBackUpdate,
  type AbsenceInput,
  type AbsenceView,
} from '../../src/shared/absence';
import type { CaseActivities } from '../../src/shared/activities';
import { caseWorkflowId } from '../../src/shared/ids';
import { slotTakenSignal } from '../../src/shared/messages';
import { returnsAt, withDefaults } from '../../src/shared/policy';
import { AbsenceReturn, OpenCases, TherapistRef } from '../../src/shared/search-attributes';
import { formatUkDate } from '../../src/shared/time';
import { absenceOver, absenceRefusal, absenceWakeups, applyAbsence, initialAbsence, type AbsenceCommand, type AbsenceEvent, type AbsenceState } from './core';

/** Notices and alerts must get out: the same budget as the case's staff messages. */
const staffChannel: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
};
const staff = proxyActivities<CaseActivities>(staffChannel);

const HISTORY_BUDGET = 5_000;

export async function therapistAbsence(input: AbsenceInput, carried?: AbsenceState): Promise<{ returnedAt?: string; cases: number }> {
  const policy = withDefaults(input.policy);
  const state: AbsenceState = carried ?? initialAbsence(input);
  const armed = new Set<number>();
  let inflight = 0;
  let changed = false;

  function run(event: AbsenceEvent): void {
    for (const c of applyAbsence(state, event, Date.now(), policy)) execute(c);
    changed = true;
  }

  function background(call: () => Promise<unknown>, key: string): void {
    inflight++;
    void call()
      .then(
        () => run({ type: 'sent', key }),
        (e: unknown) => {
          if (isCancellation(e)) throw e;
          run({ type: 'sendFailed', key, reason: failureText(e) });
        },
      )
      .finally(() => {
        inflight--;
        changed = true;
      });
  }

  /** A signal to a case, counted as under way until sent; a case that has finished needs no news. */
  function tell(caseId: string, send: (h: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): void {
    inflight++;
    void send(getExternalWorkflowHandle(caseWorkflowId(caseId)))
      .catch((e: unknown) => {
        if (isCancellation(e)) throw e;
      })
      .finally(() => {
        inflight--;
        changed = true;
      });
  }

  function execute(c: AbsenceCommand): void {
    switch (c.type) {
      case 'notifyProvider':
        return background(() => staff.notifyProvider.executeWithOptions({ ...staffChannel, summary: `Provider: ${c.notice.kind}` }, [c.notice]), c.key);
      case 'escalate':
        return background(() => staff.escalate.executeWithOptions({ ...staffChannel, summary: `Alert to ${c.notice.team}` }, [c.notice]), c.key);
      case 'notifyTherapist':
        return background(() => staff.notifyTherapist.executeWithOptions({ ...staffChannel, summary: 'Therapist: expected return has passed' }, [c.notice]), c.key);
      case 'news':
        return tell(c.caseId, (h) => h.signal(absenceNewsSignal, c.news));
      case 'overrun':
        return tell(c.caseId, (h) => h.signal(absenceOverrunSignal));
      case 'slotTaken':
        return tell(c.caseId, (h) => h.signal(slotTakenSignal, { slot: c.slot, from: c.from }));
      case 'startCase':
        // Started by an activity, not as a child: the follow-on case outlives this absence and its runs.
        inflight++;
        void staff.startCase
          .executeWithOptions({ ...staffChannel, summary: 'Start the follow-on case' }, [c.input])
          .catch((e: unknown) => {
            if (isCancellation(e)) throw e;
          })
          .finally(() => {
            inflight--;
            changed = true;
          });
        return;
    }
  }

  function armTimer(): void {
    const next = absenceWakeups(state)[0];
    if (!next) return;
    for (const at of armed) if (at <= next.at) return;
    armed.add(next.at);
    sleep(Math.max(next.at - Date.now(), 1), { summary: next.why }).then(
      () => {
        armed.delete(next.at);
        run({ type: 'tick' });
      },
      (e: unknown) => {
        if (!isCancellation(e)) throw e;
      },
    );
  }

  const refuse = (event: AbsenceEvent) => {
    const why = absenceRefusal(state, event, Date.now());
    if (why) throw new Error(why);
  };

  setHandler(joinAbsenceSignal, (join) => run({ type: 'join', join }));
  setHandler(caseReportSignal, (report) => run({ type: 'caseReport', report }));
  setHandler(releaseSlotSignal, (claim) => run({ type: 'release', claim }));
  setHandler(
    claimSlotUpdate,
    (claim) => {
      run({ type: 'claim', claim });
      return { slot: claim.slot };
    },
    { validator: (claim) => refuse({ type: 'claim', claim }) },
  );
  setHandler(
    reportAbsenceReturnUpdate,
    (r) => {
      run({ type: 'report', by: r.by, expectedReturn: r.expectedReturn });
      return { expectedReturn: state.expectedReturn };
    },
    { validator: (r) => refuse({ type: 'report', by: r.by, expectedReturn: r.expectedReturn }) },
  );
  setHandler(reportBackUpdate, (r) => {
    run({ type: 'back', by: r.by });
    return { returnedAt: new Date(state.returnedAt!).toISOString() };
  });
  setHandler(assignCoverUpdate, (c) => {
    run({ type: 'cover', by: c.by, cover: c.cover });
    return { cover: state.cover };
  });
  setHandler(absenceViewQuery, () => absenceView(state, Date.now()));

  let published = publishedAtStart();
  let details = '';
  function publish(): void {
    const text = describeAbsence(state);
    if (text !== details) {
      details = text;
      setCurrentDetails(text);
    }
    const open = state.cases.filter((c) => c.open).length;
    const key = `${state.expectedReturn ?? ''}|${open}|${state.returnedAt ?? ''}`;
    if (key === published) return;
    published = key;
    upsertSearchAttributes([
      { key: TherapistRef, value: input.therapist.id },
      { key: AbsenceReturn, value: state.returnedAt ? 'back' : (state.expectedReturn ?? 'unknown') },
      { key: OpenCases, value: open },
    ]);
  }

  for (;;) {
    publish();
    if (absenceOver(state, Date.now())) break;
    if (inflight === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.historyBudget ?? HISTORY_BUDGET))) {
      await condition(() => inflight === 0 && allHandlersFinished());
      await continueAsNew<typeof therapistAbsence>(input, state);
    }
    // The overrun check at the end of the expected return day also ends an absence whose cases have all settled.
    armTimer();
    changed = false;
    await condition(() => changed);
  }
  await condition(() => inflight === 0 && allHandlersFinished());
  return { ...(state.returnedAt ? { returnedAt: new Date(state.returnedAt).toISOString() } : {}), cases: state.cases.length };
}

/**
 * What the run's search attributes already say, in publish's terms. The submission that starts an
 * absence sets its return and one open case (CaseService.joinAbsence), and a run that continued as
 * new starts with its predecessor's: when the state still agrees, the first task upserts nothing (one
 * history event and one visibility write fewer for every absence). An absence started without
 * OpenCases (before it was set at the start) upserts in its first task as it always did, so its
 * recorded history replays unchanged.
 */
function publishedAtStart(): string {
  const attrs = workflowInfo().typedSearchAttributes;
  const open = attrs.get(OpenCases);
  const returns = attrs.get(AbsenceReturn);
  if (open === undefined || returns === undefined || returns === 'back') return '';
  return `${returns === 'unknown' ? '' : returns}|${open}|`;
}

export function absenceView(state: AbsenceState, now: number): AbsenceView {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    absenceId: state.input.absenceId,
    therapistId: state.input.therapist.id,
    therapistName: state.input.therapist.name,
    openedAt: state.input.openedAt,
    ...(state.expectedReturn ? { expectedReturn: state.expectedReturn } : {}),
    ...(state.returnedAt ? { returnedAt: iso(state.returnedAt) } : {}),
    away: !state.returnedAt && !!state.expectedReturn && now < returnsAt(state.expectedReturn),
    ...(state.cover ? { cover: state.cover } : {}),
    // In the order of the sessions, whichever submission each came in (the case page lists them so).
    sessions: [...state.cases].sort((x, y) => x.sessionStartsAt.localeCompare(y.sessionStartsAt)).map((c) => ({ caseId: c.caseId, clientFirstName: c.client.firstName, sessionStartsAt: c.sessionStartsAt, stage: c.stage, open: c.open, ...(c.bookedSlot ? { bookedSlot: c.bookedSlot } : {}) })),
    notices: state.notices.map((n) => ({ to: n.to, kind: n.kind, ...(n.expectedReturn ? { expectedReturn: n.expectedReturn } : {}), at: iso(n.at), status: n.status })),
    duties: state.duties.filter((d) => !d.done).map((d) => ({ what: d.what, owner: 'support', deadline: iso(d.due) })),
  };
}

/** The absence in one sentence for the Web UI: no client details. */
export function describeAbsence(state: AbsenceState): string {
  const open = state.cases.filter((c) => c.open).length;
  const when = state.returnedAt ? 'The therapist is back' : state.expectedReturn ? `Expected back ${formatUkDate(state.expectedReturn)}` : 'No return date given';
  return `${when}; ${state.cases.length} session(s) cancelled, ${open} case(s) still open.`;
}

function failureText(e: unknown): string {
  let cause: unknown = e;
  while (cause instanceof Error && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type) return cause.type;
  return cause instanceof Error ? cause.message.slice(0, 200) : 'unknown failure';
}
