import { createApp } from '../../src/web/app';
import { isoToUkLocal } from '../../src/web/uk-time';
import { DAY, fromNow, makeDeps, signIn } from './fakes';

/** The app, with the therapist T1042 (Alex Morgan) signed in. */
async function setup() {
  const d = makeDeps();
  const app = createApp(d.deps);
  return { ...d, app, staff: await signIn(app) };
}

const local = (iso: string) => isoToUkLocal(iso)!;

/** A complete, valid form for one session, as a browser would post it. */
function formBody(overrides: Record<string, string> = {}): Record<string, string> {
  const start = local(fromNow(3 * DAY));
  return {
    'therapist-id': 'T1042',
    'therapist-name': 'Alex Morgan',
    'therapist-email': 'alex.morgan@example.org',
    reason: 'illness',
    'expected-return': '',
    'session-0-id': 'S-1',
    'session-0-start-date': start.date,
    'session-0-start-time': start.time,
    'session-0-client-ref': 'C-77',
    'session-0-first-name': 'Sam',
    'session-0-contact': 'email',
    'session-0-email': 'sam@example.org',
    'session-0-phone': '',
    'session-0-rebook': 'slots',
    'session-0-slot-0': local(fromNow(5 * DAY)).dateTime,
    'session-0-slot-1': '',
    'session-0-slot-2': '',
    'session-0-callback': '',
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

    for (const id of ['therapist-id', 'therapist-name', 'therapist-email', 'session-0-id', 'session-0-start-date', 'session-0-first-name', 'session-0-email', 'session-0-phone', 'session-0-slot-0', 'session-0-callback', 'session-0-risk-note']) {
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
    expect(summary).toContain('Enter a phone number: the client prefers sms');

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
    const past = local(fromNow(-DAY));

    const res = await staff.post('/cancellations', formBody({ 'session-0-start-date': past.date, 'session-0-start-time': past.time }))
      .expect(422);

    expect(res.text).toContain('<a href="#session-0-start-date">');
    expect(res.text).toContain('The session must be in the future');
    expect(cases.submit).not.toHaveBeenCalled();
  });

  it('when a slot is before the session, then the error points at that slot input', async () => {
    const { staff } = await setup();

    const res = await staff.post('/cancellations', formBody({ 'session-0-slot-0': '', 'session-0-slot-2': local(fromNow(2 * DAY)).dateTime }))
      .expect(422);

    expect(res.text).toContain('<a href="#session-0-slot-2">');
    expect(res.text).toContain('A new slot must be after the cancelled session');
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
    const second = local(fromNow(4 * DAY));
    const body = formBody({
      'session-1-id': 'S-2',
      'session-1-start-date': second.date,
      'session-1-start-time': second.time,
      'session-1-client-ref': 'C-78',
      'session-1-first-name': 'Priya',
      'session-1-contact': 'phone',
      'session-1-phone': '07700 900123',
      'session-1-rebook': 'callback',
      'session-1-callback': local(fromNow(2 * DAY)).dateTime,
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
      'session-0-start-date': `${y}-07-01`,
      'session-0-start-time': '10:00',
      'session-0-slot-0': `${y}-12-01T10:00`,
      'expected-return': `${y}-07-08`,
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

    const res = await staff.post('/cancellations', formBody({ 'session-0-start-date': `${y}-03-${lastSundayOfMarch}`, 'session-0-start-time': '01:30' }))
      .expect(422);

    expect(res.text).toContain('the clocks go forward');
    expect(cases.submit).not.toHaveBeenCalled();
  });
});
