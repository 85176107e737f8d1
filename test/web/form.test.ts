import { createApp } from '../../src/web/app';
import { isoToParts, isoToUkLocal } from '../../src/web/uk-time';
import { ESCALATION, LEAD } from './fakes';
import { DAY, fromNow, makeDeps, signIn } from './fakes';

/** The app, with the therapist T1042 (Alex Morgan) signed in. */
async function setup() {
  const d = makeDeps();
  const app = createApp(d.deps);
  return { ...d, app, staff: await signIn(app) };
}

const local = (iso: string) => isoToUkLocal(iso)!;

/** The NHS.UK date input's boxes and the time box for an instant, as a person types them. */
function dt(prefix: string, iso: string, withTime = true): Record<string, string> {
  const { day, month, year, time } = isoToParts(iso);
  return { [`${prefix}-day`]: day, [`${prefix}-month`]: month, [`${prefix}-year`]: year, ...(withTime ? { [`${prefix}-time`]: time } : {}) };
}

const blankDt = (prefix: string): Record<string, string> => ({ [`${prefix}-day`]: '', [`${prefix}-month`]: '', [`${prefix}-year`]: '', [`${prefix}-time`]: '' });

/** A complete, valid form for one session, as a browser would post it. */
function formBody(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'therapist-id': 'T1042',
    'therapist-name': 'Alex Morgan',
    'therapist-email': 'alex.morgan@example.org',
    reason: 'illness',
    'expected-return-day': '',
    'expected-return-month': '',
    'expected-return-year': '',
    'session-0-id': 'S-1',
    ...dt('session-0-start', fromNow(3 * DAY)),
    'session-0-client-ref': 'C-77',
    'session-0-first-name': 'Sam',
    'session-0-contact': 'email',
    'session-0-email': 'sam@example.org',
    'session-0-phone': '',
    'session-0-rebook': 'slots',
    ...dt('session-0-slot-0', fromNow(5 * DAY)),
    ...blankDt('session-0-slot-1'),
    ...blankDt('session-0-slot-2'),
    ...blankDt('session-0-callback'),
    'session-0-risk-note': '',
    action: 'submit',
    ...overrides,
  };
}

/** The element with this id, as text, to check what sits beside a field. */
function fieldHtml(html: string, id: string): string {
  const at = html.indexOf(`id="${id}"`);
  expect(at).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf('<', at), html.indexOf('>', at) + 1);
}

describe('the cancellation form', () => {
  it('when opened, then it shows labelled fields for the therapist and one session, and both submit buttons', async () => {
    const { staff } = await setup();

    const res = await staff.get('/cancellations/new').expect(200);

    for (const id of ['therapist-id', 'therapist-name', 'therapist-email', 'session-0-id', 'session-0-start-day', 'session-0-start-month', 'session-0-start-year', 'session-0-start-time', 'session-0-first-name', 'session-0-email', 'session-0-phone', 'session-0-slot-0-day', 'session-0-callback-time', 'session-0-risk-note', 'expected-return-year']) {
      expect(res.text).toContain(`for="${id}"`);
    }
    expect(res.text).toMatch(/<legend[^>]*>\s*Why are you cancelling\?/);
    expect(res.text).toMatch(/<legend[^>]*>\s*How does the client want to be contacted\?/);
    expect(res.text).toMatch(/<button[^>]*name="action"[^>]*value="add-session"/);
    expect(res.text).not.toContain('session-1-id');
    expect(res.text).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('when fields are missing or wrong, then it shows an error summary linking to each field, inline errors, and keeps the input', async () => {
    const { staff, cases } = await setup();
    const body = formBody({ 'therapist-name': '', 'therapist-email': 'not-an-email', 'session-0-contact': 'sms', 'session-0-first-name': 'Sam <b>' });

    const res = await staff.post('/cancellations', body).expect(422);

    expect(res.text).toMatch(/<title>Error: /);
    const summary = res.text.slice(res.text.indexOf('nhsuk-error-summary'), res.text.indexOf('</ul>', res.text.indexOf('nhsuk-error-summary')));
    expect(summary).toContain('role="alert"');
    expect(summary).toContain('<a href="#therapist-name">');
    expect(summary).toContain('Enter your name');
    expect(summary).toContain('<a href="#therapist-email">');
    expect(summary).toContain('<a href="#session-0-phone">');
    expect(summary).toContain('Enter the client&#39;s phone number: they asked for text messages');

    expect(res.text).toContain('id="therapist-name-error"');
    expect(fieldHtml(res.text, 'therapist-name')).toMatch(/aria-describedby="[^"]*therapist-name-error/);
    expect(fieldHtml(res.text, 'session-0-phone')).toMatch(/aria-describedby="[^"]*session-0-phone-error/);

    expect(fieldHtml(res.text, 'therapist-id')).toContain('value="T1042"');
    expect(fieldHtml(res.text, 'therapist-email')).toContain('value="not-an-email"');
    expect(fieldHtml(res.text, 'session-0-first-name')).toContain('value="Sam &lt;b&gt;"');
    expect(res.text).toMatch(/id="session-0-contact-2"[^>]*value="sms"[^>]* checked/);
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when the session is in the past, then the form says so beside the date, as the API would', async () => {
    const { staff, cases } = await setup();
    const res = await staff.post('/cancellations', formBody(dt('session-0-start', fromNow(-DAY)))).expect(422);

    expect(res.text).toContain('<a href="#session-0-start-day">');
    expect(res.text).toContain('The cancelled session must be in the future');
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when a slot is before the session, then the error points at that slot input', async () => {
    const { staff } = await setup();

    const res = await staff.post('/cancellations', formBody({ ...blankDt('session-0-slot-0'), ...dt('session-0-slot-2', fromNow(2 * DAY)) })).expect(422);

    expect(res.text).toContain('<a href="#session-0-slot-2-day">');
    expect(res.text).toContain('The new time must be after the cancelled session');
    expect(res.text).not.toMatch(/\bslot\b(?![-"])/);
  });

  it('when no way to rebook is chosen, then it asks for one', async () => {
    const { staff } = await setup();
    const res = await staff.post('/cancellations', formBody({ 'session-0-rebook': '' })).expect(422);
    expect(res.text).toContain('<a href="#session-0-rebook">');
    expect(res.text).toContain('Choose whether to offer new times or to call the client back');
  });

  it('when "Add another session" is pressed, then the form comes back with a second session and the input kept, without submitting', async () => {
    const { staff, cases } = await setup();

    const res = await staff.post('/cancellations', formBody({ action: 'add-session' })).expect(200);

    expect(res.text).toContain('id="session-1-id"');
    expect(res.text).not.toContain('id="session-2-id"');
    expect(fieldHtml(res.text, 'session-0-id')).toContain('value="S-1"');
    expect(fieldHtml(res.text, 'session-0-first-name')).toContain('value="Sam"');
    expect(res.text).toContain('Session 2 of 2');
    expect(res.text).not.toContain('nhsuk-error-summary');
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when a session is removed, then the others move up with their input', async () => {
    const { staff } = await setup();
    const body = formBody({ 'session-1-id': 'S-2', 'session-1-first-name': 'Priya', action: 'remove-session-0' });

    const res = await staff.post('/cancellations', body).expect(200);

    expect(fieldHtml(res.text, 'session-0-id')).toContain('value="S-2"');
    expect(fieldHtml(res.text, 'session-0-first-name')).toContain('value="Priya"');
    expect(res.text).not.toContain('id="session-1-id"');
  });

  it('when two sessions have errors, then the summary names the session', async () => {
    const { staff } = await setup();
    const res = await staff.post('/cancellations', formBody({ 'session-1-id': 'S-2' })).expect(422);
    expect(res.text).toContain("Session 2: Enter the client&#39;s first name");
  });

  it('when the form is valid, then it submits once and confirms each case with a link to its page', async () => {
    const { staff, cases } = await setup();
    const body = formBody({
      'session-1-id': 'S-2',
      ...dt('session-1-start', fromNow(4 * DAY)),
      'session-1-client-ref': 'C-78',
      'session-1-first-name': 'Priya',
      'session-1-contact': 'phone',
      'session-1-phone': '07700 900123',
      'session-1-rebook': 'callback',
      ...dt('session-1-callback', fromNow(2 * DAY)),
      'session-1-risk': 'yes',
      'session-1-risk-note': 'Said things were hard this week',
    });

    const res = await staff.post('/cancellations', body).expect(200);

    expect(cases.submit).toHaveBeenCalledTimes(1);
    const sub = cases.submitted[0]!;
    expect(sub.sessions).toHaveLength(2);
    expect(sub.sessions[1]!.client).toEqual({ ref: 'C-78', firstName: 'Priya', preferredContact: 'phone', phone: '+447700900123' });
    expect(sub.sessions[1]!.risk).toEqual({ concern: true, note: 'Said things were hard this week' });
    expect(sub.sessions[0]!.risk).toBeUndefined();
    expect(res.text).toContain('Your 2 cancellations have been sent');
    expect(res.text).toContain('href="/cancellations/c00000000000000000000"');
    expect(res.text).toContain('href="/cancellations/c00000000000000000001"');
    expect(res.text).toContain('S-2');
  });

  it('when a session had been submitted before with other details, then the confirmation says the earlier details stand', async () => {
    const { staff, cases } = await setup();
    cases.submit.mockImplementationOnce(async () => [{ caseId: 'c00000000000000000000', changesIgnored: true }]);

    const res = await staff.post('/cancellations', formBody()).expect(200);

    expect(res.text).toContain('Sent before');
    expect(res.text).toMatch(/already cancelled with other details/);
  });

  it('when times are entered in summer and in winter, then they are sent as the right UTC instants', async () => {
    const { staff, cases } = await setup();
    const y = new Date().getUTCFullYear() + 1;
    const body = formBody({
      'session-0-start-day': '1',
      'session-0-start-month': '7',
      'session-0-start-year': String(y),
      'session-0-start-time': '10:00',
      'session-0-slot-0-day': '01',
      'session-0-slot-0-month': 'December',
      'session-0-slot-0-year': String(y),
      'session-0-slot-0-time': '10am',
      'expected-return-day': '8',
      'expected-return-month': '07',
      'expected-return-year': String(y),
    });

    await staff.post('/cancellations', body).expect(200);

    const s = cases.submitted[0]!.sessions[0]!;
    expect(s.startsAt).toBe(`${y}-07-01T09:00:00.000Z`);
    expect(s.rebook).toEqual({ slots: [`${y}-12-01T10:00:00.000Z`] });
    expect(cases.submitted[0]!.expectedReturn).toBe(`${y}-07-08`);
  });

  it('when a time falls in the hour skipped as the clocks go forward, then it is refused with a reason', async () => {
    const { staff, cases } = await setup();
    const y = new Date().getUTCFullYear() + 1;
    const lastSundayOfMarch = 31 - new Date(Date.UTC(y, 2, 31)).getUTCDay();

    const res = await staff
      .post('/cancellations', formBody({ 'session-0-start-day': String(lastSundayOfMarch), 'session-0-start-month': '3', 'session-0-start-year': String(y), 'session-0-start-time': '01:30' }))
      .expect(422);

    expect(res.text).toContain('the clocks go forward');
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('issue 15 (U8): when a date or a time is incomplete or not real, then the error says what is missing in plain words, beside the date input', async () => {
    const { staff } = await setup();
    const cases: [Record<string, string>, string, string][] = [
      [{ 'session-0-start-month': '' }, 'session-0-start', 'The date and time the session was due to start must include a month'],
      [{ 'session-0-start-day': '31', 'session-0-start-month': '2' }, 'session-0-start', 'The date and time the session was due to start must be a real date and time'],
      [{ 'session-0-start-year': '26' }, 'session-0-start', 'The year must have 4 numbers, like 2026'],
      [{ 'session-0-start-time': '25:00' }, 'session-0-start', 'Enter the time using the 24-hour clock, like 09:30 or 14:30'],
      [{ 'session-0-start-time': '' }, 'session-0-start', 'The date and time the session was due to start must include a time'],
      [{ ...dt('session-0-slot-0', fromNow(-2 * DAY)) }, 'session-0-slot-0', 'The new time must be in the future'],
      [{ 'expected-return-day': '40', 'expected-return-month': '1', 'expected-return-year': '2099' }, 'expected-return', 'The date of the expected return must be a real date'],
    ];
    for (const [fields, group, message] of cases) {
      const res = await staff.post('/cancellations', formBody(fields)).expect(422);
      expect(res.text).toContain(`<a href="#${group}-day">`);
      expect(res.text).toContain(message);
      expect(res.text).toContain(`id="${group}-error"`);
    }
  });

  it.each([['07700 900123'], ['07700-900-123'], ['+44 (0)7700 900123'], ['0044 7700 900123'], ['447700900123'], ['(07700) 900 123']])(
    'issue 15 (U8): when the phone number is typed as %s, then it is accepted as the hint promises',
    async (phone) => {
      const { staff, cases } = await setup();
      await staff.post('/cancellations', formBody({ 'session-0-contact': 'sms', 'session-0-phone': phone })).expect(200);
      expect(cases.submitted[0]!.sessions[0]!.client.phone).toBe('+447700900123');
    },
  );

  it('issue 15 (U8): when a phone number cannot be read, then the error asks for it the way the hint shows it', async () => {
    const { staff } = await setup();
    const res = await staff.post('/cancellations', formBody({ 'session-0-contact': 'sms', 'session-0-phone': '12345' })).expect(422);
    expect(res.text).toContain('Enter a phone number like 07700 900123, or an international number starting with +');
    expect(res.text).not.toContain('international format, like +447700900123');
  });

  it('issue 15 (U8): when a clinical lead fills in the form, then it speaks of the therapist, not "you"', async () => {
    const d = makeDeps();
    const app = createApp(d.deps);
    const lead = await signIn(app, LEAD);
    const page = await lead.get('/cancellations/new').expect(200);
    expect(page.text).toContain('Why is the therapist cancelling?');
    expect(page.text).toContain('When does the therapist expect to be back? (optional)');
    expect(page.text).toContain('The therapist will call the client back to agree a time');
    expect(page.text).toContain('The therapist gets an email for anything they need to do.');
    expect(page.text).not.toMatch(/Why are you cancelling|When do you expect to be back|I will call the client back/);
    const errors = await lead.post('/cancellations', formBody({ 'therapist-name': '', reason: '' })).expect(422);
    expect(errors.text).toContain('Enter the therapist&#39;s name');
    expect(errors.text).toContain('Choose why the therapist is cancelling');
    const sent = await lead.post('/cancellations', formBody()).expect(200);
    expect(sent.text).toContain('The cancellation has been sent');
    expect(sent.text).toContain('Alex Morgan gets an email for anything else they need to do');
  });

  it('issue 15 (U8): when a page rendered before the date input posts its single date and time fields, then they are still read', async () => {
    const { staff, cases } = await setup();
    const start = local(fromNow(3 * DAY));
    const body = formBody({ 'session-0-start-date': start.date, 'session-0-start-time': start.time, 'session-0-slot-0': local(fromNow(5 * DAY)).dateTime });
    for (const k of ['session-0-start-day', 'session-0-start-month', 'session-0-start-year', 'session-0-slot-0-day', 'session-0-slot-0-month', 'session-0-slot-0-year', 'session-0-slot-0-time']) delete body[k];
    await staff.post('/cancellations', body).expect(200);
    expect(cases.submitted[0]!.sessions[0]!.startsAt).toBe(fromNow(3 * DAY));
  });

  it('issue 15 (U8): when staff go to /cancellations after sending the form (a reload, a typed address), then they see their cases, never "Method not allowed"', async () => {
    const { staff } = await setup();
    await staff.post('/cancellations', formBody()).expect(200);
    const res = await staff.get('/cancellations').expect(200);
    expect(res.text).toContain('<h1>Your cases</h1>');
    const escalation = await signIn(createApp(makeDeps().deps), ESCALATION);
    const queue = await escalation.get('/cancellations').expect(200);
    expect(queue.text).toContain("Your team&#39;s queue");
  });
});
