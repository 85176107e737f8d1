/**
 * Issue 15, item 5: the cancellation form in Chromium (en-GB and en-US browsers alike), against
 * the app and a fake case service: the NHS.UK date input and a 24-hour time read as UK local
 * time whatever the browser's locale, phone numbers typed as the hint shows them, errors in
 * plain words, a lead addressed about "the therapist", and a GET after sending that lands on the
 * case list. Screenshots at 390 and 1280 px; axe on every page.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/main';
import { isoToParts } from '../../src/web/uk-time';
import { launchChromium, watchProblems } from '../helpers/browser';
import { checkPage } from '../helpers/pages';
import { signIn, type StaffIdentity } from '../e2e/sign-in';
import { caseView, DAY, fromNow, makeDeps, type Deps } from './fakes';

let browser: Browser;
let server: WebServer;
let d: Deps;

beforeAll(async () => {
  d = makeDeps();
  server = await startWebServer(d.deps, 0, '127.0.0.1');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const base = () => `http://127.0.0.1:${server.port}`;

async function person(
  as: StaffIdentity,
  locale = 'en-GB',
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  // bypassCSP only so axe can be injected; the CSP itself is checked in browser.test.ts.
  const context = await browser.newContext({
    bypassCSP: true,
    locale,
    timezoneId: locale === 'en-US' ? 'America/New_York' : 'Europe/London',
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  // A load cut short because the page moved on (the favicon, typically) is not a fault.
  const problems = watchProblems(page, (why) => why === 'net::ERR_ABORTED');
  await signIn(page, base(), as);
  await page.goto(`${base()}/cancellations/new`);
  return { context, page, problems };
}

/** Types a date and time into an NHS.UK date input the way a person might: a month name, "2:30pm". */
async function typeDate(page: Page, group: string, boxes: { day: string; month: string; year: string; time?: string }) {
  const g = page.getByRole('group', { name: group, exact: true });
  await g.getByLabel('Day', { exact: true }).fill(boxes.day);
  await g.getByLabel('Month', { exact: true }).fill(boxes.month);
  await g.getByLabel('Year', { exact: true }).fill(boxes.year);
  if (boxes.time !== undefined) await g.getByLabel('Time', { exact: true }).fill(boxes.time);
}

describe('U8 the form asks for dates and times the UK way', () => {
  let context: BrowserContext | undefined;
  afterEach(async () => context?.close());

  it('U8 when a therapist whose browser speaks US English fills in the form, then the date input and the 24-hour time are read as UK time, the phone number as typed, and the errors are in plain words', async () => {
    const p = await person(
      { role: 'therapist', ref: 'T1042', name: 'Alex Morgan', email: 'alex.morgan@example.org' },
      'en-US',
    );
    context = p.context;
    const { page } = p;
    // No browser date or time pickers: their order and clock follow the browser's locale.
    expect(await page.locator('input[type="date"], input[type="time"], input[type="datetime-local"]').count()).toBe(0);
    await checkPage(page, 'u8-form');

    await page.getByLabel('Illness').check({ force: true });
    await page.getByLabel('Session reference').fill('S-1');
    const start = isoToParts(fromNow(3 * DAY));
    await typeDate(page, 'When was the session due to start?', {
      day: start.day,
      month: '13',
      year: start.year,
      time: '25:00',
    });
    await page.getByLabel('Client reference').fill('C-77');
    await page.getByLabel("Client's first name").fill('Sam');
    await page.getByLabel('Text message').check({ force: true });
    await page.getByLabel("Client's phone number").fill('12345');
    await page.getByLabel('Offer new times for the client to choose from').check({ force: true });
    await page.getByRole('button', { name: 'Send cancellations' }).click();
    await page.locator('.nhsuk-error-summary').waitFor();
    const summary = await page.locator('.nhsuk-error-summary').innerText();
    expect(summary).toContain('The date and time the session was due to start must be a real date and time');
    expect(summary).toContain('Enter a phone number like 07700 900123, or an international number starting with +');
    expect(summary).toContain('Enter at least one new time to offer');
    expect(summary).not.toMatch(/\bslot\b|\+447700900123|ISO|T10:00/);
    await checkPage(page, 'u8-form-errors');

    const monthName = new Date(fromNow(3 * DAY)).toLocaleString('en-GB', { month: 'long', timeZone: 'Europe/London' });
    await typeDate(page, 'When was the session due to start?', {
      day: start.day,
      month: monthName,
      year: start.year,
      time: '2:30pm',
    });
    await page.getByLabel("Client's phone number").fill('07700 900123');
    const slot = isoToParts(fromNow(5 * DAY));
    await typeDate(page, 'New time 1', { day: slot.day, month: slot.month, year: slot.year, time: '09.30' });
    await page.getByRole('button', { name: 'Send cancellations' }).click();
    await page.getByRole('heading', { name: 'Your cancellation has been sent' }).waitFor();
    await checkPage(page, 'u8-confirmation');

    const sent = d.cases.submitted.at(-1)!.sessions[0]!;
    expect(sent.client.phone).toBe('+447700900123');
    const ukStart = isoToParts(sent.startsAt);
    expect([ukStart.day, ukStart.month, ukStart.year, ukStart.time]).toEqual([
      start.day,
      start.month,
      start.year,
      '14:30',
    ]);
    expect(isoToParts((sent.rebook as { slots: string[] }).slots[0]!).time).toBe('09:30');

    // A GET after the POST (a reload from the address bar, a bookmark): the case list, not an error.
    d.cases.add(caseView({ caseId: 'c00000000000000000000' }));
    await page.goto(page.url());
    await page.getByRole('heading', { level: 1, name: 'Your cases' }).waitFor();
    expect(await page.locator('main').innerText()).toContain('Sam');
    expect(p.problems).toEqual([]);
  });

  it('U8 when a clinical lead opens the form, then it speaks of "the therapist", and on a phone the date boxes fit the screen', async () => {
    const p = await person({ role: 'lead', ref: 'LEAD7', name: 'Jo Patel' });
    context = p.context;
    const { page } = p;
    const text = await page.locator('main').innerText();
    expect(text).toContain('Why is the therapist cancelling?');
    expect(text).toContain('The therapist will call the client back to agree a time');
    expect(text).not.toMatch(/\bWhy are you cancelling\b|\bI will call\b|\bYou get an email\b/);
    await page.setViewportSize({ width: 390, height: 844 });
    const widths = (await page.evaluate(
      `[...document.querySelectorAll('.nhsuk-date-input')].map((el) => [el.scrollWidth, el.clientWidth])`,
    )) as [number, number][];
    expect(widths.every(([scroll, client]) => scroll <= client)).toBe(true);
    await checkPage(page, 'u8-form-lead');
    expect(p.problems).toEqual([]);
  });
});
