/**
 * The payload codec (AES-256-GCM, fresh IV, key id in metadata, old keys still decrypt) and the
 * codec endpoint the Temporal Web UI calls: it refuses the unauthenticated, other origins and
 * therapists, answers the UI's origin with CORS and credentials, and handles the preflight.
 * (Histories written under an old key are decoded after rotation in scenario.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  REFUSED_ENCODING,
} from '../../src/temporal/codec';
import { createApp } from '../../src/web/app';
import { isLoopbackAddress } from '../../src/web/routes/codec';
import { CODEC_TOKEN, LEAD, makeDeps, signIn, testConfig, THERAPIST } from '../web/fakes';

const key = (id: string) => ({ id, key: randomBytes(32) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const toPayload = (v: unknown) => defaultPayloadConverter.toPayload(v) as Payload;
const CANARY = { client: { firstName: 'Zephyrine', email: 'zephyrine.canary@example.org', phone: '+447700900777' }, note: 'canary risk note' };

describe('the payload codec', () => {
  it('when a payload is encoded, then its data is ciphertext, its metadata names only the encoding and the key, and each encoding differs', async () => {
    const codec = new AesGcmPayloadCodec([key('p1')]);
    const plain = toPayload(CANARY);
    const [a] = await codec.encode([plain]);
    const [b] = await codec.encode([plain]);
    expect(Object.keys(a!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    expect(text(a!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(a!.metadata![KEY_ID_METADATA])).toBe('p1');
    for (const needle of ['Zephyrine', 'zephyrine.canary', '447700900777', 'canary risk note', 'json/plain']) {
      expect(Buffer.from(a!.data!).toString('latin1')).not.toContain(needle);
    }
    // A fresh IV each time: the same value never encrypts the same way twice.
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    const [back] = await codec.decode([a!]);
    expect(defaultPayloadConverter.fromPayload(back!)).toEqual(CANARY);
    expect(text(back!.metadata!.encoding)).toBe('json/plain');
  });

  it('S3 when a production worker decodes a plain payload, then it gets a refused value no converter reads', async () => {
    const strict = new AesGcmPayloadCodec([key('p1')], { refuseUnencrypted: true });
    const [refused] = await strict.decode([toPayload(CANARY)]);
    expect(text(refused!.metadata!.encoding)).toBe(REFUSED_ENCODING);
    expect(Object.keys(refused!.metadata!)).toEqual(['encoding']);
    expect(refused!.data!.length).toBe(0);
    expect(() => defaultPayloadConverter.fromPayload(refused!)).toThrow(REFUSED_ENCODING);
    // What the app encrypted still opens; elsewhere (web app, codec endpoint) plain payloads pass.
    const [sealed] = await strict.encode([toPayload(CANARY)]);
    expect(defaultPayloadConverter.fromPayload((await strict.decode([sealed!]))[0]!)).toEqual(CANARY);
    const lenient = new AesGcmPayloadCodec([key('p1')]);
    expect(defaultPayloadConverter.fromPayload((await lenient.decode([toPayload(CANARY)]))[0]!)).toEqual(CANARY);
  });

  it('when the keys rotate, then payloads from the old key still decode and new ones use the new key', async () => {
    const old = key('old');
    const fresh = key('new');
    const [sealed] = await new AesGcmPayloadCodec([old]).encode([toPayload('before rotation')]);
    const rotated = new AesGcmPayloadCodec([fresh, old]);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([sealed!]))[0]!)).toBe('before rotation');
    const [after] = await rotated.encode([toPayload('after')]);
    expect(text(after!.metadata![KEY_ID_METADATA])).toBe('new');
    // Once the old key is dropped, its payloads no longer open: loudly, not as garbage.
    await expect(new AesGcmPayloadCodec([fresh]).decode([sealed!])).rejects.toBeInstanceOf(PayloadDecryptionError);
  });

  it('when an encrypted payload is altered, cut short or relabelled with another key, then decoding fails', async () => {
    const k = key('p1');
    const codec = new AesGcmPayloadCodec([k, key('p2')]);
    const [sealed] = await codec.encode([toPayload('x')]);
    const data = Buffer.from(sealed!.data!);
    const flipped = Buffer.from(data);
    flipped[20] = flipped[20]! ^ 1;
    for (const bad of [
      { ...sealed!, data: new Uint8Array(flipped) },
      { ...sealed!, data: new Uint8Array(data.subarray(0, 20)) },
      { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('p2') } },
      { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('nope') } },
    ]) {
      await expect(codec.decode([bad])).rejects.toBeInstanceOf(PayloadDecryptionError);
    }
  });

  it('when a payload was never encrypted, then it passes through decode untouched (histories from before encryption stay readable)', async () => {
    const plain = toPayload({ a: 1 });
    expect(await new AesGcmPayloadCodec([key('p1')]).decode([plain])).toEqual([plain]);
  });
});

describe('the codec endpoint for the Temporal Web UI', () => {
  const UI = 'http://localhost:8233';
  const setup = () => {
    const d = makeDeps({ config: testConfig() });
    return { ...d, app: createApp(d.deps), codec: new AesGcmPayloadCodec(d.config.payloadKeys) };
  };
  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });
  const encrypted = async (codec: AesGcmPayloadCodec) => asJson((await codec.encode([toPayload(CANARY)]))[0]!);

  it('when a signed-in clinical lead uses the Web UI, then the preflight and the decode succeed with CORS for that origin only, credentials allowed', async () => {
    const { app, codec } = setup();
    const lead = await signIn(app, LEAD);
    const pre = await request(app)
      .options('/codec/decode')
      .set({ Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' })
      .expect(204);
    expect(pre.headers['access-control-allow-origin']).toBe(UI);
    expect(pre.headers['access-control-allow-credentials']).toBe('true');
    expect(pre.headers['access-control-allow-methods']).toBe('POST');
    expect(pre.headers['access-control-allow-headers']).toMatch(/X-Namespace/i);
    expect(pre.headers.vary).toMatch(/Origin/);

    const res = await lead.agent
      .post('/codec/decode')
      .set({ Origin: UI, 'X-Namespace': 'default' })
      .send({ payloads: [await encrypted(codec)] })
      .expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['cache-control']).toBe('no-store');
    const decoded = res.body.payloads[0];
    expect(Buffer.from(decoded.metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(decoded.data, 'base64').toString())).toEqual(CANARY);
  });

  it('when encode then decode go through the endpoint, then the value comes back and the encoded form is encrypted', async () => {
    const { app } = setup();
    const auth = { Authorization: `Bearer ${CODEC_TOKEN}`, 'X-Namespace': 'default' };
    const enc = await request(app).post('/codec/encode').set(auth).send({ payloads: [asJson(toPayload('round trip'))] }).expect(200);
    expect(Buffer.from(enc.body.payloads[0].metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    const dec = await request(app).post('/codec/decode').set(auth).send(enc.body).expect(200);
    expect(JSON.parse(Buffer.from(dec.body.payloads[0].data, 'base64').toString())).toBe('round trip');
  });

  it('when nobody is signed in and no token is sent, then decode answers 401 and reveals nothing', async () => {
    const { app, codec } = setup();
    const res = await request(app).post('/codec/decode').set({ Origin: UI, 'X-Namespace': 'default' }).send({ payloads: [await encrypted(codec)] }).expect(401);
    expect(JSON.stringify(res.body)).not.toMatch(/Zephyrine|canary/);
    // The UI can read the refusal (so it can say why), but nothing else.
    expect(res.headers['access-control-allow-origin']).toBe(UI);
  });

  it.each([
    ['a wrong token', { Authorization: `Bearer ${'x'.repeat(CODEC_TOKEN.length)}` }],
    ['the API token', { Authorization: 'Bearer test-api-token-0123456789-abcdefghijklmnop' }],
  ])('when called with %s, then it answers 401', async (_name, headers) => {
    const { app, codec } = setup();
    await request(app).post('/codec/decode').set({ ...headers, 'X-Namespace': 'default' }).send({ payloads: [await encrypted(codec)] }).expect(401);
  });

  it('when another origin calls, even with a clinical lead’s cookie or a good token, then it answers 403 without CORS headers, preflight included', async () => {
    const { app, codec } = setup();
    const lead = await signIn(app, LEAD);
    const body = { payloads: [await encrypted(codec)] };
    for (const origin of ['https://evil.example', 'http://localhost:3000', 'null', `${UI}.evil.example`]) {
      const pre = await request(app).options('/codec/decode').set({ Origin: origin, 'Access-Control-Request-Method': 'POST' }).expect(403);
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      const byCookie = await lead.agent.post('/codec/decode').set({ Origin: origin, 'X-Namespace': 'default' }).send(body).expect(403);
      expect(byCookie.headers['access-control-allow-origin']).toBeUndefined();
      expect(JSON.stringify(byCookie.body)).not.toMatch(/Zephyrine/);
      await request(app).post('/codec/decode').set({ Origin: origin, Authorization: `Bearer ${CODEC_TOKEN}`, 'X-Namespace': 'default' }).send(body).expect(403);
    }
  });

  it('when a clinical lead’s cookie arrives without the UI’s Origin (a form or a script elsewhere), then it does not count', async () => {
    const { app, codec } = setup();
    const lead = await signIn(app, LEAD);
    await lead.agent.post('/codec/decode').set({ 'X-Namespace': 'default' }).send({ payloads: [await encrypted(codec)] }).expect(401);
  });

  it('when a therapist is signed in, then the codec refuses them (it cannot tell their cases from others)', async () => {
    const { app, codec } = setup();
    const therapist = await signIn(app, THERAPIST);
    await therapist.agent.post('/codec/decode').set({ Origin: UI, 'X-Namespace': 'default' }).send({ payloads: [await encrypted(codec)] }).expect(403);
  });

  it.each([
    ['another namespace', { 'X-Namespace': 'other' }, { payloads: [] }, 400],
    ['no namespace', {}, { payloads: [] }, 400],
    ['a body that is not payloads', { 'X-Namespace': 'default' }, { nope: 1 }, 400],
    ['data that is not base64', { 'X-Namespace': 'default' }, { payloads: [{ data: '***' }] }, 400],
    ['too many payloads', { 'X-Namespace': 'default' }, { payloads: Array.from({ length: 1001 }, () => ({})) }, 400],
  ])('when a token-holder sends %s, then it answers 400', async (_name, headers, body, status) => {
    const { app } = setup();
    await request(app).post('/codec/decode').set({ Authorization: `Bearer ${CODEC_TOKEN}`, ...headers }).send(body).expect(status);
  });

  it('when a payload was sealed with a retired key, then the rest still decode and that one comes back as it was', async () => {
    const { app, codec } = setup();
    const retired = asJson((await new AesGcmPayloadCodec([key('gone')]).encode([toPayload('old')]))[0]!);
    const res = await request(app)
      .post('/codec/decode')
      .set({ Authorization: `Bearer ${CODEC_TOKEN}`, 'X-Namespace': 'default' })
      .send({ payloads: [retired, await encrypted(codec)] })
      .expect(200);
    expect(res.body.payloads[0]).toEqual(retired);
    expect(JSON.parse(Buffer.from(res.body.payloads[1].data, 'base64').toString())).toEqual(CANARY);
  });

  it('when GET or another method is used, then it answers 405', async () => {
    const { app } = setup();
    const res = await request(app).get('/codec/decode').set('Authorization', `Bearer ${CODEC_TOKEN}`).expect(405);
    expect(res.headers.allow).toBe('POST, OPTIONS');
  });
});

describe('the codec endpoint for the local Web UI of npm start (CODEC_OPEN_TO_LOCAL_UI, development only)', () => {
  const UI = 'http://localhost:8233';
  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  });

  it('issue 15 (U1): when it is on, then the Web UI decodes over loopback without credentials, and the read is audited as the local Web UI', async () => {
    const config = testConfig({ CODEC_OPEN_TO_LOCAL_UI: 'true' });
    const reads: unknown[] = [];
    const d = makeDeps({ config });
    const app = createApp({ ...d.deps, audit: { read: (r) => reads.push(r) } });
    const codec = new AesGcmPayloadCodec(config.payloadKeys);
    const sealed = asJson((await codec.encode([toPayload({ caseId: 'c0123456789abcdefghij', ...CANARY })]))[0]!);
    const res = await request(app).post('/codec/decode').set({ Origin: UI, 'X-Namespace': 'default' }).send({ payloads: [sealed] }).expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(UI);
    expect(JSON.parse(Buffer.from(res.body.payloads[0].data, 'base64').toString())).toMatchObject(CANARY);
    expect(reads).toEqual([{ who: 'local-web-ui', role: 'development', caseId: 'c0123456789abcdefghij', via: 'codec', what: '1 decoded payload' }]);
  });

  it('issue 15 (U1): when it is on, then other origins and calls without the UI’s Origin are still refused', async () => {
    const config = testConfig({ CODEC_OPEN_TO_LOCAL_UI: 'true' });
    const app = createApp(makeDeps({ config }).deps);
    const body = { payloads: [asJson((await new AesGcmPayloadCodec(config.payloadKeys).encode([toPayload(CANARY)]))[0]!)] };
    await request(app).post('/codec/decode').set({ 'X-Namespace': 'default' }).send(body).expect(401);
    for (const origin of ['https://evil.example', 'http://localhost:3000', 'http://127.0.0.1:8233']) {
      const res = await request(app).post('/codec/decode').set({ Origin: origin, 'X-Namespace': 'default' }).send(body).expect(403);
      expect(JSON.stringify(res.body)).not.toMatch(/Zephyrine/);
    }
  });

  it.each([
    ['in production', { NODE_ENV: 'production' }],
    ['with OpenID Connect sign-in', { AUTH_MODE: 'oidc', OIDC_ISSUER_URL: 'https://idp.example', OIDC_CLIENT_ID: 'x' }],
    ['with a public address for the app', { PUBLIC_BASE_URL: 'https://shortnotice.example' }],
    ['with a public address for the Web UI', { TEMPORAL_UI_URL: 'https://temporal.example' }],
  ])('issue 15 (U1): when it is set %s, then the configuration is refused, naming the variable', (_name, env) => {
    expect(() => testConfig({ CODEC_OPEN_TO_LOCAL_UI: 'true', ...env })).toThrow(/CODEC_OPEN_TO_LOCAL_UI: development only/);
  });

  it('issue 15 (U1): a loopback connection is 127.0.0.0/8 or ::1 (IPv4-mapped too), nothing else', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of [undefined, '', '10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', 'fe80::1', '0.0.0.0']) expect(isLoopbackAddress(a)).toBe(false);
  });
});
