/**
 * The hazard log is evidence, so its shape is checked: every hazard has a cause, an effect, a
 * severity and likelihood on the DCB0129 scales, controls, and at least one named test, and every
 * named test exists in the suite. (That each one passed is checked by the jest reporter at the end
 * of `npm test`.)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
const { hazards } = require('./hazard-log') as { hazards(): { id: string; severity: string; likelihood: string; controls: string; tests: string[]; cells: string[] }[] };

const SEVERITIES = ['Minor', 'Significant', 'Considerable', 'Major', 'Catastrophic'];
const LIKELIHOODS = ['Very low', 'Low', 'Medium', 'High', 'Very high'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.test.ts') ? [readFileSync(p, 'utf8').replace(/\\'/g, "'")] : [];
  });
}

describe('the hazard log (docs/safety/hazard-log.md)', () => {
  const rows = hazards();

  test('has hazards with unique ids, each with cause, effect, severity, likelihood, controls and residual risk', () => {
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    for (const r of rows) {
      expect(r.cells).toHaveLength(10);
      expect(SEVERITIES).toContain(r.severity);
      expect(LIKELIHOODS).toContain(r.likelihood);
      expect(r.controls.length).toBeGreaterThan(20);
      expect(r.tests.length).toBeGreaterThan(0);
    }
  });

  test('names only tests that exist in the suite', () => {
    const all = sources(path.join(__dirname, '..')).join('\n');
    const missing = rows.flatMap((r) => r.tests.filter((name) => !all.includes(name)).map((name) => `${r.id}: ${name}`));
    expect(missing).toEqual([]);
  });
});
