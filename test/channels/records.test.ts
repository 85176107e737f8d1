/**
 * The MPB records check against a local server implementing docs/mpb-openapi.yaml: what counts
 * as documented, what a 404 means, and that an unavailable, slow or garbled MPB is an error
 * (retried), never read as "documented".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { FailureType, type RecordsQuery } from '../../src/shared/activities';
import { MpbRecordsChecker, NOTE_LOOKBACK_MS, cancellationRecordsSchema } from '../../src/records/mpb';
import { json, startHttpPeer, type HttpPeer } from '../helpers/http-peer';
import { CASE_ID, activitiesWith, expectNonRetryable, failureOf, isRetryable, testConfig } from './fixtures';

const QUERY: RecordsQuery = {
  caseId: CASE_ID,
  sessionId: 'S-1001',
  clientRef: 'C-2002',
  therapistRef: 'T-1001',
  cancelledAt: '2026-11-27T08:30:00.000Z',
};

const DOCUMENTED = {
  sessionId: 'S-1001',
  clientRef: 'C-2002',
  attendance: { outcome: 'cancelled-by-provider', recordedAt: '2026-11-27T09:10:00Z' },
  clinicalNotes: [{ noteId: 'N-501', writtenAt: '2026-11-27T09:12:00Z' }],
  nextSession: { sessionId: 'S-1002', startsAt: '2026-12-03T14:30:00Z' },
};

let mpb: HttpPeer;
beforeAll(async () => {
  mpb = await startHttpPeer();
});
afterAll(async () => {
  await mpb.close();
});
beforeEach(() => {
  mpb.requests.length = 0;
});

const checker = (timeoutMs = 2000) => new MpbRecordsChecker({ baseUrl: `${mpb.url}/`, token: 'mpb-token', timeoutMs });
const answer = (status: number, body: unknown) => mpb.handle((_req, res) => json(res, status, body));

test('all three records on MPB read as documented', async () => {
  answer(200, DOCUMENTED);
  await expect(checker().check(QUERY)).resolves.toEqual({ attendance: true, clinicalNote: true, nextSession: true });
});

test('the request is one GET carrying the session id, a time and the token, and no client or therapist reference', async () => {
  answer(200, DOCUMENTED);
  await checker().check(QUERY);
  const [req] = mpb.requests;
  expect(req!.method).toBe('GET');
  const url = new URL(req!.url, mpb.url);
  expect(url.pathname).toBe('/v1/sessions/S-1001/cancellation-records');
  expect(Object.fromEntries(url.searchParams)).toEqual({ since: new Date(Date.parse(QUERY.cancelledAt) - NOTE_LOOKBACK_MS).toISOString() });
  expect(req!.url).not.toMatch(/C-2002|T-1001/);
  expect(req!.headers.authorization).toBe('Bearer mpb-token');
  expect(req!.headers['x-correlation-id']).toBe(CASE_ID);
});

test('a session id with a slash stays one path segment', async () => {
  answer(200, { ...DOCUMENTED, sessionId: 'S/1001' });
  await checker().check({ ...QUERY, sessionId: 'S/1001' });
  expect(mpb.requests[0]!.url).toMatch(/^\/v1\/sessions\/S%2F1001\/cancellation-records\?/);
});

test('each record is judged on its own: wrong attendance, an old note and no next session are not documented', async () => {
  answer(200, {
    ...DOCUMENTED,
    attendance: { outcome: 'did-not-attend', recordedAt: '2026-11-27T09:10:00Z' },
    clinicalNotes: [{ noteId: 'N-400', writtenAt: '2026-11-20T10:00:00Z' }],
    nextSession: null,
  });
  await expect(checker().check(QUERY)).resolves.toEqual({ attendance: false, clinicalNote: false, nextSession: false });
});

test('a note written shortly before the cancellation was submitted counts (phoned first, then submitted)', async () => {
  answer(200, { ...DOCUMENTED, clinicalNotes: [{ noteId: 'N-500', writtenAt: '2026-11-27T08:00:00Z' }] });
  await expect(checker().check(QUERY)).resolves.toMatchObject({ clinicalNote: true });
});

test('an attendance outcome the client does not know is not read as documented', async () => {
  answer(200, { ...DOCUMENTED, attendance: { outcome: 'rescheduled-by-admin', recordedAt: null } });
  await expect(checker().check(QUERY)).resolves.toMatchObject({ attendance: false });
});

test('404 with the contract body (session-not-found) means nothing is recorded yet', async () => {
  answer(404, { error: 'session-not-found' });
  await expect(checker().check(QUERY)).resolves.toEqual({ attendance: false, clinicalNote: false, nextSession: false });
});

test('404 without the contract body (wrong base URL, a proxy) is ChannelMisconfigured, not "nothing recorded"', async () => {
  mpb.handle((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/html' });
    res.end('<h1>Not Found</h1>');
  });
  expectNonRetryable(await failureOf(checker().check(QUERY)), FailureType.ChannelMisconfigured);
});

test('503 throws a retryable error', async () => {
  answer(503, { error: 'maintenance' });
  const err = await failureOf(checker().check(QUERY));
  expect(isRetryable(err)).toBe(true);
  expect(err.message).toContain('503');
});

test('an answer slower than the timeout throws a retryable error, never "documented"', async () => {
  mpb.handle((_req, res) => {
    setTimeout(() => json(res, 200, DOCUMENTED), 1500).unref();
  });
  const started = Date.now();
  const err = await failureOf(checker(150).check(QUERY));
  expect(isRetryable(err)).toBe(true);
  expect(err.message).toContain('did not answer within 150 ms');
  expect(Date.now() - started).toBeLessThan(1000);
});

test('malformed JSON throws a retryable error', async () => {
  mpb.handle((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"sessionId": "S-1001", "attendance": ');
  });
  expect(isRetryable(await failureOf(checker().check(QUERY)))).toBe(true);
});

test('JSON that does not match the contract (a record missing) throws a retryable error', async () => {
  const partial: Record<string, unknown> = { ...DOCUMENTED };
  delete partial.clinicalNotes;
  answer(200, partial);
  const err = await failureOf(checker().check(QUERY));
  expect(isRetryable(err)).toBe(true);
  expect(err.message).toContain('does not match the contract');
});

test('an answer about another session throws a retryable error', async () => {
  answer(200, { ...DOCUMENTED, sessionId: 'S-9999' });
  expect(isRetryable(await failureOf(checker().check(QUERY)))).toBe(true);
});

test('a session held under another client reference is ChannelMisconfigured: its records must not count', async () => {
  answer(200, { ...DOCUMENTED, clientRef: 'C-9999' });
  expectNonRetryable(await failureOf(checker().check(QUERY)), FailureType.ChannelMisconfigured);
});

test.each([401, 403])('%i (token refused) is ChannelMisconfigured', async (status) => {
  answer(status, { error: 'unauthorised' });
  expectNonRetryable(await failureOf(checker().check(QUERY)), FailureType.ChannelMisconfigured);
});

test('an unreachable MPB throws a retryable error', async () => {
  const gone = await startHttpPeer();
  await gone.close();
  const err = await failureOf(new MpbRecordsChecker({ baseUrl: gone.url, timeoutMs: 2000 }).check(QUERY));
  expect(isRetryable(err)).toBe(true);
});

describe('the checkRecords activity', () => {
  test('in attestation mode it refuses with ChannelMisconfigured (the workflow should not have asked)', async () => {
    const { activities } = activitiesWith({ config: testConfig({ MPB_MODE: 'attestation' }), records: checker() });
    expectNonRetryable(await failureOf(activities.checkRecords(QUERY)), FailureType.ChannelMisconfigured);
    expect(mpb.requests).toHaveLength(0);
  });

  test('in MPB mode it asks MPB', async () => {
    answer(200, DOCUMENTED);
    const { activities } = activitiesWith({ config: testConfig({ MPB_MODE: 'mpb', MPB_BASE_URL: mpb.url }), records: checker() });
    await expect(activities.checkRecords(QUERY)).resolves.toEqual({ attendance: true, clinicalNote: true, nextSession: true });
  });
});

describe('docs/mpb-openapi.yaml', () => {
  const spec = parse(readFileSync(path.join(__dirname, '../../docs/mpb-openapi.yaml'), 'utf8')) as {
    openapi: string;
    paths: Record<string, { get: { responses: Record<string, { content: { 'application/json': { examples: Record<string, { value: unknown }> } } }> } }>;
  };
  const operation = spec.paths['/v1/sessions/{sessionId}/cancellation-records']!.get;

  test('is OpenAPI 3.1 and its 200 examples are answers the client accepts', () => {
    expect(spec.openapi).toBe('3.1.0');
    const examples = Object.values(operation.responses['200']!.content['application/json'].examples);
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(cancellationRecordsSchema.safeParse(example.value).success).toBe(true);
  });

  test('its 404 example is the body the client reads as "nothing recorded"', async () => {
    const [example] = Object.values(operation.responses['404']!.content['application/json'].examples);
    answer(404, example!.value);
    await expect(checker().check(QUERY)).resolves.toEqual({ attendance: false, clinicalNote: false, nextSession: false });
  });
});
