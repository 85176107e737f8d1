/**
 * The load generator: submits cancellations through the JSON API of both web processes, as an
 * integration would, and retries what did not get an answer (connection refused or reset, 5xx,
 * 429) with the same body, so the same session ids. Bounded in count and time.
 */
import { submission, type CaseRef } from './expectations';

export interface Submitted {
  ref: CaseRef;
  caseId: string;
  /** HTTP attempts it took (1 when nothing went wrong). */
  attempts: number;
  /** Every case id any answer named for this session (more than one would be a second case). */
  idsSeen: Set<string>;
}

export interface LoadTarget {
  webUrls: string[];
  token: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Submits one case, retrying on any web process until it is accepted or `deadlineMs` passes. */
export async function submitCase(
  target: LoadTarget,
  ref: CaseRef,
  first: number,
  deadlineMs = 180_000,
): Promise<Submitted> {
  const body = JSON.stringify(submission(ref));
  const deadline = Date.now() + deadlineMs;
  const idsSeen = new Set<string>();
  let lastProblem = '';
  for (let attempt = 1; ; attempt++) {
    const url = target.webUrls[(first + attempt - 1) % target.webUrls.length]!;
    try {
      const res = await fetch(`${url}/api/cancellations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(20_000),
      });
      if (res.status === 201) {
        const json = (await res.json()) as { cancellations: { id: string }[] };
        for (const c of json.cancellations) idsSeen.add(c.id);
        return { ref, caseId: json.cancellations[0]!.id, attempts: attempt, idsSeen };
      }
      lastProblem = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      if (res.status < 500 && res.status !== 429) throw new Error(`submission refused: ${lastProblem}`);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('submission refused')) throw e;
      lastProblem = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    if (Date.now() > deadline)
      throw new Error(
        `${ref.sessionId} not accepted within ${deadlineMs} ms after ${attempt} attempts (${lastProblem})`,
      );
    await sleep(Math.min(250 * attempt, 2000));
  }
}

/**
 * Submits `refs` one every `intervalMs`, alternating web processes, at most `concurrency` at a
 * time; resolves when every one was accepted.
 */
export async function paced(
  target: LoadTarget,
  refs: CaseRef[],
  intervalMs: number,
  concurrency = 8,
): Promise<Submitted[]> {
  const results: Promise<Submitted>[] = [];
  let inFlight = 0;
  for (const [i, ref] of refs.entries()) {
    while (inFlight >= concurrency) await sleep(20);
    inFlight += 1;
    results.push(
      submitCase(target, ref, i).finally(() => {
        inFlight -= 1;
      }),
    );
    if (i < refs.length - 1) await sleep(intervalMs);
  }
  return Promise.all(results);
}
