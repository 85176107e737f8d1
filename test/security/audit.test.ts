/**
 * S8: every read of a case by a person or a machine (the staff case page, the JSON API, a codec
 * decode of the case's payloads) leaves an entry in the audit stream, a file of its own apart
 * from the application log, and `npm run who-saw -- <caseId>` answers "who saw this client's case".
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import request from 'supertest';
import { createAudit, fileAuditSink, readAudit, type AuditSink } from '../../src/audit';
import { createLogger } from '../../src/log';
import { parseKeyList } from '../../src/keys';
import { AesGcmPayloadCodec } from '../../src/temporal/codec';
import { createApp } from '../../src/web/app';
import { TEST_KEYS } from '../helpers/keys';
import {
  API_TOKEN,
  caseView,
  CASE_ID,
  CODEC_TOKEN,
  LEAD,
  makeDeps,
  OTHER_CASE_ID,
  OTHER_THERAPIST,
  signIn,
  testConfig,
  THERAPIST,
} from '../web/fakes';

const ROOT = path.resolve(__dirname, '..', '..');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-audit-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup(sink?: AuditSink) {
  const file = path.join(dir, 'audit', 'reads.jsonl');
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _e, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const d = makeDeps({ config: testConfig({ AUDIT_LOG_FILE: file }) });
  d.cases.add(caseView({ risk: true, riskNote: 'Canary risk note' }));
  d.cases.add(
    caseView({ caseId: OTHER_CASE_ID, therapistId: OTHER_THERAPIST.ref, therapistName: OTHER_THERAPIST.name }),
  );
  const app = createApp({ ...d.deps, logger, audit: createAudit(sink ?? fileAuditSink(file)) });
  return { ...d, app, file, logLines };
}

/** A payload as the Web UI sends it: the case input, encrypted with the payload keys. */
async function encryptedInputOf(caseId: string, keys: string) {
  const [p] = await new AesGcmPayloadCodec(parseKeyList(keys)).encode([
    defaultPayloadConverter.toPayload({ caseId, client: { firstName: 'Sam' } }) as Payload,
  ]);
  return {
    metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p!.data!).toString('base64'),
  };
}

function runAuditCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [require.resolve('tsx/cli'), path.join('src', 'ops', 'who-saw.ts'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('S8 accountable reads', () => {
  it("S8 a case page, an API read and a codec decode each leave an entry in the audit stream, and `npm run who-saw -- <caseId>` says who saw the client's case", async () => {
    const { app, file, logLines } = setup();
    const lead = await signIn(app, LEAD);
    const therapist = await signIn(app, THERAPIST);
    await lead.get(`/cancellations/${CASE_ID}`).expect(200);
    await therapist.get(`/cancellations/${CASE_ID}`).expect(200);
    await lead.get(`/cancellations/${OTHER_CASE_ID}`).expect(200);
    await request(app).get(`/api/cancellations/${CASE_ID}`).set('Authorization', `Bearer ${API_TOKEN}`).expect(200);
    const payload = await encryptedInputOf(CASE_ID, TEST_KEYS.PAYLOAD_KEYS);
    await request(app)
      .post('/codec/decode')
      .set({ Authorization: `Bearer ${CODEC_TOKEN}`, 'X-Namespace': 'default' })
      .send({ payloads: [payload] })
      .expect(200);
    // Refused reads are not reads: another therapist's case, a signed-out visitor.
    await therapist.get(`/cancellations/${OTHER_CASE_ID}`).expect(404);
    await request(app).get(`/cancellations/${CASE_ID}`).expect(303);

    const entries = await readAudit(file, { caseId: CASE_ID });
    expect(entries.map(({ who, role, via, what }) => ({ who, role, via, what }))).toEqual([
      { who: LEAD.ref, role: 'clinical-lead', via: 'page', what: 'case page' },
      // A lead (or the escalation team) also sees how to reach the client (D3): a read of its own.
      { who: LEAD.ref, role: 'clinical-lead', via: 'page', what: 'client contact details' },
      { who: THERAPIST.ref, role: 'therapist', via: 'page', what: 'case page' },
      { who: 'tests', role: 'api-token', via: 'api', what: 'case view' },
      { who: 'cli', role: 'codec-token', via: 'codec', what: '1 decoded payload' },
    ]);
    for (const e of entries) expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 60_000);
    expect((await readAudit(file, { caseId: OTHER_CASE_ID })).map((e) => e.who)).toEqual([LEAD.ref, LEAD.ref]);
    // Its own stream: the application log has none of it.
    expect(logLines.join('')).not.toMatch(/"via":"page"|case page/);

    const cli = await runAuditCli([CASE_ID], { AUDIT_LOG_FILE: file });
    expect(cli.err).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.out).toContain(`Who saw case ${CASE_ID}: 5 reads`);
    for (const who of [LEAD.ref, THERAPIST.ref, 'tests', 'cli']) expect(cli.out).toContain(who);
    expect(cli.out).not.toContain(OTHER_CASE_ID);
  });

  it('S8 when the audit stream cannot be written, the read is refused and shows no case data', async () => {
    const { app } = setup({
      write: () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    });
    const lead = await signIn(app, LEAD);
    const page = await lead.get(`/cancellations/${CASE_ID}`).expect(500);
    expect(page.text).not.toMatch(/Sam|Canary risk note/);
    const api = await request(app)
      .get(`/api/cancellations/${CASE_ID}`)
      .set('Authorization', `Bearer ${API_TOKEN}`)
      .expect(500);
    expect(api.text).not.toContain('Sam');
  });

  it('S8 the audit query refuses a malformed case id and reports a missing stream plainly', async () => {
    expect(await runAuditCli(['not-a-case'], { AUDIT_LOG_FILE: path.join(dir, 'none.jsonl') })).toMatchObject({
      code: 64,
      err: expect.stringMatching(/a case id looks like c0123456789abcdefghij/),
    });
    const missing = await runAuditCli([CASE_ID], { AUDIT_LOG_FILE: path.join(dir, 'none.jsonl') });
    expect(missing).toMatchObject({
      code: 0,
      out: expect.stringContaining(`Who saw case ${CASE_ID}: no reads recorded`),
    });
    expect(missing.err).toBe('');
  });
});
