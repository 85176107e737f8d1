import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import request from 'supertest';
import { createApp } from '../../src/web/app';
import { createLogger } from '../../src/log';
import { createAudit, type AuditEntry } from '../../src/audit';
import { formatUk } from '../../src/shared/time';
import { isoToUkLocal } from '../../src/web/uk-time';
import { caseView, escalation, CASE_ID, DAY, ESCALATION, fromNow, HOUR, LEAD, makeDeps, signIn, THERAPIST, type StaffLogin } from './fakes';
import type { CaseView } from '../../src/shared/case';

/** The app with one case (therapist T1042), and `who` signed in (the case's therapist by default). */
async function setup(view: Partial<CaseView> = {}, who: StaffLogin = THERAPIST) {
  const d = makeDeps();
  d.cases.add(caseView(view));
  const app = createApp(d.deps);
  return { ...d, app, staff: await signIn(app, who) };
}

const UPDATE_ID = '0f8c2b9e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const actionUrl = (name: string) => `/cancellations/${CASE_ID}/actions/${name}`;

describe('the staff case page', () => {
  it('when a case waits for the client, then it says so in one sentence with their first name and the deadline', async () => {
    const deadline = fromNow(2 * DAY);
    const { staff } = await setup({ nextDeadline: deadline });

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    expect(res.text).toContain(`Waiting for Sam to choose a slot until ${formatUk(deadline)}.`);
  });

  it('when a case is open, then it shows the timeline, open duties, records checklist and a form for each action the therapist may take', async () => {
    const { staff } = await setup();

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    expect(res.text).toContain('To Sam by email: cancellation with 2 slots to choose from');
    expect(res.text).toContain('Choose one of the offered times');
    expect(res.text).toContain('Sam (client)');
    expect(res.text).toContain('Attendance marked');
    expect(res.text).toContain('Clinical note');
    for (const name of ['phone-outcome', 'rebooking', 'absence', 'confirm-record', 'records-unavailable', 'risk', 'unhappy']) {
      expect(res.text).toContain(`action="${actionUrl(name)}"`);
    }
    // Who acts is the signed-in member of staff, never a field.
    expect(res.text).not.toMatch(/name="by"/);
    expect(res.text).toContain('Recorded as Alex Morgan (T1042).');
    // Closing and acknowledging are for clinical leads.
    expect(res.text).not.toContain(`action="${actionUrl('close')}"`);
    expect(res.text).not.toContain(`action="${actionUrl('acknowledge')}"`);
    const ids = [...res.text.matchAll(/name="updateId" value="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBe(7);
    expect(new Set(ids).size).toBe(7);
  });

  it('when a clinical lead opens the case, then the close form is offered too', async () => {
    const { staff } = await setup({}, LEAD);

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    expect(res.text).toContain(`action="${actionUrl('close')}"`);
    expect(res.text).toContain('Recorded as Jo Patel (LEAD7).');
    expect([...res.text.matchAll(/name="updateId" value="([^"]+)"/g)]).toHaveLength(8);
  });

  it('when escalations wait for acknowledgement, then the sentence says so and the acknowledge form is shown', async () => {
    const { staff } = await setup({ escalations: [escalation()] }, LEAD);

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    expect(res.text).toContain('An escalation is waiting for acknowledgement.');
    expect(res.text).toContain('the clinical network team');
    expect(res.text).toContain(`action="${actionUrl('acknowledge')}"`);
  });

  it('when the case is closed, then it says who closed it and offers no actions', async () => {
    const { staff } = await setup({ stage: 'closed', duties: [], nextDeadline: undefined, closed: { by: 'LEAD7', reason: 'discharged', at: fromNow(-HOUR) } });

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    expect(res.text).toContain('Closed by LEAD7');
    expect(res.text).toContain('the client was discharged');
    expect(res.text).not.toContain('/actions/');
  });

  it('when the case does not exist, then it shows a 404 page', async () => {
    const { staff } = await setup();
    const res = await staff.get('/cancellations/c99999999999999999999').expect(404);
    expect(res.text).toContain('Case not found');
  });

  const newTime = fromNow(5 * DAY);
  const newTimeLocal = isoToUkLocal(newTime)!.dateTime;
  // A posted `by` is ignored: the update records whoever is signed in.
  const actions: [string, StaffLogin, Record<string, string>, string, unknown[]][] = [
    ['phone-outcome', THERAPIST, { reached: 'yes', 'new-time': newTimeLocal, note: 'Agreed' }, 'recordPhoneOutcome', [{ by: 'T1042', name: 'Alex Morgan', role: 'therapist', reached: true, rebookedSlot: newTime, note: 'Agreed' }]],
    ['phone-outcome', THERAPIST, { reached: 'no' }, 'recordPhoneOutcome', [{ by: 'T1042', name: 'Alex Morgan', role: 'therapist', reached: false }]],
    ['phone-outcome', THERAPIST, { reached: 'no', 'hand-over': 'yes', note: 'rang twice' }, 'recordPhoneOutcome', [{ by: 'T1042', name: 'Alex Morgan', role: 'therapist', reached: false, note: 'rang twice', handOver: true }]],
    ['rebooking', THERAPIST, { slot: newTimeLocal }, 'recordRebooking', [{ by: 'T1042', name: 'Alex Morgan', role: 'therapist', slot: newTime }]],
    ['absence', THERAPIST, { 'expected-return': '2099-01-31' }, 'reportExpectedReturn', [{ by: 'T1042', name: 'Alex Morgan', expectedReturn: '2099-01-31' }]],
    ['back', THERAPIST, {}, 'reportBack', [{ by: 'T1042', name: 'Alex Morgan' }]],
    ['cover', LEAD, { 'cover-ref': 'T2001', 'cover-name': 'Robin Lee', 'cover-email': 'Robin.Lee@example.org' }, 'assignCover', [{ by: 'LEAD7', cover: { ref: 'T2001', name: 'Robin Lee', email: 'robin.lee@example.org' } }]],
    ['cover', LEAD, { 'cover-clear': 'yes' }, 'assignCover', [{ by: 'LEAD7' }]],
    ['confirm-record', THERAPIST, { record: 'clinicalNote' }, 'confirmRecord', [{ by: 'T1042', name: 'Alex Morgan', role: 'therapist', record: 'clinicalNote' }]],
    ['records-unavailable', THERAPIST, {}, 'reportRecordsUnavailable', [{ by: 'T1042', name: 'Alex Morgan', role: 'therapist' }]],
    ['risk', THERAPIST, { by: 'SOMEONE-ELSE' }, 'raiseRisk', [{ by: 'T1042', name: 'Alex Morgan', source: 'therapist' }]],
    ['risk', LEAD, { note: 'Spoke to the client' }, 'raiseRisk', [{ by: 'LEAD7', name: 'Jo Patel', source: 'clinical-lead', note: 'Spoke to the client' }]],
    ['unhappy', THERAPIST, { kind: 'cannot-wait' }, 'reportUnhappy', [{ by: 'T1042', source: 'therapist', cannotWait: true }]],
    ['acknowledge', LEAD, { escalation: 'esc-1', note: 'In hand' }, 'acknowledgeEscalation', [{ by: 'LEAD7', name: 'Jo Patel', role: 'clinical-lead', escalationId: 'esc-1', note: 'In hand' }]],
    ['close', LEAD, { by: 'T1042', reason: 'handed-over', note: 'To the Leeds team' }, 'closeCase', [{ by: 'LEAD7', name: 'Jo Patel', role: 'clinical-lead', reason: 'handed-over', note: 'To the Leeds team' }]],
  ];

  it.each(actions)('when the %s form is sent, then it runs the matching update as the signed-in member of staff, with the form update id, and redirects to the page', async (name, who, fields, update, args) => {
    const { staff, cases } = await setup({}, who);

    const res = await staff.post(actionUrl(name), { ...fields, updateId: UPDATE_ID }).expect(303);

    expect(res.headers.location).toBe(`/cancellations/${CASE_ID}?done=${name}`);
    expect(cases.updates).toHaveLength(1);
    const call = cases.updates[0]!;
    expect(call).toMatchObject({ caseId: CASE_ID, update: update, updateId: UPDATE_ID });
    expect(JSON.parse(JSON.stringify(call.args))).toEqual(args);
  });

  it('when the same form is sent twice (a double click), then both carry the same update id, so Temporal applies it once', async () => {
    const { staff, cases } = await setup();
    const body = { updateId: UPDATE_ID };

    await staff.post(actionUrl('risk'), body).expect(303);
    await staff.post(actionUrl('risk'), body).expect(303);

    expect(cases.updates.map((u) => u.updateId)).toEqual([UPDATE_ID, UPDATE_ID]);
  });

  it('when an action went through, then the page confirms it', async () => {
    const { staff } = await setup();
    const res = await staff.get(`/cancellations/${CASE_ID}?done=risk`).expect(200);
    expect(res.text).toContain('Risk concern raised. An alert is on its way to risk duty');
  });

  it('when a field is missing, then the page comes back with the error beside the field and nothing is changed', async () => {
    const { staff, cases } = await setup({}, LEAD);

    const res = await staff.post(actionUrl('close'), { reason: '', note: 'Kept note' }).expect(422);

    expect(res.text).toContain('<a href="#close-reason">');
    expect(res.text).toContain('Choose why you are closing the case');
    expect(res.text).toMatch(/<details[^>]*id="action-close"[^>]* open/);
    expect(res.text).toContain('Kept note');
    expect(cases.updates).toHaveLength(0);
  });

  it('when the workflow refuses an update, then the page shows its reason and nothing else changes', async () => {
    const { staff, cases } = await setup();
    cases.refuseWith = 'Record the rebooking before confirming the next session in MPB';

    const res = await staff.post(actionUrl('confirm-record'), { record: 'nextSession', updateId: UPDATE_ID }).expect(409);

    expect(res.text).toContain('This action was not taken');
    expect(res.text).toContain('Record the rebooking before confirming the next session in MPB');
    expect(res.text).toContain('href="#action-confirm-record"');
    expect(res.text).toContain('Waiting for Sam to choose a slot');
    expect(cases.updates).toHaveLength(0);
  });

  it('when the action is unknown, then it answers 404 and runs nothing', async () => {
    const { staff, cases } = await setup();
    await staff.post(actionUrl('delete-everything')).expect(404);
    expect(cases.updates).toHaveLength(0);
  });

  it('when reading the case fails, then a calm error page is shown without a stack trace', async () => {
    const { staff, cases } = await setup();
    cases.view.mockRejectedValueOnce(new Error('14 UNAVAILABLE: connection refused'));

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(500);

    expect(res.text).toContain('Sorry, there is a problem');
    expect(res.text).not.toMatch(/UNAVAILABLE|at .*\.ts:\d+/);
  });
});

describe("the case page's table of the absence's sessions", () => {
  it('A1 shows this case where it stands now, and another case what the absence knows of it: booked or not, open or finished', async () => {
    const booked = fromNow(9 * DAY);
    const other = 'c1123456789abcdefghij';
    const done = 'c2123456789abcdefghij';
    const session = (caseId: string, clientFirstName: string, days: number, stage: string, open: boolean, bookedSlot?: string) => ({
      caseId,
      clientFirstName,
      sessionStartsAt: fromNow(days * DAY),
      stage,
      open,
      ...(bookedSlot ? { bookedSlot } : {}),
    });
    const { staff } = await setup({
      stage: 'awaiting-choice',
      absence: {
        absenceId: 'a0123456789abcdefghij',
        therapistId: 'T1042',
        therapistName: 'Alex Morgan',
        openedAt: fromNow(-DAY),
        away: true,
        // The absence last heard from each case when it joined, booked or ended.
        sessions: [
          session(CASE_ID, 'Sam', 3, 'contacting', true),
          session(other, 'Kit', 4, 'contacting', true, booked),
          session(done, 'Ana', 5, 'completed', false, booked),
          session('c3123456789abcdefghij', 'Jo', 6, 'contacting', true),
        ],
        notices: [],
        duties: [],
      },
    });

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    const table = res.text.slice(res.text.indexOf('app-absence-sessions'), res.text.indexOf('</table>', res.text.indexOf('app-absence-sessions')));
    const cells = [...table.matchAll(/<td class="nhsuk-table__cell">([^<]*(?:<a [^>]*>[^<]*<\/a>)?[^<]*)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, '').trim());
    expect(cells.filter((_, i) => i % 3 === 2)).toEqual([
      'Waiting for the client&#39;s choice',
      `Rebooked for ${formatUk(booked)}; case open`,
      `Complete: rebooked for ${formatUk(booked)}`,
      'Open: not rebooked yet',
    ]);
    expect(table).not.toContain('Telling the client');
  });
});

describe("the therapist's risk note", () => {
  const NOTE = 'Said she "can\'t go on" <script>alert(1)</script>\nLives alone; GP is Dr Okafor';
  const ESCAPED = 'Said she &quot;can&#39;t go on&quot; &lt;script&gt;alert(1)&lt;/script&gt;\nLives alone; GP is Dr Okafor';

  it.each([
    ["the case's therapist", THERAPIST],
    ['a clinical lead', LEAD],
    ['the escalation team', ESCALATION],
  ])('when %s opens a case with a risk note, then it is in the risk panel as escaped text with its line break kept, and not in the timeline', async (_who, who) => {
    const { staff } = await setup({ risk: true, riskNote: NOTE }, who);

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    const panel = /<div class="nhsuk-warning-callout app-risk" id="risk">[\s\S]*?<\/div>/.exec(res.text)?.[0] ?? '';
    expect(panel).toContain(`<p class="app-risk__note">${ESCAPED}</p>`);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text.split('id="timeline"')[1]).not.toContain('Dr Okafor');
  });

  it('when the note is styled, then its line breaks are kept by CSS (white-space: pre-line), not by unescaped HTML', () => {
    const css = readFileSync(join(__dirname, '../../src/web/public/app.css'), 'utf8');
    expect(css).toMatch(/\.app-risk__note\s*\{[^}]*white-space:\s*pre-line/);
    const template = readFileSync(join(__dirname, '../../src/web/views/case.njk'), 'utf8');
    expect(template).toContain('{{ riskNote }}');
    expect(template).not.toMatch(/riskNote\s*\|\s*safe/);
  });

  it('when the risk was raised without a note, then the panel says there is none', async () => {
    const { staff } = await setup({ risk: true }, LEAD);
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(res.text).toContain('No note was left about the risk.');
    expect(res.text).not.toContain('app-risk__note');
  });

  it('when there is no risk concern or note, then there is no risk panel', async () => {
    const { staff } = await setup();
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(res.text).not.toContain('id="risk"');
  });

  it.each([
    ['waiting for a choice', {}],
    ['already rebooked', { bookedSlot: fromNow(5 * DAY) }],
  ])("when the client opens their link to the same case (%s), then the note is nowhere on their page", async (_stage, change) => {
    const d = makeDeps();
    d.cases.add(caseView({ risk: true, riskNote: NOTE, ...change }));
    const app = createApp(d.deps);
    const token = d.links.seal(CASE_ID, 'choose', 14 * DAY);

    const res = await request(app).get(`/c/${token}`).expect(200);

    expect(res.text).toContain('Sam');
    for (const part of ['Dr Okafor', 'Lives alone', 'alert(1)', "can't go on", 'can&#39;t go on']) expect(res.text).not.toContain(part);
  });
});

describe('staff who must phone a client can find the client (D3)', () => {
  const contactShown = (html: string) => html.includes('How to reach Sam') && html.includes('+447700900123') && html.includes('sam@example.org') && html.includes('C-2002');

  async function showsContactAndLogsTheRead(login: StaffLogin) {
    const lines: string[] = [];
    const entries: AuditEntry[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }) });
    const d = makeDeps();
    d.cases.add(caseView());
    const app = createApp({ ...d.deps, logger, audit: createAudit({ write: (e) => void entries.push(e) }) });
    const staff = await signIn(app, login);

    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);

    expect(contactShown(res.text)).toBe(true);
    expect(res.text).toContain('Do not leave a voicemail');
    // The read of the contact details is in the audit stream, under the reader's name.
    expect(entries).toContainEqual(expect.objectContaining({ caseId: CASE_ID, who: login.ref, role: login.role, via: 'page', what: 'client contact details' }));
    expect(lines.join('\n')).not.toMatch(/7700|sam@example|C-2002/);
  }

  it('D3 when the escalation team opens a case, then it shows the client reference, phone and email with the voicemail rule, and the read is logged without the details', async () => {
    await showsContactAndLogsTheRead(ESCALATION);
  });

  it('D3 when a clinical lead opens a case, then it shows the client reference, phone and email with the voicemail rule, and the read is logged without the details', async () => {
    await showsContactAndLogsTheRead(LEAD);
  });

  it('D3 when the client chose voicemail, then the page says a voicemail may be left', async () => {
    const { staff } = await setup({ preferredContact: 'voicemail' }, LEAD);
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(res.text).toContain('chose voicemail: you may leave a short message');
  });

  it('D3 when the therapist opens their own case, then the contact card is not shown', async () => {
    const { staff } = await setup({}, THERAPIST);
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(contactShown(res.text)).toBe(false);
  });
});

describe('the case page tells the truth about every escalation (D1)', () => {
  it('D1 when a risk alert could not be delivered and nobody acknowledged it, then the page says so and when it goes again, never that risk duty was alerted', async () => {
    const next = fromNow(HOUR);
    const { staff } = await setup(
      {
        risk: true,
        escalations: [escalation({ id: 'esc-3', team: 'risk', reason: 'A risk concern was recorded', delivery: 'failed', deliveryNote: 'ChannelRejected', alerts: 2, nextAlertAt: next })],
      },
      LEAD,
    );
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(res.text).toContain('Not delivered');
    expect(res.text).toContain('Not yet acknowledged.');
    expect(res.text).toContain(`copied in, at ${formatUk(next)}`);
    expect(res.text).not.toContain('Risk duty has been alerted');
  });

  it('D1 D2 when a risk alert was acknowledged, then the page names who did it and when', async () => {
    const at = fromNow(-HOUR);
    const { staff } = await setup({ risk: true, escalations: [escalation({ team: 'risk', delivery: 'delivered', acknowledgedAt: at, acknowledgedBy: 'R-9', acknowledgedNote: 'Called the client' })] }, LEAD);
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(res.text).toContain(`Acknowledged by R-9 at ${formatUk(at)}`);
    expect(res.text).toContain('Called the client');
  });

  it('issue 15 (U6): when a duty means reaching the client (a callback, a follow-up), then its row states the voicemail rule for this client', async () => {
    const callback = { id: 'ob-9', kind: 'callback' as const, what: 'Call the client back to rebook', owner: 'therapist' as const, deadline: fromNow(DAY), openedAt: fromNow(-HOUR), chases: 0, clientFacing: false, dischargedBy: 'whoever records a rebooking' };
    const { staff } = await setup({ stage: 'awaiting-callback', duties: [callback] });
    const res = await staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(res.text).toContain('Do not leave a voicemail: the client has not agreed to one.');
    const voicemail = await setup({ stage: 'awaiting-callback', preferredContact: 'voicemail', duties: [callback] });
    const allowed = await voicemail.staff.get(`/cancellations/${CASE_ID}`).expect(200);
    expect(allowed.text).toContain('A voicemail may be left (the client chose it): keep it short, with no clinical details.');
  });
});
