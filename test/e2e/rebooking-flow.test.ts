/**
 * End to end, with nothing faked: the Temporal dev server, the worker with the real activities
 * sending through a real SMTP server on loopback, the web app on a real port, and Debian's
 * chromium. A therapist cancels two sessions through the form; the email client books a new
 * time from the link in their email, on a phone-sized screen; the therapist sees the case move
 * on and confirms a record; the phone client's case waits for the therapist's call. Every page
 * is screenshotted at phone and desktop widths and checked with axe-core.
 *
 * The tests run in order and share the cases they create: each one picks up where the last
 * left off, as the people using the service would.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { CaseService } from '../../src/cases';
import { loadConfig } from '../../src/config';
import { LinkSealer } from '../../src/links';
import { formatWhen } from '../../src/mail/format';
import { formatUk } from '../../src/shared/time';
import { createApp } from '../../src/web/app';
import { isoToUkLocal, ukDateTimeToIso } from '../../src/web/uk-time';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink';
import { createDevServerEnv } from '../helpers/temporal';
import { launchChromium, watchProblems } from '../helpers/browser';
import { runRealWorker } from '../helpers/case-worker';
import { DAY } from '../workflows/harness';
import { signIn, type StaffIdentity } from './sign-in';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const AXE = require.resolve('axe-core/axe.min.js');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
// One unexplained failure in about fifteen full runs on 2 cores: a failing step is retried once,
// and its first error is printed so the cause shows in CI's log. A step that fails twice fails.
jest.retryTimes(1, { logErrorsBeforeRetry: true });

/** Two cores also run the Temporal server, the worker and chromium: be patient, never sleep blind. */
const PATIENCE_MS = 60_000;

const THERAPIST_EMAIL = 'alex.morgan@example.org';
/** The configuration's default support address: the e2e stack does not set SUPPORT_EMAIL. */
const SUPPORT_EMAIL = 'vita.support@vhg.co.uk';
const THERAPIST: StaffIdentity = { role: 'therapist', ref: 'T1042', name: 'Alex Morgan', email: THERAPIST_EMAIL };

let env: TestWorkflowEnvironment | undefined;
let smtp: SmtpSink | undefined;
let server: Server | undefined;
let stopWorker: (() => Promise<void>) | undefined;
let browser: Browser | undefined;
let baseUrl = '';

interface AxeSummary {
  /** The page's path; a client's token is replaced, as it is a key to their case. */
  path: string;
  violations: { id: string; impact: string | null; help: string; targets: string[] }[];
  passes: number;
  /** Rules axe could not decide (colour contrast over an image, say): for a person to look at. */
  incomplete: string[];
}
const axeSummary: Record<string, AxeSummary> = {};

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  env = await createDevServerEnv();
  smtp = await startSmtpSink();

  // The port comes first so that the links in emails can point at it.
  const http = createServer();
  server = http;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const config = loadConfig({ NODE_ENV: 'test', SMTP_URL: smtp.url, TEMPORAL_TASK_QUEUE: 'e2e-rebooking', PUBLIC_BASE_URL: baseUrl });
  stopWorker = await runRealWorker(env, config);
  const cases = new CaseService({
    client: env.client,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    recordsMode: config.records.mode,
    caseIdKey: config.caseIdKey,
  });
  http.on('request', createApp({ config, cases, links: new LinkSealer(config.linkKeys) }));
  http.keepAliveTimeout = 5_000;

  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  // Each step runs even if an earlier one fails, so nothing is left running.
  const steps: Array<() => Promise<unknown>> = [
    async () => browser?.close(),
    async () => {
      if (!server) return;
      const s = server;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async () => stopWorker?.(),
    async () => smtp?.close(),
    async () => env?.teardown(),
    async () => writeFile(path.join(ARTIFACTS, 'e2e-axe.json'), `${JSON.stringify(axeSummary, null, 2)}\n`),
  ];
  for (const step of steps) await step().catch((e: unknown) => console.error(`e2e teardown: ${e instanceof Error ? e.message : String(e)}`));
}, 120_000);

// ---- the people's browsers -----------------------------------------------------------------

interface Session {
  context: BrowserContext;
  page: Page;
  /** Script errors, console errors and failed assets: any of them fails the test. */
  problems: string[];
}

/**
 * A fresh browser context: nobody's cookies, UK locale and clock. CSP is bypassed only so that
 * axe can be injected; the CSP itself is checked against the app in test/web/browser.test.ts.
 */
async function openBrowser(options: BrowserContextOptions = {}): Promise<Session> {
  const context = await browser!.newContext({ bypassCSP: true, locale: 'en-GB', timezoneId: 'Europe/London', viewport: DESKTOP, ...options });
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(PATIENCE_MS);
  const page = await context.newPage();
  // A load cut short because the page moved on (the favicon, typically) is not a fault.
  const problems = watchProblems(page, (why) => why === 'net::ERR_ABORTED');
  return { context, page, problems };
}

async function staffBrowser(options: BrowserContextOptions = {}): Promise<Session> {
  const s = await openBrowser(options);
  await signIn(s.page, baseUrl, THERAPIST);
  return s;
}

const clientBrowser = (options: BrowserContextOptions = {}) => openBrowser({ viewport: PHONE, isMobile: true, hasTouch: true, ...options });

// ---- screenshots and axe -------------------------------------------------------------------

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

const redact = (url: string) => new URL(url).pathname.replace(/^\/c\/[^/]+/, '/c/<token>');

/** Runs axe on the page as it stands, records the summary; returns serious and critical violations. */
async function axe(page: Page, name: string, url = page.url()): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  // Runs in the page; a string because this project compiles without DOM types.
  const result = (await page.evaluate(`axe.run(document).then((r) => ({
    violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })),
    passes: r.passes.length,
    incomplete: r.incomplete.map((v) => v.id),
  }))`)) as { violations: AxeViolation[]; passes: number; incomplete: string[] };
  axeSummary[name] = {
    path: redact(url),
    violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })),
    passes: result.passes,
    incomplete: result.incomplete,
  };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Full-page screenshots at phone and desktop widths; the page keeps the size it had. */
async function shoot(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  for (const size of [PHONE, DESKTOP]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: path.join(SHOTS, `e2e-${name}-${size.width}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}

async function check(page: Page, name: string): Promise<void> {
  await shoot(page, name);
  expect(await axe(page, name)).toEqual([]);
}

/** Whether the page's enhancement script ran (it marks the body), i.e. whether JavaScript is on. */
const enhanced = (page: Page) => page.evaluate(`document.body.classList.contains('js-enabled')`) as Promise<boolean>;

/**
 * axe cannot run where scripts are off (it needs timers), so a page rendered without JavaScript
 * is checked by replaying its HTML, as served, in a scripted context whose enhancement script
 * is empty: the same markup and styles a browser without JavaScript lays out.
 */
async function checkWithoutScripts(page: Page, name: string): Promise<void> {
  await shoot(page, name);
  const html = await page.content();
  const url = page.url();
  const replay = await openBrowser();
  try {
    await replay.page.route('**/assets/app.js', (r) => r.fulfill({ contentType: 'text/javascript', body: '' }));
    await replay.page.route((u) => u.href === url, (r) => r.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
    await replay.page.goto(url);
    expect(await enhanced(replay.page)).toBe(false);
    expect(await axe(replay.page, name, url)).toEqual([]);
  } finally {
    await replay.context.close();
  }
}

// ---- waiting with deadlines ------------------------------------------------------------------

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let wait = 200; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      const found = await probe();
      if (found !== undefined) return found;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** Reloads the page until its main content matches; returns that text. */
function reloadUntil(page: Page, what: string, pattern: RegExp): Promise<string> {
  return eventually(what, async () => {
    await page.reload();
    const text = await page.locator('main').innerText();
    // A page still sending a message would change under the screenshot.
    return pattern.test(text) && !/still under way/.test(text) ? text : undefined;
  });
}

const mailTo = (to: string, subject?: string) => (m: ReceivedMail) => m.to.includes(to) && (subject === undefined || m.subject === subject);

function choiceLink(mail: ReceivedMail): string {
  const m = /https?:\/\/[^\s/]+\/c\/[A-Za-z0-9._~-]+/.exec(mail.text);
  if (!m) throw new Error(`no choice link in the email "${mail.subject}"`);
  return m[0];
}

/** Set by one test for the next; a clear failure instead of a confusing one if it is missing. */
function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`an earlier test did not get as far as ${what}`);
  return value;
}

// ---- the people and their sessions -----------------------------------------------------------

/** UK wall-clock date `days` from today, and that date at a time of day (never a clock-change hour). */
const ukDay = (days: number) => isoToUkLocal(new Date(Date.now() + days * DAY).toISOString())!.date;
const ukAt = (days: number, time: string) => `${ukDay(days)}T${time}`;
function ukInstant(local: string): string {
  const r = ukDateTimeToIso(local);
  if (!r.ok) throw new Error(`not a UK time: ${local}`);
  return r.iso;
}
/** A UK wall-clock "YYYY-MM-DDTHH:MM" as the pages show it ("Mon 30 Nov 10:00"). */
const shown = (local: string) => formatUk(ukInstant(local));
/** ...and as emails write it out ("Monday 30 November at 10:00"). */
const written = (local: string) => formatWhen(ukInstant(local));

const run = `${Date.now().toString(36)}`;
const SAM = {
  session: `S-E2E-${run}-1`,
  start: { date: ukDay(2), time: '10:00' },
  ref: 'C-2002',
  firstName: 'Sam',
  email: 'sam@example.org',
  slots: [ukAt(4, '10:00'), ukAt(5, '14:00')],
};
const PRIYA = {
  session: `S-E2E-${run}-2`,
  start: { date: ukDay(2), time: '15:00' },
  ref: 'C-2003',
  firstName: 'Priya',
  phone: '07700 900123',
  callback: ukAt(1, '16:00'),
};
const JO = {
  session: `S-E2E-${run}-3`,
  start: { date: ukDay(3), time: '11:00' },
  ref: 'C-2004',
  firstName: 'Jo',
  email: 'jo@example.org',
  slots: [ukAt(6, '09:30'), ukAt(7, '13:00')],
};

/**
 * Fills an NHS.UK date input (Day, Month, Year) and, when given, its Time box, as a person types
 * them: `local` is a UK wall-clock "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM".
 */
async function fillDate(group: Locator, local: string, time?: string): Promise<void> {
  const [date, clock = time] = local.split('T');
  const [year, month, day] = date!.split('-');
  await group.getByLabel('Day', { exact: true }).fill(String(Number(day)));
  await group.getByLabel('Month', { exact: true }).fill(String(Number(month)));
  await group.getByLabel('Year', { exact: true }).fill(year!);
  if (clock) await group.getByLabel('Time', { exact: true }).fill(clock);
}

async function fillAboutYou(page: Page): Promise<void> {
  const you = page.getByRole('group', { name: 'About you' });
  // Once staff sign in, the reference comes from the sign-in and cannot be typed over.
  const ref = you.getByLabel('Your therapist reference');
  if (await ref.isEditable()) await ref.fill(THERAPIST.ref);
  else await expect(ref.inputValue()).resolves.toBe(THERAPIST.ref);
  await you.getByLabel('Your name').fill('Alex Morgan');
  await you.getByLabel('Your work email address').fill(THERAPIST_EMAIL);
  await you.getByLabel('Illness').check();
  // Back before the first new time offered: a therapist cannot offer times while away.
  await fillDate(you.getByRole('group', { name: 'When do you expect to be back? (optional)' }), ukDay(4));
}

interface SessionDetails {
  session: string;
  start: { date: string; time: string };
  ref: string;
  firstName: string;
}

async function fillSession(group: Locator, s: SessionDetails): Promise<void> {
  await group.getByLabel('Session reference', { exact: true }).fill(s.session);
  await fillDate(group.getByRole('group', { name: 'When was the session due to start?' }), s.start.date, s.start.time);
  await group.getByLabel('Client reference', { exact: true }).fill(s.ref);
  await group.getByLabel("Client's first name").fill(s.firstName);
}

async function offerSlots(group: Locator, email: string, slots: string[]): Promise<void> {
  await group.getByLabel('Email', { exact: true }).check();
  await group.getByLabel("Client's email address").fill(email);
  await group.getByLabel('Offer new times for the client to choose from').check();
  await fillDate(group.getByRole('group', { name: 'New time 1', exact: true }), slots[0]!);
  await fillDate(group.getByRole('group', { name: 'New time 2 (optional)' }), slots[1]!);
}

/** The staff reference field exists only until staff sign in; then the signed-in person acts. */
async function sayWhoIAm(form: Locator): Promise<void> {
  const field = form.getByLabel('Your staff reference');
  if ((await field.count()) > 0) await field.fill(THERAPIST.ref);
}

// ---- the journey -----------------------------------------------------------------------------

let samCaseUrl: string | undefined;
let priyaCaseUrl: string | undefined;
let therapist: Session | undefined;

describe('rebooking a short-notice cancellation, end to end', () => {
  it('when a therapist cancels two sessions through the form, then the confirmation lists both cases with links to them', async () => {
    therapist = await staffBrowser();
    const { page, problems } = therapist;
    await page.goto(`${baseUrl}/cancellations/new`);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Cancel sessions at short notice');
    await check(page, 'form');

    await fillAboutYou(page);
    const first = page.getByRole('group', { name: 'The session you are cancelling' });
    await fillSession(first, SAM);
    await offerSlots(first, SAM.email, SAM.slots);

    await page.getByRole('button', { name: 'Add another session' }).click();
    const second = page.getByRole('group', { name: 'Session 2 of 2' });
    await second.waitFor();
    // What was typed before adding a session is all still there.
    const firstAgain = page.getByRole('group', { name: 'Session 1 of 2' });
    await expect(firstAgain.getByLabel("Client's first name").inputValue()).resolves.toBe('Sam');
    const secondTime = firstAgain.getByRole('group', { name: 'New time 2 (optional)' });
    await expect(secondTime.getByLabel('Time', { exact: true }).inputValue()).resolves.toBe(SAM.slots[1]!.split('T')[1]);
    await expect(secondTime.getByLabel('Day', { exact: true }).inputValue()).resolves.toBe(String(Number(SAM.slots[1]!.slice(8, 10))));
    await expect(page.getByLabel('Your work email address').inputValue()).resolves.toBe(THERAPIST_EMAIL);

    await fillSession(second, PRIYA);
    await second.getByLabel('Phone call, without leaving a voicemail').check();
    await second.getByLabel("Client's phone number").fill(PRIYA.phone);
    await second.getByLabel('I will call the client back to agree a time').check();
    await fillDate(second.getByRole('group', { name: 'Call the client back by' }), PRIYA.callback);
    await check(page, 'form-two-sessions');

    await page.getByRole('button', { name: 'Send cancellations' }).click();
    await page.getByRole('heading', { name: 'Your 2 cancellations have been sent' }).waitFor();
    const rows = page.locator('tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await expect(rows.nth(0).innerText()).resolves.toMatch(new RegExp(`${SAM.session}[\\s\\S]*Sam[\\s\\S]*2 new times offered`));
    await expect(rows.nth(1).innerText()).resolves.toMatch(new RegExp(`${PRIYA.session}[\\s\\S]*Priya[\\s\\S]*Callback by ${shown(PRIYA.callback)}`));
    const links = page.getByRole('link', { name: /^View case for session/ });
    await expect(links.count()).resolves.toBe(2);
    samCaseUrl = new URL((await rows.nth(0).getByRole('link').getAttribute('href'))!, baseUrl).href;
    priyaCaseUrl = new URL((await rows.nth(1).getByRole('link').getAttribute('href'))!, baseUrl).href;
    expect(samCaseUrl).not.toBe(priyaCaseUrl);
    await check(page, 'confirmation');

    // The links lead to the cases: each page is about its own client.
    await rows.nth(0).getByRole('link').click();
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toBe('Case for Sam');
    expect(problems).toEqual([]);
  }, 180_000);

  it("when the email client opens the link from their email on a phone, then they see the offered times and crisis help, and can book the second time", async () => {
    const mail = await smtp!.waitFor(mailTo(SAM.email), PATIENCE_MS);
    expect(mail.text).toContain(written(SAM.slots[0]!));
    expect(mail.text).toContain(written(SAM.slots[1]!));
    // The client is told the minimum: not why, and not who.
    expect(`${mail.subject}\n${mail.text}`).not.toMatch(/illness|Alex|Morgan/i);
    const link = choiceLink(mail);
    expect(link.startsWith(`${baseUrl}/c/`)).toBe(true);

    const client = await clientBrowser();
    try {
      const { page, problems } = client;
      await page.goto(link);
      await page.getByRole('heading', { name: 'Choose a new appointment' }).waitFor();
      expect(await enhanced(page)).toBe(true);
      const times = page.getByRole('group', { name: 'Which time would you like?' });
      for (const slot of SAM.slots) await expect(times.getByLabel(shown(slot)).count()).resolves.toBe(1);
      await expect(times.getByLabel('None of these times suit me, please call me').count()).resolves.toBe(1);
      const crisis = await page.locator('#crisis').innerText();
      expect(crisis).toContain('If you need help now');
      expect(crisis).toContain('Samaritans: call 116 123');
      expect(crisis).toContain('999');
      await check(page, 'client-choose');

      await times.getByLabel(shown(SAM.slots[1]!)).check();
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByRole('heading', { name: 'Your new appointment is booked' }).waitFor();
      await expect(page.locator('main').innerText()).resolves.toContain(shown(SAM.slots[1]!));
      await expect(page.locator('#crisis').innerText()).resolves.toContain('Samaritans');
      await check(page, 'client-booked');

      // Coming back to the link later shows the booking, not the choice again.
      await page.goto(link);
      await expect(page.locator('main').innerText()).resolves.toContain(`Your new appointment is already booked for ${shown(SAM.slots[1]!)}`);
      expect(problems).toEqual([]);
    } finally {
      await client.context.close();
    }
  }, 180_000);

  it('when the client has booked, then the therapist sees the case rebooked and waiting for the records, and can confirm one', async () => {
    const { page, problems } = need(therapist, 'the therapist');
    await page.goto(need(samCaseUrl, "Sam's case"));
    const text = await reloadUntil(page, 'the case page to show the rebooking', /is rebooked for/);
    const slot = shown(SAM.slots[1]!);
    expect(text).toContain(`Sam is rebooked for ${slot}. Waiting for Alex Morgan to complete the MPB records (0 of 3 done)`);
    await expect(page.locator('#status').innerText()).resolves.toContain('Waiting for the records');
    await expect(page.locator('.nhsuk-summary-list__row', { hasText: 'New session' }).innerText()).resolves.toContain(slot);
    // The choice the client made is on the timeline, in their own name.
    await expect(page.locator('.app-timeline').innerText()).resolves.toMatch(new RegExp(`Rebooked for ${slot}[\\s\\S]*client`));
    await check(page, 'case-rebooked');

    const therapistMail = await smtp!.waitFor(mailTo(THERAPIST_EMAIL, 'A client has booked a new session'), PATIENCE_MS);
    expect(therapistMail.text).toContain(written(SAM.slots[1]!));
    // The confirmation is the client's message without a choice link.
    const clientMail = await smtp!.waitFor((m) => m.to.includes(SAM.email) && !m.text.includes('/c/'), PATIENCE_MS);
    expect(clientMail.text).toContain(written(SAM.slots[1]!));
    expect(clientMail.text).toContain('Samaritans');

    const confirm = page.locator('details', { hasText: 'Confirm a record is on MPB' });
    await confirm.getByText('Confirm a record is on MPB').click();
    await sayWhoIAm(confirm);
    await confirm.getByLabel(/Attendance marked/).check();
    await check(page, 'case-confirm-record-open');
    await confirm.getByRole('button', { name: 'Confirm the record' }).click();

    await page.getByText('Record confirmed.').waitFor();
    await expect(page.locator('#status').innerText()).resolves.toContain('(1 of 3 done)');
    const attendance = page.locator('.app-checklist li', { hasText: 'Attendance marked' });
    await expect(attendance.innerText()).resolves.toMatch(new RegExp(`^\\s*Done[\\s\\S]*${THERAPIST.ref}`));
    await expect(page.locator('.app-checklist li', { hasText: 'Clinical note' }).innerText()).resolves.toMatch(/^\s*To do/);
    // A confirmed record is no longer offered for confirming.
    await expect(confirm.getByLabel(/Attendance marked/).count()).resolves.toBe(0);
    await check(page, 'case-record-confirmed');
    expect(problems).toEqual([]);
  }, 180_000);

  it('A6 when the client prefers a phone call and the therapist is off sick, then the case shows support must phone them, and support is asked with the voicemail rule', async () => {
    const { page, problems } = need(therapist, 'the therapist');
    const caseUrl = need(priyaCaseUrl, "Priya's case");
    await page.goto(caseUrl);
    // The therapist is away until day 4: the call goes to support, who is at work (issue 11).
    const text = await reloadUntil(page, 'the phone case to wait for the call', /Waiting for the support team to phone Priya/);
    expect(text).toMatch(/Phone the client[^\n(]*\(do not leave a voicemail\)/);
    // The call, beside the records owed for every cancellation from the start (D10).
    const duties = page.locator('table', { has: page.getByText('Open duties') }).locator('tbody tr');
    const duty = duties.filter({ hasText: 'Phone the client' });
    await expect(duty.count()).resolves.toBe(1);
    await expect(duty.innerText()).resolves.toMatch(/Phone the client[^\n(]*\(do not leave a voicemail\)[\s\S]*[Ss]upport/);
    await expect(duties.filter({ hasText: 'Add the cancellation to MPB' }).count()).resolves.toBe(1);
    await expect(page.locator('.nhsuk-summary-list__row', { hasText: 'Contact by' }).innerText()).resolves.toMatch(/Contact by\s+phone\s*$/);
    await expect(page.locator('.nhsuk-summary-list__row', { hasText: 'Call back by' }).innerText()).resolves.toContain(shown(PRIYA.callback));
    await check(page, 'case-phone');

    const task = await smtp!.waitFor(mailTo(SUPPORT_EMAIL, 'Support needed: a cancelled session'), PATIENCE_MS);
    expect(task.text).toContain('The therapist is away');
    expect(task.text).toContain('do not leave a voicemail');
    expect(task.text).toContain(caseUrl);
    // Staff emails that are not for the therapist carry no client details (H13): the case page has them.
    expect(task.text).not.toContain('+447700900123');
    // The absent therapist is not asked to make the call, and nobody wrote to Priya: she asked for a call.
    expect(smtp!.messages.filter((m) => mailTo(THERAPIST_EMAIL, 'Action needed: phone a client about a cancelled session')(m))).toEqual([]);
    expect(smtp!.messages.filter((m) => m.text.includes('Hello Priya'))).toEqual([]);
    expect(problems).toEqual([]);
  }, 180_000);

  it('when neither the therapist nor the client has JavaScript, then cancelling and choosing a new time still work', async () => {
    const staff = await staffBrowser({ javaScriptEnabled: false });
    const client = await clientBrowser({ javaScriptEnabled: false });
    try {
      const { page } = staff;
      await page.goto(`${baseUrl}/cancellations/new`);
      expect(await enhanced(page)).toBe(false);
      await fillAboutYou(page);
      const only = page.getByRole('group', { name: 'The session you are cancelling' });
      await fillSession(only, JO);
      await offerSlots(only, JO.email, JO.slots);
      await checkWithoutScripts(page, 'form-no-js');
      await page.getByRole('button', { name: 'Send cancellations' }).click();
      await page.getByRole('heading', { name: 'Your cancellation has been sent' }).waitFor();
      const caseUrl = new URL((await page.getByRole('link', { name: /^View case for session/ }).getAttribute('href'))!, baseUrl).href;

      const link = choiceLink(await smtp!.waitFor(mailTo(JO.email), PATIENCE_MS));
      const c = client.page;
      await c.goto(link);
      await c.getByRole('heading', { name: 'Choose a new appointment' }).waitFor();
      expect(await enhanced(c)).toBe(false);
      await expect(c.locator('#crisis').innerText()).resolves.toContain('Samaritans');
      await checkWithoutScripts(c, 'client-choose-no-js');
      await c.getByRole('group', { name: 'Which time would you like?' }).getByLabel(shown(JO.slots[0]!)).check();
      await c.getByRole('button', { name: 'Confirm' }).click();
      await c.getByRole('heading', { name: 'Your new appointment is booked' }).waitFor();
      await expect(c.locator('main').innerText()).resolves.toContain(shown(JO.slots[0]!));
      await checkWithoutScripts(c, 'client-booked-no-js');

      // The choice reached the workflow: the case says so, and the therapist is told.
      await page.goto(caseUrl);
      const text = await reloadUntil(page, "Jo's case to show the rebooking", /is rebooked for/);
      expect(text).toContain(`Jo is rebooked for ${shown(JO.slots[0]!)}`);
      const told = await smtp!.waitFor((m) => mailTo(THERAPIST_EMAIL, 'A client has booked a new session')(m) && m.text.includes('Jo (client ref C-2004)'), PATIENCE_MS);
      expect(told.text).toContain(written(JO.slots[0]!));
      expect([...staff.problems, ...client.problems]).toEqual([]);
    } finally {
      await staff.context.close();
      await client.context.close();
    }
  }, 240_000);

  afterAll(async () => {
    await therapist?.context.close();
  });
});
