import request from 'supertest';
import { createApp } from '../../src/web/app';
import { API_TOKEN, caseView, CASE_ID, DAY, fromNow, makeDeps, validSubmission } from './fakes';

const AUTH = ['Authorization', `Bearer ${API_TOKEN}`] as const;

function setup() {
  const d = makeDeps();
  return { ...d, app: createApp(d.deps) };
}

type Session = Record<string, unknown> & { client: Record<string, unknown>; rebook: Record<string, unknown> };
function withSession(change: (s: Session) => void) {
  const body = validSubmission();
  change((body.sessions as Session[])[0]!);
  return body;
}

describe('POST /api/cancellations', () => {
  it('when the submission is valid, then it starts one case per session and answers 201 with their links', async () => {
    const { app, cases } = setup();
    const body = validSubmission();
    (body.sessions as unknown[]).push({
      id: 'S-2',
      startsAt: fromNow(4 * DAY),
      client: { ref: 'C-78', firstName: 'Priya', preferredContact: 'sms', phone: '+447700900123' },
      rebook: { callbackBy: fromNow(2 * DAY) },
    });

    const res = await request(app).post('/api/cancellations').set(...AUTH).send(body).expect(201);

    expect(res.body).toEqual({
      cancellations: [
        { id: 'c00000000000000000000', links: { self: '/api/cancellations/c00000000000000000000' } },
        { id: 'c00000000000000000001', links: { self: '/api/cancellations/c00000000000000000001' } },
      ],
    });
    expect(cases.submit).toHaveBeenCalledTimes(1);
    expect(cases.submitted[0]!.sessions.map((s) => s.id)).toEqual(['S-1', 'S-2']);
  });

  const rules: [string, Record<string, unknown>, string, RegExp][] = [
    ['an unknown field', { ...validSubmission(), colour: 'blue' }, '', /Unknown field: colour/],
    ['a session in the past', withSession((s) => (s.startsAt = fromNow(-DAY))), 'sessions.0.startsAt', /future/],
    ['a slot before the session', withSession((s) => (s.rebook = { slots: [fromNow(DAY)] })), 'sessions.0.rebook.slots.0', /after the cancelled session/],
    [
      'email preferred without an email address',
      withSession((s) => (s.client = { ref: 'C-77', firstName: 'Sam', preferredContact: 'email', phone: '+447700900123' })),
      'sessions.0.client.email',
      /prefers email/,
    ],
    [
      'sms preferred without a phone number',
      withSession((s) => (s.client = { ref: 'C-77', firstName: 'Sam', preferredContact: 'sms', email: 'sam@example.org' })),
      'sessions.0.client.phone',
      /prefers sms/,
    ],
    [
      'voicemail preferred without a phone number',
      withSession((s) => (s.client = { ref: 'C-77', firstName: 'Sam', preferredContact: 'voicemail' })),
      'sessions.0.client.phone',
      /prefers voicemail/,
    ],
  ];

  it.each(rules)('when the submission has %s, then it answers 400 naming the field and starts nothing', async (_name, body, path, message) => {
    const { app, cases } = setup();

    const res = await request(app).post('/api/cancellations').set(...AUTH).send(body).expect(400);

    expect(res.body.errors).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(message) }]));
    for (const e of res.body.errors) expect(Object.keys(e).sort()).toEqual(['message', 'path']);
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when the body is not valid JSON, then it answers 400 with a JSON error and starts nothing', async () => {
    const { app, cases } = setup();

    const res = await request(app).post('/api/cancellations').set(...AUTH).set('Content-Type', 'application/json').send('{"therapist":').expect(400);

    expect(res.body).toEqual({ errors: [{ path: '', message: 'The request body is not valid JSON' }] });
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when the body is larger than 100 kB, then it answers 413 without reading it into a case', async () => {
    const { app, cases } = setup();
    const huge = { ...validSubmission(), padding: 'x'.repeat(150_000) };

    const res = await request(app).post('/api/cancellations').set(...AUTH).send(huge).expect(413);

    expect(res.body.errors[0].path).toBe('');
    expect(res.body.errors[0].message).toMatch(/too large/);
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when the body is not JSON at all, then it answers 415 and starts nothing', async () => {
    const { app, cases } = setup();

    const res = await request(app).post('/api/cancellations').set(...AUTH).type('form').send('therapist=x').expect(415);

    expect(res.body.errors[0].message).toMatch(/JSON/);
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when starting the cases fails, then it answers 500 with a calm JSON error and no stack trace', async () => {
    const { app, cases } = setup();
    cases.submit.mockRejectedValueOnce(new Error('connect ECONNREFUSED 127.0.0.1:7233\n    at TCPConnectWrap'));

    const res = await request(app).post('/api/cancellations').set(...AUTH).send(validSubmission()).expect(500);

    expect(res.body).toEqual({ errors: [{ path: '', message: expect.stringMatching(/Something went wrong/) }] });
    expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|TCPConnectWrap/);
  });
});

describe('GET /api/cancellations/:id', () => {
  it('when the case exists, then it answers with its view, without the client\'s contact details (D3)', async () => {
    const { app, cases } = setup();
    const view = caseView();
    cases.add(view);

    const res = await request(app).get(`/api/cancellations/${CASE_ID}`).set(...AUTH).expect(200);

    const { clientContact: _contact, timers: _timers, ...forIntegrations } = view;
    expect(res.body).toEqual(forIntegrations);
    expect(JSON.stringify(res.body)).not.toMatch(/7700|sam@example|C-2002/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('when the case has a risk note, then the API view leaves the note out', async () => {
    const { app, cases } = setup();
    cases.add(caseView({ risk: true, riskNote: 'canary-risk-note' }));

    const res = await request(app).get(`/api/cancellations/${CASE_ID}`).set(...AUTH).expect(200);

    expect(res.body.risk).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain('canary-risk-note');
  });

  it.each([['an unknown id', 'c99999999999999999999'], ['a malformed id', '..%2Fetc']])(
    'when given %s, then it answers 404 "No such case"',
    async (_name, id) => {
      const { app } = setup();

      const res = await request(app).get(`/api/cancellations/${id}`).set(...AUTH).expect(404);

      expect(res.body).toEqual({ errors: [{ path: 'id', message: 'No such case' }] });
    },
  );
});

describe('service routes', () => {
  it('when asked for /healthz, then it answers 200 ok', async () => {
    const { app } = setup();
    await request(app).get('/healthz').expect(200, { ok: true });
  });

  it('when opening the root, then it redirects to the home page of cases (issue 15)', async () => {
    const { app } = setup();
    const res = await request(app).get('/').expect(302);
    expect(res.headers.location).toBe('/cancellations');
  });

  it('when an API path does not exist, then it answers a JSON 404', async () => {
    const { app } = setup();
    const res = await request(app).get('/api/nothing').set(...AUTH).expect(404);
    expect(res.body.errors[0].message).toMatch(/No such endpoint/);
  });

  it('when a page does not exist, then it renders a calm 404 page', async () => {
    const { app } = setup();
    const res = await request(app).get('/nowhere').expect(404);
    expect(res.text).toContain('Page not found');
  });

  it('when the CSS is requested, then the NHS.UK styles and ours are served', async () => {
    const { app } = setup();
    await request(app).get('/assets/nhsuk-frontend.min.css').expect(200).expect('Content-Type', /css/);
    await request(app).get('/assets/app.css').expect(200).expect('Content-Type', /css/);
  });
});
