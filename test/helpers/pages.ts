/**
 * What every page test of issue 15 does with a page a person sees: full-page screenshots at phone
 * (390 px) and desktop (1280 px) widths, and axe-core over the page, failing on serious or
 * critical violations. Screenshots go to test-artifacts/screenshots (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';

export const SHOTS = path.join(__dirname, '..', '..', 'test-artifacts', 'screenshots');
export const WIDTHS = [390, 1280] as const;
const AXE = require.resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe on the page as it stands; returns every violation (the caller decides which fail). */
export async function axe(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE });
  // Runs in the page; a string because this project compiles without DOM types.
  return (await page.evaluate(`axe.run(document).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')),
  })))`)) as AxeViolation[];
}

export const serious = (vs: AxeViolation[]) => vs.filter((v) => v.impact === 'serious' || v.impact === 'critical');

/** Screenshots at both widths (the page keeps the size it had); returns the files written. */
export async function shoot(page: Page, name: string): Promise<string[]> {
  mkdirSync(SHOTS, { recursive: true });
  const before = page.viewportSize();
  const files: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    const file = path.join(SHOTS, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(path.relative(path.join(SHOTS, '..', '..'), file));
  }
  if (before) await page.setViewportSize(before);
  return files;
}

/** Screenshots at both widths, then axe: serious or critical violations fail the calling test. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await shoot(page, name);
  expect({ page: name, violations: serious(await axe(page)) }).toEqual({ page: name, violations: [] });
}
