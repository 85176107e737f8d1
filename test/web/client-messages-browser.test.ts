/**
 * Issue 15, item 4, as people see it in Chromium: the client's email and text message as the real
 * activities render them into the development mailbox (opened by a member of staff, as in
 * `npm start`), and the page the client's link opens. Screenshots at 390 and 1280 px, axe on
 * each page. The per-channel wording rules are in test/channels/client-wording.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import type { ClientMessageKind, ClientNotice } from '../../src/shared/activities';
import { formatUk } from '../../src/shared/time';
import { directoryMailbox } from '../../src/web/mailbox';
import { startWebServer, type WebServer } from '../../src/web/main';
import { smsSegments } from '../../src/wording/sms';
import { launchChromium, watchProblems } from '../helpers/browser';
import { checkPage } from '../helpers/pages';
import { signIn } from '../e2e/sign-in';
import { caseView, DAY, fromNow, HOUR, makeDeps, testConfig, type Deps } from './fakes';

const CASE_ID = 'c3f9a1d07b2e64c58a9f1';
const PHONE = '0300 123 4567';

let dir: string;
let browser: Browser;
let server: WebServer;
let d: Deps;
const start = fromNow(3 * DAY);
const slots = [fromNow(5 * DAY), fromNow(6 * DAY)];
const chooseBy = fromNow(2 * DAY);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shortnotice-u7-'));
  const config = testConfig({ MAILBOX_DIR: dir, APPOINTMENTS_PHONE: PHONE });
  d = makeDeps({ config, mailbox: directoryMailbox(dir) });
  d.cases.add(
    caseView({
      caseId: CASE_ID,
      sessionStartsAt: start,
      offeredSlots: slots,
      duties: [
        {
          id: 'ob-1',
          kind: 'choose',
          what: 'Choose one of the offered times',
          owner: 'client',
          deadline: chooseBy,
          openedAt: fromNow(-HOUR),
          chases: 0,
          clientFacing: false,
          dischargedBy: 'the client',
        },
      ],
    }),
  );
  // The real activities, sending into the development mailbox as `npm start` does.
  const activities = createActivities({ ...buildActivityDeps(config), attempt: () => 1 });
  const notice = (
    kind: ClientMessageKind,
    channel: 'email' | 'sms',
    extra: Partial<ClientNotice> = {},
  ): ClientNotice => ({
    caseId: CASE_ID,
    step: `client-${kind}-${channel}`,
    kind,
    channel,
    to: { email: 'sam@example.org', phone: '+447700900123' },
    firstName: 'Sam',
    sessionStartsAt: start,
    ...extra,
  });
  await activities.notifyClient(notice('slotOffer', 'email', { slots }));
  await activities.notifyClient(notice('slotOffer', 'sms', { slots }));
  await activities.notifyClient(notice('callbackPromise', 'email', { callbackBy: fromNow(DAY) }));
  server = await startWebServer(d.deps, 0, '127.0.0.1');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const base = () => `http://127.0.0.1:${server.port}`;

async function openMessage(page: Page, subject: string | RegExp): Promise<string> {
  await page.goto(`${base()}/dev/mailbox`);
  await page.getByRole('link', { name: subject }).first().click();
  await page.locator('.app-mail-text').waitFor();
  return page.locator('main').innerText();
}

describe('U7 client messages answer the client’s questions', () => {
  it('U7 when the client’s email and text are opened, then they come from the service by name, say by when to choose and whom to ring, and the text fits in two segments with the service named first', async () => {
    const context = await browser.newContext({
      bypassCSP: true,
      locale: 'en-GB',
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      // A load cut short because the page moved on (the favicon, typically) is not a fault.
      const problems = watchProblems(page, (why) => why === 'net::ERR_ABORTED');
      await signIn(page, base(), { role: 'lead', ref: 'LEAD7', name: 'Jo Patel' });

      const email = await openMessage(page, 'Your appointment has been cancelled: please choose a new time');
      expect(email).toMatch(/From\s+"VHG talking therapies" <no-reply@shortnotice\.localhost>/);
      expect(email).toMatch(/Please choose a new time by \w+day \d{1,2} \w+ at \d{2}:\d{2}\. These times are free:/);
      expect(email).toContain(`If you have a question about your appointment, please ring us on ${PHONE}.`);
      expect(email).toContain('Samaritans');
      expect(await page.locator('.app-mail-text').innerText()).not.toMatch(/therap(y|ist)|Alex|slot/i);
      await checkPage(page, 'u7-client-email');

      const callback = await openMessage(page, 'Your appointment has been cancelled');
      expect(callback).toContain(`If we have not called you by then, please ring us on ${PHONE}.`);

      const text = await openMessage(page, 'SMS');
      const body = (await page.locator('.app-mail-text').innerText()).trim();
      expect(body.startsWith('VHG talking therapies: ')).toBe(true);
      expect(smsSegments(body)).toBeLessThanOrEqual(2);
      expect(body).toMatch(
        /hoose a new time by \w{3} \d{1,2} \w{3} \d{2}:\d{2}:\nhttp:\/\/localhost:3000\/c\/\S{40,70}\n/,
      );
      expect(body).toContain(`Questions? Ring ${PHONE}`);
      expect(body).toContain('In crisis? Samaritans 116 123');
      expect(text).toContain('sms+447700900123@mailbox.localhost');
      await checkPage(page, 'u7-client-sms');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('U7 when the client opens their link on a phone, then the page says by when to choose and the number for questions about their appointment', async () => {
    const context = await browser.newContext({
      bypassCSP: true,
      locale: 'en-GB',
      timezoneId: 'Europe/London',
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    try {
      const page = await context.newPage();
      // A load cut short because the page moved on (the favicon, typically) is not a fault.
      const problems = watchProblems(page, (why) => why === 'net::ERR_ABORTED');
      await page.goto(`${base()}/c/${d.links.seal(CASE_ID, 'choose', 14 * DAY)}`);
      const main = await page.locator('main').innerText();
      expect(main).toContain(`Please choose by ${formatUk(chooseBy)}.`);
      expect(main).toContain(`Questions about your appointment? Call us on ${PHONE}.`);
      expect(await page.locator('footer').innerText()).toContain(`Questions about your appointments: ${PHONE}`);
      await checkPage(page, 'u7-client-page');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
