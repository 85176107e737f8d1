/**
 * Issue 16, traces: one trace from a therapist's submission to the client's email, on real parts:
 * the Temporal dev server, the worker with the real activities and the traced workflow bundle
 * (as `npm run build` makes it), the web app over HTTP with the real Temporal client, a real SMTP
 * server on loopback, and an OTLP/HTTP receiver standing in for the collector.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { CaseService, startCaseIfNew } from '../../src/cases';
import { ConfigError, loadConfig, type Config } from '../../src/config';
import { LinkSealer } from '../../src/links';
import { createLogger } from '../../src/log';
import { caseWorkflowId } from '../../src/shared/ids';
import { closeCaseUpdate } from '../../src/shared/messages';
import { encryptedDataConverter } from '../../src/temporal/codec';
import { connectTemporal, type TemporalClient } from '../../src/temporal/client';
import {
  bundleCaseWorkflows,
  caseWorkerOptions,
  createCaseWorker,
  prebuiltWorkflowBundle,
  TRACING_WORKFLOW_INTERCEPTORS,
} from '../../src/temporal/worker';
import { startTracing, type Tracing } from '../../src/tracing';
import { createApp } from '../../src/web/app';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';
import { freePort } from '../../src/dev/binaries';
import { API_TOKEN, testConfig } from '../web/fakes';

/** The client's details: distinctive, so a span carrying any of them cannot go unnoticed. */
const CLIENT = { ref: 'C-7319', firstName: 'Zephyrine', email: 'zephyrine.quill@example.org', phone: '+447700900456' };
const DAY = 86_400_000;

let receiver: OtlpReceiver;
let smtp: SmtpSink;
let env: TestWorkflowEnvironment;
let config: Config;
let tracing: Tracing;
let temporal: TemporalClient;
let worker: Worker;
let running: Promise<void>;
let server: Server;
let baseUrl: string;
let cases: CaseService;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const port = await freePort();
  [receiver, smtp, env] = await Promise.all([startOtlpReceiver(), startSmtpSink(), createDevServerEnv({ port })]);
  config = testConfig({
    SMTP_URL: smtp.url,
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    TEMPORAL_TASK_QUEUE: `traces-${randomUUID()}`,
    PUBLIC_BASE_URL: 'http://127.0.0.1:1',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  });
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ destination });
  // As worker.ts and main.ts do: the provider first, then the client and worker that use it.
  tracing = startTracing({ endpoint: config.tracing!.endpoint, serviceName: 'shortnotice-test', exportDelayMs: 100 });
  temporal = await connectTemporal(config);
  worker = await createCaseWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({
      ...buildActivityDeps(config, log.child({ component: 'activities' })),
      startCase: (input) => startCaseIfNew(temporal.client, config.temporal.taskQueue, input),
    }),
    payloadKeys: config.payloadKeys,
    workflowBundle: await bundleCaseWorkflows({ traced: true, logger: new DefaultLogger('WARN') }),
    tracing,
  });
  running = worker.run();
  cases = new CaseService({
    client: temporal.client,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    recordsMode: 'attestation',
    caseIdKey: config.caseIdKey,
  });
  server = createApp({ config, cases, links: new LinkSealer(config.linkKeys), logger: log }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 240_000);

afterAll(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (worker) {
    worker.shutdown();
    await running;
  }
  await temporal?.close();
  await tracing?.shutdown();
  await env?.teardown();
  await smtp?.close();
  await receiver?.close();
});

function submission() {
  return {
    therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex.morgan@example.org' },
    reason: 'illness',
    expectedReturn: new Date(Date.now() + 3 * DAY).toISOString().slice(0, 10),
    sessions: [
      {
        id: `S-${randomUUID().slice(0, 8)}`,
        startsAt: new Date(Date.now() + 2 * DAY).toISOString(),
        client: { ...CLIENT, preferredContact: 'email' },
        rebook: { slots: [new Date(Date.now() + 4 * DAY).toISOString()] },
      },
    ],
  };
}

const named = (spans: ReceivedSpan[], name: string, traceId?: string) =>
  spans.filter((s) => s.name === name && (traceId === undefined || s.traceId === traceId));
const childOf = (spans: ReceivedSpan[], parent: ReceivedSpan | undefined, name: string) =>
  spans.find((s) => s.name === name && parent !== undefined && s.parentSpanId === parent.spanId);

describe('T1-T2 a submission is one trace, from the HTTP request to the SMTP call', () => {
  let caseId: string;
  let trace: string;

  it('T1 when a cancellation is submitted over HTTP and its case runs to the end, then one trace id links the POST span, StartWorkflow, the workflow run, each activity and the SMTP send, parent to child', async () => {
    const res = await fetch(`${baseUrl}/api/cancellations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify(submission()),
    });
    expect(res.status).toBe(201);
    caseId = ((await res.json()) as { cancellations: { id: string }[] }).cancellations[0]!.id;
    await smtp.waitFor((m) => m.to.includes(CLIENT.email), 30_000);
    // The run's own span ends with the run: a clinical lead closes the case.
    const closed = await cases.act(
      caseId,
      closeCaseUpdate,
      [{ by: 'LEAD7', role: 'clinical-lead', reason: 'other', recordsWaiver: 'Test case, nothing to record' }],
      randomUUID(),
    );
    expect(closed.kind).toBe('done');

    const spans = await receiver.waitFor((all) => {
      const post = named(all, 'POST /api/cancellations')[0];
      if (!post) return false;
      const run = named(all, 'RunWorkflow:cancellationCase', post.traceId)[0];
      const smtpSpans = named(all, 'smtp send', post.traceId);
      return (
        run !== undefined &&
        smtpSpans.some((s) => all.some((a) => a.spanId === s.parentSpanId && a.name === 'RunActivity:notifyClient'))
      );
    }, 'the whole trace of the submission');

    const post = named(spans, 'POST /api/cancellations')[0]!;
    trace = post.traceId;
    expect(post).toMatchObject({ kind: 2, parentSpanId: undefined });
    expect(post.attributes).toMatchObject({ 'http.route': '/api/cancellations', 'http.response.status_code': 201 });

    const start = childOf(spans, post, 'StartWorkflow:cancellationCase');
    const run = childOf(spans, start, 'RunWorkflow:cancellationCase');
    const schedule = childOf(spans, run, 'StartActivity:notifyClient');
    const activity = childOf(spans, schedule, 'RunActivity:notifyClient');
    const send = childOf(spans, activity, 'smtp send');
    for (const [what, span] of Object.entries({ start, run, schedule, activity, send })) {
      expect({ what, traceId: span?.traceId }).toEqual({ what, traceId: trace });
    }
    // The therapist's absence joined in the same request, so it is in the same trace.
    expect(childOf(spans, post, 'SignalWithStartWorkflow:therapistAbsence')?.traceId).toBe(trace);
    expect(activity!.attributes.temporalWorkflowId).toBe(`cancellation-${caseId}`);
    expect(send!.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'network.protocol.name': 'smtp' });
    expect(send!.service).toBe('shortnotice-test');
  }, 120_000);

  it("T1 when the spans are exported, then none carries the client's name, email address, phone number or reference, nor the therapist's email", async () => {
    await tracing.flush();
    const everything = receiver.bodies.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of [
      CLIENT.firstName,
      CLIENT.email,
      CLIENT.phone,
      CLIENT.phone.slice(3),
      CLIENT.ref,
      'alex.morgan@example.org',
    ]) {
      expect({ secret, found: everything.toLowerCase().includes(secret.toLowerCase()) }).toEqual({
        secret,
        found: false,
      });
    }
  });

  it('T2 when a line is logged inside the trace (the API route, the activity that sent the email), then it carries that trace id and its span id, and nothing is redacted for them', () => {
    const submitted = logLines.find((l) => l.event === 'cancellations-submitted');
    const post = named(receiver.spans, 'POST /api/cancellations', trace)[0]!;
    expect(submitted).toMatchObject({ trace_id: trace, span_id: post.spanId });
    const sent = logLines.find((l) => l.event === 'sent' && l.caseId === caseId && l.audience === 'client');
    const activity = receiver.spans.find((s) => s.spanId === sent?.span_id);
    expect(sent).toMatchObject({ trace_id: trace });
    expect(activity?.name).toBe('RunActivity:notifyClient');
    expect(logLines.filter((l) => JSON.stringify(l.redacted ?? []).includes('trace'))).toEqual([]);
    // Lines written outside any span carry no ids.
    expect(logLines.length).toBeGreaterThan(1);
  });

  it('T4 when traces are turned off after a case ran with them (its start, activities and an update), then its history replays deterministically without them, and with them', async () => {
    const history = await temporal.client.workflow.getHandle(caseWorkflowId(caseId)).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionUpdateCompletedEventAttributes)).toBe(true);
    const dataConverter = encryptedDataConverter(config.payloadKeys);
    for (const traced of [false, true]) {
      const workflowBundle = await bundleCaseWorkflows({ traced, logger: new DefaultLogger('WARN') });
      await Worker.runReplayHistory({ workflowBundle, dataConverter }, history, `traced-${traced}-${caseId}`);
    }
  }, 120_000);
});

describe('T3 traces are off unless configured', () => {
  it('T3 when OTEL_EXPORTER_OTLP_ENDPOINT is unset, then the config has no tracing; when it is not an http(s) URL, then start-up stops naming it', () => {
    expect(testConfig().tracing).toBeUndefined();
    expect(testConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).toEqual({
      endpoint: 'http://collector:4318',
    });
    expect(() => loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'test', OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT: must be a URL/,
    );
  });

  it('T3 when traces are off, then the worker gets no interceptors and no sinks; when on, it gets them, and the workflow interceptors only where it bundles the sources itself', () => {
    const base = { connection: env.nativeConnection, namespace: 'default', taskQueue: 'q', activities: {} as never };
    const off = caseWorkerOptions(base);
    expect(off.interceptors).toBeUndefined();
    expect(off.sinks).toBeUndefined();
    const onSources = caseWorkerOptions({ ...base, tracing });
    expect(onSources.interceptors?.workflowModules).toEqual([TRACING_WORKFLOW_INTERCEPTORS]);
    expect(onSources.interceptors?.activity).toHaveLength(1);
    expect(Object.keys(onSources.sinks ?? {})).toEqual(['exporter']);
    const onBundle = caseWorkerOptions({ ...base, tracing, workflowBundle: { codePath: '/nonexistent' } });
    expect(onBundle.interceptors?.workflowModules).toBeUndefined();
  });

  it('T3 when traces are on in production without the traced prebuilt bundle, then the worker refuses to start, naming the file to build', () => {
    expect(() => prebuiltWorkflowBundle(true, true)).toThrow(/workflow-bundle-traced\.js: run `npm run build`/);
  });

  it('T3 when the web app runs without OTEL_EXPORTER_OTLP_ENDPOINT, then its requests make no spans, even with a provider registered in the process', async () => {
    const quiet = createApp({
      config: testConfig({ PUBLIC_BASE_URL: 'http://127.0.0.1:1' }),
      cases,
      links: new LinkSealer(config.linkKeys),
    });
    const other = quiet.listen(0, '127.0.0.1');
    await new Promise((r) => other.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      expect((await fetch(`${url}/auth/sign-in`)).status).toBe(200);
      expect((await fetch(`${baseUrl}/auth/sign-in`)).status).toBe(200);
      await tracing.flush();
      // Only the traced app's request was recorded.
      expect(named(receiver.spans, 'GET /auth/sign-in')).toHaveLength(1);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });
});
