/**
 * Issue 16, the lead's charts on the real stack: a dev server, the real case workflow, the app's
 * own CaseService and visibility query, Debian's Chromium with axe. Cases are submitted as if on
 * days in the past (the service's clock), some are then rebooked and documented, so the charts
 * have days and weeks to show; each wait is from that past submission to the rebooking now.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CaseService } from '../../src/cases';
import { addDays } from '../../src/ops/lead-charts';
import { RECORDS } from '../../src/shared/case';
import { caseWorkflowId } from '../../src/shared/ids';
import { chooseSlotUpdate, confirmRecordUpdate } from '../../src/shared/messages';
import { DEFAULT_POLICY } from '../../src/shared/policy';
import { formatUkDate, ukDate } from '../../src/shared/time';
import { launchChromium, watchProblems } from '../helpers/browser';
import { checkPage } from '../helpers/pages';
import { signIn } from '../e2e/sign-in';
import { DAY, eventually, submission } from './fixtures';
import { startStack, type Stack } from './stack';

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

/** Days ago each case was cancelled, and whether it is then rebooked and documented. */
const CASES: { daysAgo: number; complete: boolean; name: string }[] = [
  { daysAgo: 30, complete: true, name: 'Aurelio' },
  { daysAgo: 16, complete: true, name: 'Bettany' },
  { daysAgo: 9, complete: true, name: 'Cosmina' },
  { daysAgo: 9, complete: true, name: 'Dashiell' },
  { daysAgo: 9, complete: false, name: 'Evander' },
  { daysAgo: 2, complete: false, name: 'Fenella' },
];
const started = Date.now();

beforeAll(async () => {
  stack = await startStack();
  for (const c of CASES) {
    const past = new Date(started - c.daysAgo * DAY);
    const service = new CaseService({
      client: stack.client,
      taskQueue: stack.config.temporal.taskQueue,
      policy: DEFAULT_POLICY,
      recordsMode: 'attestation',
      caseIdKey: stack.config.caseIdKey,
      now: () => past,
    });
    const sub = submission(past.getTime(), {
      startsAt: started + 3 * DAY,
      client: { firstName: c.name, email: `${c.name.toLowerCase()}@example.org`, phone: '+447700900123' },
      therapistId: `T-${c.name.slice(0, 3).toUpperCase()}`,
    });
    const [{ caseId }] = (await service.submit(sub)) as [{ caseId: string }];
    if (!c.complete) continue;
    const offered = await stack.until(caseId, (v) => v.offeredSlots.length > 0, `times offered to ${c.name}`);
    const handle = stack.client.workflow.getHandle(caseWorkflowId(caseId));
    await handle.executeUpdate(chooseSlotUpdate, { args: [{ slot: offered.offeredSlots[0]! }] });
    for (const record of RECORDS) await handle.executeUpdate(confirmRecordUpdate, { args: [{ by: 'T-1001', record }] });
    await stack.until(caseId, (v) => v.stage === 'completed', `${c.name}'s case to complete`);
  }
  // Visibility is eventually consistent: the page reads it once a minute, so wait until it has caught up.
  const completed = `WorkflowType = 'cancellationCase' AND CaseStage = 'completed' AND RebookedAtUnix IS NOT NULL`;
  const want = CASES.filter((c) => c.complete).length;
  expect(await eventually(async () => (await stack.client.workflow.count(completed)).count, want)).toBe(want);
  browser = await launchChromium();
  context = await browser.newContext({
    bypassCSP: true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  problems = watchProblems(page, (why) => why === 'net::ERR_ABORTED');
  await signIn(page, stack.baseUrl, { role: 'lead', ref: 'LEAD7', name: 'Jo Patel' });
}, 300_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await stack?.stop();
});

const dayLabel = (daysAgo: number) => formatUkDate(addDays(ukDate(started), -daysAgo));

describe('C3 the lead sees the charts on their home page', () => {
  it('C3 when a lead opens their home page, then it shows cancellations per day as a described image, and the numbers per day match the cases submitted', async () => {
    await page.getByRole('heading', { level: 2, name: 'Cancellations and rebooking, last 8 weeks' }).waitFor();
    const daily = page.getByRole('img', { name: 'Cancellations per day' });
    await daily.waitFor();
    const description = await page.locator('#chart-daily-desc').textContent();
    expect(description).toMatch(
      /^6 cancellations from \w{3} \d{1,2} \w{3} to \w{3} \d{1,2} \w{3}; the most in one day was 3, on /,
    );
    expect(description).toContain(dayLabel(9));
    // Bars for three days: 30, 16, 9 and 2 days ago (four days, one of them with three cases).
    expect(await page.locator('#charts-heading ~ figure').first().locator('rect.app-chart__bar').count()).toBe(4);

    await page.getByText('Show the numbers: cancellations per day').click();
    const rows = await page.locator('table:has(caption:text("Cancellations per day")) tbody tr').allInnerTexts();
    const count = (daysAgo: number) =>
      rows
        .find((r) => r.startsWith(dayLabel(daysAgo)))
        ?.split('\t')[1]
        ?.trim();
    expect([count(30), count(16), count(9), count(2), count(1)]).toEqual(['1', '1', '3', '1', '0']);
    expect(rows.length).toBeGreaterThanOrEqual(50);
  });

  it('C3 when the lead opens the time to rebook, then each week shows the median and 90th percentile of its completed cases, and weeks without one say so', async () => {
    const chart = page.getByRole('img', { name: 'Time from cancellation to rebooking, by week' });
    await chart.waitFor();
    expect(await page.locator('#chart-rebooking-desc').textContent()).toMatch(
      /^For completed cases, by the week they were cancelled: the median time to rebook was from 9 days to 30 days, and the 90th percentile from 9 days to 30 days\. \d of 8 weeks had no completed case\.$/,
    );
    await page.getByText('Show the numbers: time to rebook').click();
    const rows = await page
      .locator('table:has(caption:text("Time from cancellation to rebooking")) tbody tr')
      .allInnerTexts();
    expect(rows).toHaveLength(8);
    const cells = rows.map((r) => r.split('\t').map((c) => c.trim()));
    const withCases = cells.filter((c) => c[1] !== '0').map((c) => c.slice(1));
    // 9 days ago: two completed (the third is still open); 16 and 30 days ago: one each.
    expect(withCases).toEqual([
      ['1', '30 days', '30 days'],
      ['1', '16 days', '16 days'],
      ['2', '9 days', '9 days'],
    ]);
    expect(cells.filter((c) => c[1] === '0').every((c) => c[2] === 'None completed')).toBe(true);
    await checkPage(page, 'c3-lead-charts');
    expect(problems).toEqual([]);
  });

  it("C3 the charts carry no client detail: no name, address or reference of any case's client", async () => {
    const section = (await page.locator('section.app-charts').innerHTML()).toLowerCase();
    for (const c of CASES)
      expect({ name: c.name, found: section.includes(c.name.toLowerCase()) }).toEqual({ name: c.name, found: false });
    expect(section).not.toMatch(/@example\.org|7700900123|c-\d{4}/);
  });
});
