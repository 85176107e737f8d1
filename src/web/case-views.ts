/**
 * Views of a few cases at once, for pages that name clients: one page of a list, or the other
 * sessions of an absence. Search attributes never carry a client's name, so these pages ask each
 * case (a workflow query answered by a worker) for its view, a handful at a time and each with a
 * time limit: a case that does not answer is shown without its details, never blocks the page.
 */
import type { CaseService } from '../cases';
import type { CaseView, Stage } from '../shared/case';

/** Cases asked at the same time: a worker answers each query in a workflow task of its own. */
const CONCURRENCY = 4;
const TIME_LIMIT_MS = 5_000;

type Viewer = Pick<CaseService, 'view'>;

function withinLimit<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** The views of `ids`, in no particular order; a case that is unknown, failed or slow maps to undefined. */
export async function viewsOf(
  cases: Viewer,
  ids: readonly string[],
  timeLimitMs = TIME_LIMIT_MS,
): Promise<Map<string, CaseView | undefined>> {
  const out = new Map<string, CaseView | undefined>();
  const queue = [...new Set(ids)];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      out.set(id, await withinLimit(cases.view(id), timeLimitMs).catch(() => undefined));
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return out;
}

/** A session of the same absence, as the case page names it (the shape CaseView.absence will give). */
export interface SessionOfAbsence {
  caseId: string;
  clientFirstName?: string;
  sessionStartsAt?: string;
  stage?: Stage;
}

/**
 * The other sessions cancelled in the same submission, named by client first name and time.
 * Until the case view carries its absence (issue 11), each sibling is asked for its own view;
 * this is the one place to change when it does. A sibling that does not answer keeps its link.
 */
export async function otherSessions(view: CaseView, cases: Viewer): Promise<SessionOfAbsence[]> {
  const views = await viewsOf(cases, view.siblingCaseIds);
  return view.siblingCaseIds
    .map((caseId) => {
      const v = views.get(caseId);
      return v
        ? { caseId, clientFirstName: v.clientFirstName, sessionStartsAt: v.sessionStartsAt, stage: v.stage }
        : { caseId };
    })
    .sort((a, b) => (a.sessionStartsAt ?? '~').localeCompare(b.sessionStartsAt ?? '~'));
}
