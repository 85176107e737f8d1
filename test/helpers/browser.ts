/**
 * Debian's Chromium for page tests, launched the way this closed network needs: headless, no
 * sandbox (root), and no background networking (its calls home would be refused by the dozen).
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=en-GB'],
  });
}

/**
 * Collects what a person would see go wrong on a page: script errors, console errors and failed
 * assets. Pages answered with 404 or 422 on purpose log a failed load; those are not counted.
 */
export function watchProblems(page: Page, ignoreFailedRequest: (errorText: string) => boolean = () => false): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.request().resourceType() !== 'document' && r.status() >= 400) problems.push(`asset ${r.status()}: ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText ?? '';
    // Chromium fetches the favicon on its own after the page loads; a form posted or a link
    // followed at that moment aborts the fetch. Nothing was refused, and a person sees nothing.
    if (why === 'net::ERR_ABORTED' && new URL(r.url()).pathname === '/assets/images/favicon.svg') return;
    if (!ignoreFailedRequest(why)) problems.push(`request failed (${why}): ${r.url()}`);
  });
  return problems;
}
