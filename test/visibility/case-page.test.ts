/**
 * Issue 15, items 3 and 6, on the real stack in Chromium: a therapist's unanswered calls are
 * attempts on their duty, each with its note; the call handed on reaches support with the
 * voicemail rule; support acknowledges with a note; a lead closes the case with a note and a
 * records waiver. Every entry on the timeline reads as plain English with the staff member's
 * name, the closed case says what was settled and what was waived, and the other session of the
 * same absence is named by client first name and time.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatUk } from '../../src/shared/time';
import { launchChromium, watchProblems } from '../helpers/browser';
import { checkPage } from '../helpers/pages';
import { signIn, type StaffIdentity } from '../e2e/sign-in';
import { startStack, type Stack } from './stack';

let stack: Stack;
let browser: Browser;
let sam: string;
let priya: string;

beforeAll(async () => {
  stack = await startStack();
  const ids = await stack.submitMany([
    { client: { firstName: 'Sam', email: 'sam@example.org', phone: '+447700900123' } },
    { client: { firstName: 'Priya', email: 'priya@example.org', phone: '+447700900456' }, contact: 'phone' },
  ]);
  [sam, priya] = [ids[0]!, ids[1]!];
  await stack.until(sam, (v) => v.stage === 'awaiting-choice', 'times offered to Sam');
  await stack.until(priya, (v) => v.stage === 'awaiting-phone-outcome', 'the call task for Priya');
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

interface Person {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

async function person(as: StaffIdentity): Promise<Person> {
  const context = await browser.newContext({
    bypassCSP: true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems = watchProblems(page, (why) => why === 'net::ERR_ABORTED');
  await signIn(page, stack.baseUrl, as);
  return { context, page, problems };
}

const caseUrl = (id: string) => `${stack.baseUrl}/cancellations/${id}`;

async function openAction(page: Page, summary: string) {
  const details = page.locator('details', { hasText: summary });
  await details.locator('summary').click();
  return details;
}

const timeline = (page: Page) => page.locator('.app-timeline tbody tr').allInnerTexts();

describe('U5 notes are kept and the timeline reads as plain English', () => {
  it('U5 when the therapist records two unanswered calls with notes, then each is an attempt on their duty, the first hands nothing on, and each note is on the timeline with their name', async () => {
    const t = await person({ role: 'therapist', ref: 'T-1001', name: 'Alex Morgan' });
    try {
      const { page } = t;
      await page.goto(caseUrl(priya));
      let form = await openAction(page, 'Record a phone call with Priya');
      await form.getByLabel('No', { exact: true }).check();
      await form.getByLabel('Note (optional)').fill('Rang twice, no answer');
      await form.getByRole('button', { name: 'Record the call' }).click();
      await page.getByText('Phone outcome recorded.').waitFor();
      const phoneDuty = page.locator('#duties + table tbody tr', { hasText: 'Phone the client' });
      await expect(phoneDuty.innerText()).resolves.toMatch(
        /Phone the client[^\n(]*\(do not leave a voicemail\)[\s\S]*Alex Morgan \(therapist\)[\s\S]*1 call without reaching the client/,
      );
      expect((await timeline(page))[0]).toMatch(
        /Phone call: did not reach the client\s+By Alex Morgan \(T-1001\)\s+“Rang twice, no answer”/,
      );

      form = await openAction(page, 'Record a phone call with Priya');
      await form.getByLabel('No', { exact: true }).check();
      await form.getByLabel('Note (optional)').fill('Busy again; handing to support');
      await form.getByLabel(/hand the call on now/).check();
      await form.getByRole('button', { name: 'Record the call' }).click();
      await page.getByText('Phone outcome recorded.').waitFor();
      const waiting = await page.locator('#duties + table tbody').innerText();
      expect(waiting).toMatch(
        /Phone the client to tell them of the cancellation and agree a new time \(do not leave a voicemail\)[\s\S]*the support team/,
      );
      await checkPage(page, 'u5-phone-attempts');
      expect(t.problems).toEqual([]);
    } finally {
      await t.context.close();
    }
  });

  it('U5 when support acknowledges with a note and a lead closes the case with a note and a records waiver, then the timeline shows both notes with names, in plain English', async () => {
    const s = await person({ role: 'escalation-team', team: 'Support', ref: 'SUP3', name: 'Kit Evans' });
    try {
      await s.page.goto(caseUrl(priya));
      const ack = s.page.locator('#action-acknowledge');
      await ack.getByLabel(/the support team/).check();
      await ack.getByLabel('What you are doing about it (optional)').fill('Will ring at 2pm');
      await ack.getByRole('button', { name: 'Acknowledge' }).click();
      await s.page.getByText('Escalation acknowledged.').waitFor();
      expect(s.problems).toEqual([]);
    } finally {
      await s.context.close();
    }

    const l = await person({ role: 'lead', ref: 'LEAD7', name: 'Jo Patel' });
    try {
      const { page } = l;
      await page.goto(caseUrl(priya));
      const close = await openAction(page, 'Close the case');
      await close.getByLabel('The client withdrew from therapy').check();
      await close.getByLabel('Note (optional)').fill('Priya phoned the service to withdraw');
      await close
        .getByLabel('Why the missing MPB records will not be added')
        .fill('Withdrew before any record was made');
      await close.getByRole('button', { name: 'Close the case' }).click();
      await page.getByText('Case closed.').waitFor();

      const rows = await timeline(page);
      const all = rows.join('\n');
      expect(rows[0]).toMatch(
        /Closed: the client withdrew from therapy\s+By Jo Patel \(LEAD7\)\s+“Priya phoned the service to withdraw”/,
      );
      expect(all).toMatch(/Escalation to support acknowledged\s+By Kit Evans \(SUP3\)\s+“Will ring at 2pm”/);
      expect(all).toMatch(/“Busy again; handing to support”/);
      expect(all).toMatch(/To Alex Morgan by email: call task for the cancellation/);
      // Plain English: no codes (client-withdrew, awaiting-phone-outcome, permanent-failure ...).
      const codes = rows.flatMap((r) => r.match(/\b[a-z]+(?:-[a-z]+)+\b/g) ?? []).filter((w) => w !== 'follow-up');
      expect(codes).toEqual([]);
      expect(l.problems).toEqual([]);
      await checkPage(page, 'u5-closed-timeline');
    } finally {
      await l.context.close();
    }
  });
});

describe('U6 the case page names sessions and people, and a closed case says what was settled', () => {
  it('U6 when a lead opens the closed case, then it says who closed it and why, what was settled and what was waived, and offers no times or actions', async () => {
    const l = await person({ role: 'lead', ref: 'LEAD7', name: 'Jo Patel' });
    try {
      const { page } = l;
      await page.goto(caseUrl(priya));
      const closed = await page.locator('#closed').innerText();
      expect(closed).toMatch(/Closed by\s+Jo Patel \(LEAD7\), \w{3} \d{1,2} \w{3} \d{2}:\d{2}/);
      expect(closed).toMatch(/Why\s+The client withdrew from therapy/);
      expect(closed).toMatch(/Note\s+Priya phoned the service to withdraw/);
      expect(closed).toMatch(/Records not added, because\s+Withdrew before any record was made/);
      const settled = await page.locator('.app-settled').innerText();
      expect(settled).toMatch(
        /Add the cancellation to MPB[\s\S]*Waived[\s\S]*by Jo Patel \(LEAD7\)[\s\S]*Withdrew before any record was made/,
      );
      expect(settled).toMatch(/Phone the client[^\n(]*\(do not leave a voicemail\)\s+Handed on/);
      const records = await page.locator('.app-checklist').innerText();
      expect(records).not.toContain('To do');
      expect(records).toMatch(/Waived\s+Attendance marked/);
      expect(await page.locator('.nhsuk-summary-list__row', { hasText: 'Times offered' }).count()).toBe(0);
      expect(await page.locator('form[action*="/actions/"]').count()).toBe(0);
      await checkPage(page, 'u6-closed-case');
      expect(l.problems).toEqual([]);
    } finally {
      await l.context.close();
    }
  });

  it('U6 when the therapist opens the other session of the absence, then each names the other by client first name and time', async () => {
    const t = await person({ role: 'therapist', ref: 'T-1001', name: 'Alex Morgan' });
    try {
      const { page } = t;
      await page.goto(caseUrl(sam));
      const priyaView = await stack.view(priya);
      const other = page.locator('.app-siblings a');
      await expect(other.allInnerTexts()).resolves.toEqual([`Priya, ${formatUk(priyaView.sessionStartsAt)}`]);
      await checkPage(page, 'u6-siblings');
      await other.click();
      await page.getByRole('heading', { level: 1, name: 'Case for Priya' }).waitFor();
      const back = page.locator('.app-siblings a');
      await expect(back.allInnerTexts()).resolves.toEqual([
        `Sam, ${formatUk((await stack.view(sam)).sessionStartsAt)}`,
      ]);
      expect(t.problems).toEqual([]);
    } finally {
      await t.context.close();
    }
  });
});
