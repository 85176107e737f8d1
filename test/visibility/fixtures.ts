/**
 * A real dev server (visibility, optional Web UI), a worker running the real case workflow with
 * recording activities, and cases started through CaseService exactly as the app starts them
 * (search attributes, static summary and details). Time is real: policies with second-long
 * windows make deadlines pass and escalations fire while the test waits.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { CaseService } from '../../src/cases';
import { freePort } from '../../src/dev/binaries';
import type { ContactMethod, Submission } from '../../src/shared/api';
import type { CaseView } from '../../src/shared/case';
import { acknowledgeEscalationUpdate, viewQuery } from '../../src/shared/messages';
import { DEFAULT_POLICY, type Policy } from '../../src/shared/policy';
import { createCaseWorker } from '../../src/temporal/worker';
import { createDevServerEnv } from '../helpers/temporal';
import { DAY, HOUR, Recorder, workflowBundle } from '../workflows/harness';

export { DAY, HOUR };

/** Policy whose client and follow-up windows last about a second each (the server's timer floor). */
export const FAST_POLICY: Policy = { ...DEFAULT_POLICY, clientResponseWindowMs: 1000, followUpWindowMs: 1000 };


export interface ClientDetails {
  firstName: string;
  email: string;
  phone: string;
}

export const ORDINARY_CLIENT: ClientDetails = { firstName: 'Sam', email: 'sam@example.org', phone: '+447700900123' };

export interface SessionSpec {
  contact?: ContactMethod;
  /** Offer slots (default) or promise a callback at this instant. */
  callbackBy?: number;
  /** When the cancelled session was to start (default: in 3 days). */
  startsAt?: number;
  risk?: boolean;
  client?: ClientDetails;
  therapistId?: string;
  expectedReturn?: string;
}

let sessionCounter = 0;

/** A one-session submission as the form or the API would hand it to CaseService. */
export function submission(now: number, spec: SessionSpec = {}): Submission {
  const start = spec.startsAt ?? now + 3 * DAY;
  const client = spec.client ?? ORDINARY_CLIENT;
  return {
    therapist: { id: spec.therapistId ?? 'T-1001', name: 'Alex Morgan', email: 'alex.morgan@example.org' },
    reason: 'illness',
    expectedReturn: spec.expectedReturn,
    sessions: [
      {
        id: `S-${++sessionCounter}-${randomUUID().slice(0, 8)}`,
        startsAt: new Date(start).toISOString(),
        client: { ref: `C-${1000 + sessionCounter}`, firstName: client.firstName, preferredContact: spec.contact ?? 'email', email: client.email, phone: client.phone },
        rebook:
          spec.callbackBy !== undefined
            ? { callbackBy: new Date(spec.callbackBy).toISOString() }
            : // Times of their own: cases of one therapist share an absence, and a time one client books is gone for the others.
              { slots: [2, 3, 4].map((d) => new Date(start + d * DAY + sessionCounter * 60_000).toISOString()) },
        risk: spec.risk ? { concern: true } : undefined,
      },
    ],
  };
}

export interface Cluster {
  env: TestWorkflowEnvironment;
  client: Client;
  taskQueue: string;
  recorder: Recorder;
  /** UI base URL when started with the UI. */
  uiUrl?: string;
  /** Starts one case through CaseService with this policy; returns its case id. */
  submit(spec?: SessionSpec, policy?: Policy): Promise<string>;
  view(caseId: string): Promise<CaseView>;
  /** Polls the case's view until `pred` holds and nothing is being sent. */
  until(caseId: string, pred: (v: CaseView) => boolean, what: string, timeoutMs?: number): Promise<CaseView>;
  stop(): Promise<void>;
}

export async function startCluster(opts: { ui?: boolean; recorder?: Recorder } = {}): Promise<Cluster> {
  const uiPort = opts.ui ? await freePort() : undefined;
  const env = await createDevServerEnv({ uiPort });
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    const taskQueue = `visibility-${randomUUID()}`;
    const recorder = opts.recorder ?? new Recorder();
    worker = await createCaseWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: recorder.activities(),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    const caseIdKey = randomBytes(32);
    const services = new Map<Policy, CaseService>();
    const serviceFor = (policy: Policy) => {
      let s = services.get(policy);
      if (!s) services.set(policy, (s = new CaseService({ client: env.client, taskQueue, policy, recordsMode: 'attestation', caseIdKey })));
      return s;
    };
    const any = serviceFor(DEFAULT_POLICY);
    const view = async (caseId: string) => {
      const v = await any.view(caseId);
      if (!v) throw new Error(`case ${caseId} not found`);
      return v;
    };
    const w = worker;
    const r = running;
    return {
      env,
      client: env.client,
      taskQueue,
      recorder,
      uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
      async submit(spec = {}, policy = DEFAULT_POLICY) {
        const [started] = await serviceFor(policy).submit(submission(Date.now(), spec));
        return started!.caseId;
      },
      view,
      async until(caseId, pred, what, timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const v = await view(caseId);
          if (pred(v) && v.sending === 0) return v;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; case ${caseId} is: ${v.status} (stage ${v.stage}, sending ${v.sending})`);
          await sleep(100);
        }
      },
      async stop() {
        w.shutdown();
        await r;
        await env.teardown();
      },
    };
  } catch (e) {
    if (worker && running) {
      worker.shutdown();
      await running.catch(() => undefined);
    }
    await env.teardown();
    throw e;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function listIds(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

export async function listAll(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const all: WorkflowExecutionInfo[] = [];
  for await (const wf of client.workflow.list({ query })) all.push(wf);
  return all;
}

/** Visibility is eventually consistent: its tests poll with the shared helper. */
export { eventually } from '../helpers/eventually';

/** Acknowledges every escalation of a case still waiting, as a clinical lead (one at a time, as the page does). */
export async function acknowledgeAll(handle: WorkflowHandle): Promise<void> {
  const view = await handle.query(viewQuery);
  for (const e of view.escalations.filter((x) => !x.acknowledgedAt)) {
    await handle.executeUpdate(acknowledgeEscalationUpdate, { args: [{ by: 'Lead Jo', role: 'clinical-lead', escalationId: e.id }] });
  }
}

/** What a lead closing a case in these tests says about the records still owed. */
export const CLOSE_WAIVER = { role: 'clinical-lead' as const, recordsWaiver: 'Closed in a visibility test' };
