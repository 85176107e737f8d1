/**
 * The form in a real browser (Debian's chromium, driven by playwright-core) against the app and
 * a fake case service: filling it in, its error state, adding a session, the confirmation, plus
 * the case and client pages. Each page is screenshotted at phone and desktop widths and checked
 * with axe-core; serious or critical accessibility violations fail the test.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/main';
import { isoToParts } from '../../src/web/uk-time';
import { launchChromium, watchProblems } from '../helpers/browser';
import { caseView, escalation, CASE_ID, DAY, fromNow, HOUR, makeDeps, type Deps } from './fakes';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const AXE = require.resolve('axe-core/axe.min.js');
const WIDTHS = [390, 1280] as const;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

let browser: Browser;
let server: WebServer;
let d: Deps;
let token: string;
const axeResults: Record<string, { violations: { id: string; impact: string | null; help: string; targets: string[] }[]; passes: number }> = {};

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  d = makeDeps();
  d.cases.add(
    caseView({
      escalations: [escalation()],
      records: { attendance: { done: true, at: fromNow(-HOUR), by: 'T1042', source: 'attestation' }, clinicalNote: { done: false }, nextSession: { done: false } },
    }),
  );
  token = d.links.seal(CASE_ID, 'choose', 14 * DAY);
  server = await startWebServer(d.deps, 0, '127.0.0.1');
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await writeFile(path.join(ARTIFACTS, 'axe-results.json'), `${JSON.stringify(axeResults, null, 2)}\n`).catch(() => undefined);
});

const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

/** Runs axe on the page as it stands; returns serious and critical violations. */
async function axe(page: Page, name: string): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  // Runs in the page; written as a string because this project compiles without DOM types.
  const result = (await page.evaluate(`axe.run(document).then((r) => ({
    violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })),
    passes: r.passes.length,
  }))`)) as { violations: AxeViolation[]; passes: number };
  axeResults[name] = {
    violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })),
    passes: result.passes,
  };
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
}

async function check(page: Page, name: string): Promise<void> {
  await shoot(page, name);
  expect(await axe(page, name)).toEqual([]);
}

/** Signs in as the therapist T1042 through the development sign-in, as a person would. */
async function signIn(page: Page, role: 'Therapist' | 'Clinical lead' = 'Therapist'): Promise<void> {
  await page.goto(url('/auth/sign-in'));
  await page.getByLabel(role, { exact: true }).check({ force: true });
  await page.fill('#ref', role === 'Therapist' ? 'T1042' : 'LEAD7');
  await page.fill('#name', role === 'Therapist' ? 'Alex Morgan' : 'Jo Patel');
  await page.fill('#email', role === 'Therapist' ? 'alex.morgan@example.org' : 'jo.patel@example.org');
  await Promise.all([page.waitForURL((u) => u.pathname === '/cancellations'), page.click('button[type="submit"]')]);
  // Home first (the list of cases); let it finish loading so its favicon is not cut short.
  await page.waitForLoadState('networkidle');
  await page.goto(url('/cancellations/new'));
}

async function newContext(bypassCSP: boolean): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ bypassCSP, locale: 'en-GB', timezoneId: 'Europe/London' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  return { context, page, problems };
}

async function fillSession(page: Page, i: number, s: { id: string; start: string; ref: string; name: string }) {
  const p = `#session-${i}-`;
  const fillDate = async (prefix: string, iso: string) => {
    const parts = isoToParts(iso);
    for (const box of ['day', 'month', 'year', 'time'] as const) await page.fill(`${prefix}-${box}`, parts[box]);
  };
  await page.fill(`${p}id`, s.id);
  await fillDate(`${p}start`, s.start);
  await page.fill(`${p}client-ref`, s.ref);
  await page.fill(`${p}first-name`, s.name);
  await page.check(`${p}contact`, { force: true });
  await page.fill(`${p}email`, `${s.name.toLowerCase()}@example.org`);
  await page.check(`${p}rebook`, { force: true });
  await fillDate(`${p}slot-0`, fromNow(6 * DAY));
}

describe('in a browser', () => {
  it('when a therapist fills in the form with two sessions, then errors, the added session and the confirmation all work and pass axe', async () => {
    const { context, page, problems } = await newContext(true);
    await page.goto(url('/auth/sign-in'));
    await check(page, 'sign-in');
    await signIn(page);
    await check(page, 'form');
    // The reference is the signed-in therapist's; name and email start from the sign-in.
    expect(await page.inputValue('#therapist-id')).toBe('T1042');
    expect(await page.getAttribute('#therapist-id', 'readonly')).not.toBeNull();

    await page.click('button[value="submit"]:not(.app-default-submit)');
    await page.waitForSelector('.nhsuk-error-summary');
    expect(await page.title()).toMatch(/^Error: /);
    expect(await page.locator('.nhsuk-error-summary a').count()).toBeGreaterThan(3);
    await check(page, 'form-errors');

    await page.fill('#therapist-name', 'Alex Morgan');
    await page.fill('#therapist-email', 'alex.morgan@example.org');
    await page.check('#reason', { force: true });
    await fillSession(page, 0, { id: 'S-1', start: fromNow(3 * DAY), ref: 'C-77', name: 'Sam' });

    await page.click('button[value="add-session"]');
    await page.waitForSelector('#session-1-id');
    expect(await page.inputValue('#session-0-first-name')).toBe('Sam');
    expect(await page.locator('.nhsuk-error-summary').count()).toBe(0);
    await fillSession(page, 1, { id: 'S-2', start: fromNow(4 * DAY), ref: 'C-78', name: 'Priya' });

    await page.click('button[value="submit"]:not(.app-default-submit)');
    await page.waitForSelector('.nhsuk-panel');
    expect(await page.locator('a.app-case-link').count()).toBe(2);
    await check(page, 'confirmation');

    expect(d.cases.submit).toHaveBeenCalledTimes(1);
    expect(d.cases.submitted[0]!.sessions.map((s) => s.client.firstName)).toEqual(['Sam', 'Priya']);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('when staff open a case and a client opens their link, then both pages pass axe', async () => {
    const { context, page, problems } = await newContext(true);
    await signIn(page, 'Clinical lead');
    await page.goto(url(`/cancellations/${CASE_ID}`));
    await page.evaluate(`document.querySelectorAll('details').forEach((el) => { el.open = true; })`);
    await check(page, 'case');

    await page.goto(url(`/c/${token}`));
    await check(page, 'client');

    await page.goto(url('/c/not-a-real-token'));
    await check(page, 'client-bad-link');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('when pages load under the Content Security Policy, then nothing is refused and no script fails', async () => {
    const { context, page, problems } = await newContext(false);
    await signIn(page);
    for (const p of ['/auth/sign-in', '/cancellations/new', `/cancellations/${CASE_ID}`, `/c/${token}`]) {
      await page.goto(url(p));
      await page.waitForLoadState('networkidle');
    }
    await page.goto(url('/cancellations/new'));
    await page.click('button[value="submit"]:not(.app-default-submit)');
    await page.waitForSelector('.nhsuk-error-summary');
    // NHS.UK frontend's script moves focus to the error summary once it has loaded.
    await page.waitForFunction(`document.activeElement && document.activeElement.classList.contains('nhsuk-error-summary')`);
    expect(problems).toEqual([]);
    await context.close();
  });
});
