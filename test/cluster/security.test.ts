/**
 * S3 (issue 13) on the native cluster: Temporal requires mutual TLS, and the production workers
 * refuse what was not encrypted with PAYLOAD_KEYS. The attacker here has reached Temporal with a
 * valid client certificate but without the payload keys: they can send plain payloads, and
 * nothing they send may start a case or drive one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { makeCertificates } from '../../src/dev/tls';
import { parseKeyList } from '../../src/keys';
import type { CaseInput } from '../../src/shared/case';
import { caseWorkflowId } from '../../src/shared/ids';
import { chooseSlotUpdate } from '../../src/shared/messages';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import { AesGcmPayloadCodec, encryptedDataConverter, REFUSED_ENCODING } from '../../src/temporal/codec';
import { eventually } from '../helpers/eventually';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink';
import { caseRef, isOfferFor, STAGE_WAITING_FOR_CHOICE, submission } from './expectations';
import { startTestCluster, type TestCluster } from './harness';

let sink: SmtpSink;
let tc: TestCluster;
let scratch: string;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const read = (f: string) => fs.readFileSync(f);

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-s3-'));
  sink = await startSmtpSink();
  tc = await startTestCluster('security', sink.url);
});

afterAll(async () => {
  await tc?.close();
  await sink?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A client that sends plain payloads but can read the (encrypted) failures sent back. */
async function attacker(): Promise<{ client: Client; close(): Promise<void> }> {
  const keys = parseKeyList(tc.cluster.environment('worker-1').PAYLOAD_KEYS!);
  const aes = new AesGcmPayloadCodec(keys);
  const plainOut: PayloadCodec = {
    encode: (p: Payload[]) => Promise.resolve(p),
    decode: (p: Payload[]) => aes.decode(p),
  };
  const connection = await tc.cluster.connect();
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: {
      payloadCodecs: [plainOut],
      failureConverterPath: encryptedDataConverter(keys).failureConverterPath,
    },
  });
  return { client, close: () => connection.close() };
}

it("S3 a client without a certificate, or with one from another CA, is refused by the cluster; the app's certificate is accepted", async () => {
  const c = tc.cluster.certificates;
  const address = tc.cluster.temporalAddress;
  const other = makeCertificates(path.join(scratch, 'other-ca'), { caName: 'someone else' });
  const attempt = (tls: Parameters<typeof Connection.connect>[0]) =>
    Connection.connect({ address, connectTimeout: 5000, ...tls }).then(async (conn) => {
      await conn.workflowService.getSystemInfo({});
      await conn.close();
    });
  await expect(attempt({})).rejects.toThrow();
  await expect(
    attempt({ tls: { serverRootCACertificate: read(c.ca), serverNameOverride: c.serverName } }),
  ).rejects.toThrow();
  await expect(
    attempt({
      tls: {
        serverRootCACertificate: read(c.ca),
        serverNameOverride: c.serverName,
        clientCertPair: { crt: read(other.clientCert), key: read(other.clientKey) },
      },
    }),
  ).rejects.toThrow();
  await expect(
    attempt({
      tls: {
        serverRootCACertificate: read(c.ca),
        serverNameOverride: c.serverName,
        clientCertPair: { crt: read(c.clientCert), key: read(c.clientKey) },
      },
    }),
  ).resolves.toBeUndefined();
});

it('S3 a case started with a plain (unencrypted) input is refused by the production worker: it never runs and nobody is contacted', async () => {
  const { client, close } = await attacker();
  try {
    const caseId = 'c' + 'a'.repeat(20);
    const start = new Date(Date.now() + 3 * 86_400_000);
    const input: CaseInput = {
      caseId,
      absenceId: 'a' + 'a'.repeat(20),
      siblingCaseIds: [],
      submittedAt: new Date().toISOString(),
      therapist: { id: 's3', name: 'Therapist', email: 'therapist-s3@cluster.test' },
      reason: 'illness',
      session: { id: 'S-s3', startsAt: start.toISOString() },
      client: { ref: 'C-s3', firstName: 'Alex', preferredContact: 'email', email: 'victim-s3@cluster.test' },
      rebook: { slots: [new Date(start.getTime() + 86_400_000).toISOString()] },
      policy: DEFAULT_POLICY,
      recordsMode: 'attestation',
    };
    const handle = await client.workflow.start('cancellationCase', {
      taskQueue: 'shortnotice',
      workflowId: caseWorkflowId(caseId),
      args: [input],
    });
    // Long enough for a worker to have sent the offer several times over.
    let failure: string | undefined;
    for (let i = 0; i < 30 && !failure; i++) {
      await sleep(1000);
      for (const event of (await handle.fetchHistory()).events ?? []) {
        const f = event.workflowTaskFailedEventAttributes?.failure;
        if (f)
          failure = (
            await decodeOptionalFailureToOptionalError(
              loadDataConverter(encryptedDataConverter(parseKeyList(tc.cluster.environment('worker-1').PAYLOAD_KEYS!))),
              f,
            )
          )?.message;
      }
    }
    expect(failure).toContain(REFUSED_ENCODING);
    expect(sink.messages.filter((m) => m.to.includes('victim-s3@cluster.test'))).toEqual([]);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.terminate('test over');
  } finally {
    await close();
  }
});

it('S3 an update with plain (unencrypted) arguments is rejected by the production worker and changes nothing', async () => {
  const ref = caseRef('s3u', 1);
  const body = submission(ref) as { sessions: { rebook: { slots: string[] } }[] };
  const res = await fetch(`${tc.webUrls[0]}/api/cancellations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tc.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  const caseId = ((await res.json()) as { cancellations: { id: string }[] }).cancellations[0]!.id;
  await sink.waitFor(isOfferFor(ref), 60_000);
  // The offer email can arrive before the case has recorded that it was sent and SQL visibility
  // shows the new stage: wait for the stage first, so "changes nothing" compares like with like.
  expect(await eventually(async () => (await tc.stages('s3u')).get(caseId), STAGE_WAITING_FOR_CHOICE)).toBe(STAGE_WAITING_FOR_CHOICE);
  const { client, close } = await attacker();
  try {
    const slot = body.sessions[0]!.rebook.slots[0]!;
    const update = client.workflow
      .getHandle(caseWorkflowId(caseId))
      .executeUpdate(chooseSlotUpdate, { args: [{ slot }] });
    await expect(update).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await expect(update).rejects.toHaveProperty('cause.message', expect.stringContaining(REFUSED_ENCODING));
    expect((await tc.stages('s3u')).get(caseId)).toBe(STAGE_WAITING_FOR_CHOICE);
    // The same choice from the app (encrypted) is accepted: the refusal was the encryption.
    await expect(
      tc.client.workflow.getHandle(caseWorkflowId(caseId)).executeUpdate(chooseSlotUpdate, { args: [{ slot }] }),
    ).resolves.toEqual({ slot });
  } finally {
    await close();
  }
});

it("S4 the cluster's Web UI reads cases over mutual TLS, and refuses to terminate one (write actions off)", async () => {
  const ref = caseRef('s4ui', 1);
  const res = await fetch(`${tc.webUrls[0]}/api/cancellations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tc.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(submission(ref)),
  });
  const caseId = ((await res.json()) as { cancellations: { id: string }[] }).cancellations[0]!.id;
  const ui = tc.cluster.uiUrl;
  const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as {
    DisableWriteActions?: boolean;
    Codec?: { Endpoint?: string };
  };
  expect(settings.DisableWriteActions).toBe(true);
  expect(settings.Codec?.Endpoint).toBe(`${tc.cluster.publicWebUrl}/codec`);
  // Visibility is written after the start, by the server's visibility queue: the absence the case
  // joined can be listed before the case itself, so the listing is polled until the case shows.
  let listing = '';
  const listsCase = async (): Promise<boolean> => {
    const listed = await fetch(
      `${ui}/api/v1/namespaces/default/workflows?query=${encodeURIComponent("TherapistRef = 's4ui'")}`,
    );
    expect(listed.status).toBe(200);
    listing = JSON.stringify(await listed.json());
    return listing.includes(caseWorkflowId(caseId));
  };
  await eventually(listsCase, true);
  expect(listing).toContain(caseWorkflowId(caseId));
  // The UI has no sign-in of its own: were writes on, anyone reaching it could end a case.
  const terminate = await fetch(`${ui}/api/v1/namespaces/default/workflows/${caseWorkflowId(caseId)}/terminate`, {
    method: 'POST',
    headers: { authorization: 'Bearer anything', 'content-type': 'application/json' },
    body: JSON.stringify({ reason: 'from the UI' }),
  });
  expect(terminate.status).toBe(405);
  expect((await tc.client.workflow.getHandle(caseWorkflowId(caseId)).describe()).status.name).toBe('RUNNING');
});

it('when run from dist/ on Node 24, the web app renders its views and serves its assets', async () => {
  const page = await fetch(`${tc.webUrls[1]}/c/not-a-real-link`);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(await page.text()).toContain('VHG talking therapies');
  const css = await fetch(`${tc.webUrls[1]}/assets/app.css`);
  expect(css.status).toBe(200);
  expect(css.headers.get('content-type')).toMatch(/text\/css/);
});
