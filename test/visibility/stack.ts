/**
 * The stack a person meets, on this machine, for the issue 15 page tests: a real dev server (with
 * its Web UI pointed at the app's codec, as `npm start` does), a worker running the real case
 * workflow with encrypted payloads and recording activities, and the web app on a real port with
 * the real CaseService. Cases are started through that CaseService, so their search attributes,
 * summaries and lists are the ones the app makes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { CaseService } from '../../src/cases';
import type { Config } from '../../src/config';
import { LinkSealer } from '../../src/links';
import type { CaseView } from '../../src/shared/case';
import { DEFAULT_POLICY, type Policy } from '../../src/shared/policy';
import { encryptedDataConverter } from '../../src/temporal/codec';
import { bundleCaseWorkflows, createCaseWorker } from '../../src/temporal/worker';
import { createApp } from '../../src/web/app';
import { createDevServerEnv } from '../helpers/temporal';
import { testConfig } from '../web/fakes';
import { Recorder } from '../workflows/harness';
import { freePort } from '../../src/dev/binaries';
import { sleep, submission, type SessionSpec } from './fixtures';

export interface Stack {
  env: TestWorkflowEnvironment;
  /** The app's own client: payloads encrypted with the app's PAYLOAD_KEYS. */
  client: Client;
  config: Config;
  recorder: Recorder;
  /** The web app, e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  /** The Temporal Web UI, when started with it. */
  uiUrl?: string;
  /** Starts one session's case as the form would (through CaseService); returns its case id. */
  submit(spec?: SessionSpec, policy?: Policy): Promise<string>;
  /** Several sessions in one submission (one absence); returns their case ids in order. */
  submitMany(specs: SessionSpec[], policy?: Policy): Promise<string[]>;
  view(caseId: string): Promise<CaseView>;
  /** Polls the case's view until `pred` holds and nothing is being sent. */
  until(caseId: string, pred: (v: CaseView) => boolean, what: string, timeoutMs?: number): Promise<CaseView>;
  stop(): Promise<void>;
}

let bundle: ReturnType<typeof bundleCaseWorkflows> | undefined;

export interface StackOptions {
  /** Serve the Temporal Web UI too (pointed at the app's codec). */
  ui?: boolean;
  /** More environment for the app's configuration (POLICY_JSON for its late and stuck thresholds, say). */
  env?: NodeJS.ProcessEnv;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  // The app's port comes first: the dev server's UI is told where the codec is.
  const http: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const uiPort = opts.ui ? await freePort() : undefined;
  const uiUrl = uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`;
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });

  let env: TestWorkflowEnvironment;
  try {
    env = await createDevServerEnv({ uiPort, uiCodecEndpoint: `${baseUrl}/codec` });
  } catch (e) {
    await closeHttp();
    throw e;
  }
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    const config = testConfig({
      PUBLIC_BASE_URL: baseUrl,
      ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl, CODEC_OPEN_TO_LOCAL_UI: 'true' } : {}),
      TEMPORAL_TASK_QUEUE: `pages-${randomUUID()}`,
      ...opts.env,
    });
    const recorder = new Recorder();
    bundle ??= bundleCaseWorkflows();
    worker = await createCaseWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      taskQueue: config.temporal.taskQueue,
      activities: recorder.activities(),
      payloadKeys: config.payloadKeys,
      workflowBundle: await bundle,
    });
    running = worker.run();
    const client = new Client({
      connection: env.connection,
      namespace: 'default',
      dataConverter: encryptedDataConverter(config.payloadKeys),
    });
    const services = new Map<Policy, CaseService>();
    const serviceFor = (policy: Policy) => {
      let s = services.get(policy);
      if (!s) {
        s = new CaseService({
          client,
          taskQueue: config.temporal.taskQueue,
          policy,
          recordsMode: 'attestation',
          caseIdKey: config.caseIdKey,
        });
        services.set(policy, s);
      }
      return s;
    };
    // The app's own service, as `npm run web` builds it: its lists use the configured policy.
    const cases = new CaseService({
      client,
      taskQueue: config.temporal.taskQueue,
      policy: config.policy,
      recordsMode: 'attestation',
      caseIdKey: config.caseIdKey,
    });
    http.on('request', createApp({ config, cases, links: new LinkSealer(config.linkKeys) }));
    http.keepAliveTimeout = 5_000;

    const view = async (caseId: string) => {
      const v = await cases.view(caseId);
      if (!v) throw new Error(`case ${caseId} not found`);
      return v;
    };
    const w = worker;
    const r = running;
    return {
      env,
      client,
      config,
      recorder,
      baseUrl,
      uiUrl,
      async submit(spec = {}, policy = DEFAULT_POLICY) {
        const [started] = await serviceFor(policy).submit(submission(Date.now(), spec));
        return started!.caseId;
      },
      async submitMany(specs, policy = DEFAULT_POLICY) {
        const subs = specs.map((s) => submission(Date.now(), s));
        const one = { ...subs[0]!, sessions: subs.flatMap((s) => s.sessions) };
        return (await serviceFor(policy).submit(one)).map((c) => c.caseId);
      },
      view,
      async until(caseId, pred, what, timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const v = await view(caseId);
          if (pred(v) && v.sending === 0) return v;
          if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}; case ${caseId} is: ${v.status} (stage ${v.stage})`);
          await sleep(100);
        }
      },
      async stop() {
        await closeHttp();
        w.shutdown();
        await r;
        await env.teardown();
      },
    };
  } catch (e) {
    await closeHttp();
    if (worker && running) {
      worker.shutdown();
      await running.catch(() => undefined);
    }
    await env.teardown();
    throw e;
  }
}
