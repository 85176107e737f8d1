import { submissionSchema, toFieldErrors } from '../../src/shared/api';

const now = new Date('2026-11-26T12:00:00Z');

function valid() {
  return {
    therapist: { id: 'T-1001', name: 'Alex Morgan', email: 'alex@example.org' },
    reason: 'illness',
    expectedReturn: '2026-11-28',
    sessions: [
      {
        id: 'S-5001',
        startsAt: '2026-11-27T10:00:00Z',
        client: { ref: 'C-2002', firstName: 'Sam', preferredContact: 'email', email: 'sam@example.org', phone: '+447700900123' },
        rebook: { slots: ['2026-11-29T10:00:00Z'] },
        risk: { concern: true, note: 'line one\nline two' },
      },
    ],
  };
}

function errors(body: unknown) {
  const r = submissionSchema(now).safeParse(body);
  return r.success ? [] : toFieldErrors(r.error);
}

describe('the v1 submission schema', () => {
  test('the documented example is accepted', () => {
    expect(errors(valid())).toEqual([]);
  });

  test('unknown fields are refused by name', () => {
    const body = { ...valid(), extra: 1 };
    expect(errors(body)).toEqual([{ path: '', message: 'Unknown field: extra' }]);
  });

  test('a new time offered before the therapist\'s expected return is refused, naming the time', () => {
    const body = valid();
    body.expectedReturn = '2026-11-30';
    expect(errors(body)).toEqual([{ path: 'sessions.0.rebook.slots.0', message: 'A new time must be on or after the expected return' }]);
  });

  test('a session in the past is refused', () => {
    const body = valid();
    body.sessions[0]!.startsAt = '2026-11-26T11:00:00Z';
    expect(errors(body)).toEqual([expect.objectContaining({ path: 'sessions.0.startsAt' })]);
  });

  test('a slot before the cancelled session is refused', () => {
    const body = valid();
    body.sessions[0]!.rebook = { slots: ['2026-11-27T09:00:00Z'] };
    expect(errors(body)).toEqual([expect.objectContaining({ path: 'sessions.0.rebook.slots.0' })]);
  });

  test.each([
    ['email', 'email', 'sessions.0.client.email'],
    ['sms', 'phone', 'sessions.0.client.phone'],
    ['phone', 'phone', 'sessions.0.client.phone'],
    ['voicemail', 'phone', 'sessions.0.client.phone'],
  ] as const)('a client preferring %s needs their %s', (method, field, path) => {
    const body = valid();
    const client = body.sessions[0]!.client as Record<string, unknown>;
    client.preferredContact = method;
    delete client[field];
    expect(errors(body)).toEqual([expect.objectContaining({ path })]);
  });

  test('a callback time must be in the future', () => {
    const body = valid();
    (body.sessions[0] as { rebook: unknown }).rebook = { callbackBy: '2026-11-26T11:00:00Z' };
    expect(errors(body)).toEqual([expect.objectContaining({ path: 'sessions.0.rebook.callbackBy' })]);
  });

  test('a line break in a name or email cannot reach a message header', () => {
    const body = valid();
    body.sessions[0]!.client.firstName = 'Sam\r\nBcc: x@example.org';
    body.therapist.email = 'alex@example.org\r\nBcc: x@example.org';
    expect(errors(body).map((e) => e.path).sort()).toEqual(['sessions.0.client.firstName', 'therapist.email']);
  });

  test('the same session twice in one submission is refused', () => {
    const body = valid();
    body.sessions.push({ ...body.sessions[0]! });
    expect(errors(body)).toEqual([expect.objectContaining({ path: 'sessions.1.id' })]);
  });
});

describe('names and addresses with invisible characters', () => {
  test.each([
    ['a tab before a name', '\t\tSam'],
    ['a zero-width no-break space after a name', 'Sam\uFEFF'],
    ['a line separator', '\u2028Sam'],
  ])('%s is refused rather than silently trimmed', (_what, firstName) => {
    const body = valid();
    body.sessions[0]!.client.firstName = firstName;
    expect(errors(body)).toEqual([expect.objectContaining({ path: 'sessions.0.client.firstName' })]);
  });

  test('a tab around an email address is refused', () => {
    const body = valid();
    body.therapist.email = '\talex@example.org';
    expect(errors(body)).toEqual([expect.objectContaining({ path: 'therapist.email' })]);
  });

  test('issue 14: one schema serves every request, and each validation is judged at its own time', () => {
    const body = valid();
    const later = new Date('2026-11-27T11:00:00Z');
    const atNow = submissionSchema(now);
    const atLater = submissionSchema(later);
    expect(atNow.safeParse(body).success).toBe(true);
    const refused = atLater.safeParse(body);
    expect(refused.success ? [] : toFieldErrors(refused.error)).toEqual([{ path: 'sessions.0.startsAt', message: 'The session must be in the future' }]);
    // The later validation leaves nothing behind for the next one.
    expect(atNow.safeParse(body).success).toBe(true);
  });

  test('ordinary spaces around a name are still trimmed', () => {
    const body = valid();
    body.sessions[0]!.client.firstName = '  Sam  ';
    const r = submissionSchema(now).safeParse(body);
    expect(r.success && r.data.sessions[0]!.client.firstName).toBe('Sam');
  });
});
