import request from 'supertest';
import { createApp } from '../../src/web/app';
import { LinkSealer } from '../../src/links';
import { formatUk } from '../../src/shared/time';
import type { CaseView } from '../../src/shared/case';
import { CsrfTokens, linkBinding } from '../../src/web/security/csrf';
import { caseView, CASE_ID, DAY, makeDeps } from './fakes';

function setup(view: Partial<CaseView> = {}) {
  const d = makeDeps();
  d.cases.add(caseView(view));
  const token = d.links.seal(CASE_ID, 'choose', 14 * DAY);
  // The token the page's forms carry (bound to the link), as a browser that loaded the page has it.
  const csrf = new CsrfTokens(d.config.auth.sessionKeys).issue(linkBinding(token));
  return { ...d, token, csrf, app: createApp(d.deps) };
}

function expectCrisisSignposting(html: string) {
  expect(html).toContain('Samaritans: call 116 123');
  expect(html).toContain('NHS 111, option 2');
  expect(html).toContain('Call 999 or go to A&amp;E');
}

function expectPrivateHeaders(res: request.Response) {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

const UPDATE_ID = '5d1e3c2b-9f8a-4b7c-a6d5-e4f3a2b1c0d9';

describe("the client's page", () => {
  it('when the link is valid, then it offers the slots, a call back and "cannot wait", with the first name only', async () => {
    const { app, token, cases, csrf } = setup();
    const view = cases.views.get(CASE_ID)!;

    const res = await request(app).get(`/c/${token}`).expect(200);

    expectPrivateHeaders(res);
    expect(res.text).toContain('Hello Sam.');
    for (const slot of view.offeredSlots) {
      expect(res.text).toMatch(new RegExp(`type="radio" value="${slot}"`));
      expect(res.text).toContain(formatUk(slot));
    }
    expect(res.text).toContain('None of these times suit me, please call me');
    expect(res.text).toContain('I don&#39;t feel able to wait');
    expectCrisisSignposting(res.text);
    expect(res.text).toContain('0333 222 0710');
    expect(res.text).not.toContain('Alex Morgan');
    expect(res.text).not.toContain('T1042');
    expect(res.text).not.toContain(CASE_ID);
    // Both forms carry the link-bound CSRF token.
    expect([...res.text.matchAll(/name="_csrf" value="([^"]+)"/g)].map((m) => m[1])).toEqual([csrf, csrf]);
  });

  it('when the client chooses a slot, then the choice is made once and confirmed', async () => {
    const { app, token, cases, csrf } = setup();
    const slot = cases.views.get(CASE_ID)!.offeredSlots[1]!;

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: slot, updateId: UPDATE_ID }).expect(200);

    expectPrivateHeaders(res);
    expect(cases.updates).toEqual([{ caseId: CASE_ID, update: 'chooseSlot', args: [{ slot }], updateId: UPDATE_ID }]);
    expect(res.text).toContain('Your new appointment is booked');
    expect(res.text).toContain(formatUk(slot));
    expectCrisisSignposting(res.text);
  });

  it('when none of the times suit, then a call is requested', async () => {
    const { app, token, cases, csrf } = setup();

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: 'call' }).expect(200);

    expect(cases.updates.map((u) => [u.update, u.args])).toEqual([['requestCall', []]]);
    expect(res.text).toContain('We will call you');
  });

  it('when the client cannot wait, then it is reported as from the client', async () => {
    const { app, token, cases, csrf } = setup();

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: 'cannot-wait' }).expect(200);

    expect(cases.updates.map((u) => [u.update, u.args])).toEqual([['reportUnhappy', [{ by: 'client', source: 'client', cannotWait: true }]]]);
    expect(res.text).toContain('Thank you for telling us');
    expectCrisisSignposting(res.text);
  });

  it('when the posted time was not offered, then nothing is booked and the client is asked to choose', async () => {
    const { app, token, cases, csrf } = setup();

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: '2099-01-01T09:00:00.000Z' }).expect(422);

    expect(cases.updates).toHaveLength(0);
    expect(res.text).toContain('Choose a new time, or tell us none of these times suit you');
    expect(res.text).toContain('<a href="#choice">');
  });

  it('when the slot has just been taken, then the workflow reason is shown and the times are offered again', async () => {
    const { app, token, cases, csrf } = setup();
    cases.refuseWith = 'That time has just been taken; please choose another';
    const slot = cases.views.get(CASE_ID)!.offeredSlots[0]!;

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: slot }).expect(409);

    expect(res.text).toContain('That time has just been taken; please choose another');
    expect(res.text).toContain('name="choice"');
  });

  it('when the workflow refuses for a reason meant for staff, then the client gets plain words and the phone number', async () => {
    const { app, token, cases, csrf } = setup();
    cases.refuseWith = 'This case is not waiting for a choice';

    const res = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: 'call' }).expect(409);

    expect(res.text).not.toContain('This case is not waiting');
    expect(res.text).toContain('We could not record that choice');
    expect(res.text).toContain('0333 222 0710');
  });

  it('when the new appointment is already booked, then the page says so calmly and offers no choice', async () => {
    const booked = caseView().offeredSlots[0]!;
    const { app, token, cases, csrf } = setup({ stage: 'awaiting-documentation', bookedSlot: booked });

    const page = await request(app).get(`/c/${token}`).expect(200);
    const again = await request(app).post(`/c/${token}`).type('form').send({ _csrf: csrf, choice: 'call' }).expect(200);

    for (const res of [page, again]) {
      expect(res.text).toContain(`Your new appointment is already booked for <strong>${formatUk(booked)}</strong>`);
      expect(res.text).not.toContain('name="choice" type="radio"');
      expect(res.text).toContain('0333 222 0710');
      expectCrisisSignposting(res.text);
    }
    expect(cases.updates).toHaveLength(0);
  });

  it('when the case is closed, then the page explains the link is no longer in use', async () => {
    const { app, token } = setup({ stage: 'closed', closed: { by: 'LEAD7', reason: 'other', at: new Date().toISOString() } });

    const res = await request(app).get(`/c/${token}`).expect(200);

    expect(res.text).toContain('This link is no longer in use');
    expect(res.text).not.toContain('LEAD7');
  });

  it('when the therapist is to call back, then the page says by when, and still offers "cannot wait"', async () => {
    const callbackBy = caseView().offeredSlots[0]!;
    const { app, token } = setup({ stage: 'awaiting-callback', offeredSlots: [], callbackBy });

    const res = await request(app).get(`/c/${token}`).expect(200);

    expect(res.text).toContain(`Your therapist will call you by <strong>${formatUk(callbackBy)}</strong>`);
    expect(res.text).toContain('I don&#39;t feel able to wait');
  });

  describe('when the link is not usable', () => {
    const cases: [string, (valid: string, links: LinkSealer) => string, number, string][] = [
      ['tampered with', (valid) => valid.slice(0, -4) + (valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'), 404, 'This link does not work'],
      ['expired', () => new LinkSealer(makeDeps().config.linkKeys, () => Date.now() - 30 * DAY).seal(CASE_ID, 'choose', DAY), 410, 'This link has expired'],
      ['garbage', () => 'not-a-token', 404, 'This link does not work'],
      ['far too long', () => 'x'.repeat(5000), 404, 'This link does not work'],
      ['for a case that does not exist', (_v, links) => links.seal('c99999999999999999999', 'choose', DAY), 404, 'This link does not work'],
    ];

    it.each(cases)('(%s), then a calm page gives the support number and crisis signposting, and no trace', async (_name, make, status, heading) => {
      const { app, token, links } = setup();

      for (const res of [await request(app).get(`/c/${make(token, links)}`), await request(app).post(`/c/${make(token, links)}`).type('form').send({ choice: 'call' })]) {
        expect(res.status).toBe(status);
        expect(res.text).toContain(heading);
        expect(res.text).toContain('0333 222 0710');
        expectCrisisSignposting(res.text);
        expect(res.text).not.toMatch(/Error:|at .*\.(ts|js):\d+|tampered|malformed/);
        expectPrivateHeaders(res);
      }
    });
  });

  it('when reading the case fails, then the client still gets a calm page with crisis signposting', async () => {
    const { app, token, cases } = setup();
    cases.view.mockRejectedValueOnce(new Error('14 UNAVAILABLE'));

    const res = await request(app).get(`/c/${token}`).expect(500);

    expect(res.text).toContain('Sorry, there is a problem');
    expectCrisisSignposting(res.text);
    expectPrivateHeaders(res);
  });
});
