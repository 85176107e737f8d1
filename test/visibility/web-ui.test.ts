/**
 * The Temporal Web UI served by the dev server, in headless Chromium, used as a clinical lead
 * would: list cases filtered by stage, open one and read its summary, details and current
 * details; paste the late filter from the README and save it as a view; follow the link
 * `npm run stuck` prints. Screenshots go to test-artifacts/screenshots/temporal-ui-*.png.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { caseWorkflowId } from '../../src/shared/ids';
import { lateQuery, uiListUrl, uiWorkflowUrl, type Thresholds } from '../../src/ops/visibility';
import { launchChromium } from '../helpers/browser';
import { FAST_POLICY, startCluster, type ClientDetails, type Cluster } from './fixtures';

const SHOTS = path.join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
const CANARY: ClientDetails = { firstName: 'Zebedee-canary', email: 'canary-client@example.invalid', phone: '+447700900999' };
const NEEDLES = ['zebedee', 'canary-client', 'example.invalid', '7700900999'];
const QUICK: Thresholds = { lateMarginMs: 0, escalationAckWindowMs: 1000 };
const ROW = '[data-testid="workflows-summary-configurable-table-row"]';

let c: Cluster;
let ui: string;
let browser: Browser;
let page: Page;
const ids = {} as Record<'choiceCanary' | 'choiceOther' | 'phone' | 'late', string>;
const wf = (k: keyof typeof ids) => caseWorkflowId(ids[k]);

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  c = await startCluster({ ui: true });
  ui = c.uiUrl!;
  ids.choiceCanary = await c.submit({ client: CANARY });
  ids.choiceOther = await c.submit({ therapistId: 'T-3003' });
  ids.phone = await c.submit({ contact: 'phone', client: CANARY });
  ids.late = await c.submit({ client: CANARY }, FAST_POLICY);
  await c.until(ids.choiceCanary, (v) => v.stage === 'awaiting-choice', 'slots offered');
  await c.until(ids.choiceOther, (v) => v.stage === 'awaiting-choice', 'slots offered');
  await c.until(ids.phone, (v) => v.stage === 'awaiting-phone-outcome', 'phone task');
  await c.until(ids.late, (v) => v.stage === 'awaiting-follow-up' && v.escalations.length > 0, 'follow-up missed');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, locale: 'en-GB' });
  page.setDefaultTimeout(30_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await c?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `temporal-ui-${name}.png`), fullPage: true });

const plain = (t: string) => t.replace(/[\u2018\u2019]/g, "'").replace(/\s+/g, ' ').trim();

/**
 * The page's visible text, typographic quotes made plain and whitespace collapsed. The UI renders
 * summaries and details as markdown inside iframes, so their text is appended, one per frame.
 */
async function pageText(selector = 'main'): Promise<string> {
  const parts = [await page.innerText(selector)];
  for (const frame of page.frames()) {
    if (frame !== page.mainFrame()) parts.push(await frame.innerText('body').catch(() => ''));
  }
  return parts.map(plain).join('\n');
}

/** Reads until `ok` holds or the time is up; returns the last reading for the assertion. */
async function poll<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function listedIds(): Promise<string[]> {
  const rows = await page.locator(ROW).allInnerTexts();
  return rows.map((r) => /cancellation-c[0-9a-z]+/.exec(r)?.[0] ?? r).sort();
}

/**
 * Waits until the list shows exactly `expected`. Visibility is eventually consistent, so the
 * list is reloaded a few times before giving up.
 */
async function expectListed(expected: string[], reload: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 45_000;
  let got: string[] = [];
  for (;;) {
    await page
      .locator(ROW)
      .first()
      .waitFor({ timeout: 10_000 })
      .catch(() => undefined);
    got = await listedIds();
    if (JSON.stringify(got) === JSON.stringify([...expected].sort()) || Date.now() > deadline) break;
    await reload();
  }
  expect(got).toEqual([...expected].sort());
}

describe('the Temporal Web UI', () => {
  it('when a lead lists cases filtered by stage and opens one, then its summary, details and current details are on the page, without client details', async () => {
    const byStage = `${ui}/namespaces/default/workflows?query=${encodeURIComponent('CaseStage="awaiting-choice"')}`;
    await page.goto(byStage);
    await expectListed([wf('choiceCanary'), wf('choiceOther')], async () => {
      await page.goto(byStage);
    });
    // The columns the README tells a lead to add: the case's attributes instead of run ids.
    await page.getByTestId('workflows-summary-table-configuration-button').click();
    for (const column of ['Run ID', 'Type', 'Start', 'End']) await page.getByTestId(`orderable-list-item-${column}-remove-button`).click();
    for (const column of ['CaseStage', 'NextDeadline', 'EscalatedTo', 'UnackedEscalationSince', 'TherapistRef']) {
      await page.getByTestId(`orderable-list-item-${column}-add-button`).click();
    }
    await page.getByTestId('drawer-close-button').click();
    await page.getByText('Configure Workflows Table').waitFor({ state: 'hidden' });
    const rows = await poll(() => page.locator(ROW).allInnerTexts(), (r) => r.every((t) => t.includes('awaiting-choice')));
    expect(rows.map(plain)).toEqual([expect.stringContaining('awaiting-choice'), expect.stringContaining('awaiting-choice')]);
    expect(rows.map(plain)).toEqual(expect.arrayContaining([expect.stringContaining('T-3003')]));
    const listText = (await pageText()).toLowerCase();
    expect(NEEDLES.filter((n) => listText.includes(n))).toEqual([]);
    await shot('list-awaiting-choice');

    await page.getByRole('link', { name: wf('choiceCanary'), exact: true }).click();
    await page.waitForURL(/\/history$/);
    // The pending timer is named for what falls due first (the records owed from the start).
    await page.getByText(/Deadline: Add the cancellation to MPB/).first().waitFor();
    await shot('case-history');

    const d = await c.client.workflow.getHandle(wf('choiceCanary')).describe();
    const summary = (await d.staticSummary())!;
    const details = (await d.staticDetails())!;
    const current = (await c.view(ids.choiceCanary)).status;
    expect(current).toMatch(/^Waiting for the client's choice until .+; 3 times offered\.$/);

    await page.getByTestId('user-metadata-tab').click();
    await page.waitForURL(/\/user-metadata$/);
    await page.getByText('Current Details').waitFor();
    // The current details come from a query the UI sends to the worker: give it a moment.
    const text = await poll(pageText, (t) => t.includes(summary) && t.includes(current));
    expect(text).toContain(summary);
    expect(text).toContain(current);
    // The UI renders the details as markdown: compare each line's words, without list markers.
    for (const line of details.split('\n').filter((l) => l.trim())) expect(text).toContain(plain(line.replace(/^\s*[-*]\s+/, '')));
    // The timer armed now is named for what falls due first: the records owed from the start.
    expect(text).toContain('Deadline: Add the cancellation to MPB');
    const metadata = text.slice(text.indexOf('Summary')).toLowerCase();
    expect(NEEDLES.filter((n) => metadata.includes(n))).toEqual([]);
    await shot('case-metadata');
  });

  it('when a lead pastes the late filter into the raw query box and saves it as a view, then exactly the late case is listed', async () => {
    const query = lateQuery(QUICK, Date.now());
    const search = async () => {
      await page.goto(`${ui}/namespaces/default/workflows`);
      const box = page.getByTestId('manual-search-input');
      if (!(await box.isVisible())) await page.getByTestId('toggle-manual-query').click();
      await box.fill(query);
      await page.getByTestId('manual-search-button').click();
    };
    await search();
    await expectListed([wf('late')], search);
    await shot('late-filter');

    await page.getByRole('button', { name: 'Save as New' }).click();
    await page.getByTestId('save-view-modal-input').fill('Late cases');
    await page.locator('[data-testid="confirm-modal-button"]:visible').click();
    expect(await poll(() => pageText('body'), (t) => /Custom Views 1 \/ 20 .*Late cases/.test(t))).toMatch(/Custom Views 1 \/ 20 .*Late cases/);
    await shot('saved-view');
  });

  it('when a lead follows the link printed by npm run stuck, then the late case opens and says it has escalated', async () => {
    await page.goto(uiWorkflowUrl(ui, 'default', wf('late')));
    await page.waitForURL(/\/history$/);
    await page.getByTestId('user-metadata-tab').click();
    const current = (await c.view(ids.late)).status;
    expect(current).toMatch(/^Waiting for the therapist to agree a new time with the client until .+\. Escalated, awaiting acknowledgement\.$/);
    expect(await poll(pageText, (t) => t.includes(current))).toContain(current);
    await shot('late-case');
  });

  it('when the list link for the late filter is opened, then the UI applies the filter', async () => {
    const link = uiListUrl(ui, 'default', lateQuery(QUICK, Date.now()));
    await page.goto(link);
    await expectListed([wf('late')], async () => {
      await page.goto(link);
    });
  });
});
