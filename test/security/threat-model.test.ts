/**
 * docs/security.md's threat model names, for each control, the test that proves it. A renamed or
 * deleted test would leave the table claiming a proof that no longer exists: this fails then.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? testFiles(p) : e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('the threat model in docs/security.md', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'security.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Threat model'), doc.indexOf('\n## ', doc.indexOf('## Threat model') + 1));
  const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| asset') && !l.startsWith('|---'));
  const sources = testFiles(path.join(ROOT, 'test'))
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');

  it('when its rows are read, then each names an asset, a threat, a control and a test (or the issue it waits for)', () => {
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (const row of rows) {
      const cells = row.split(' | ').map((c) => c.replace(/^\|\s*|\s*\|$/g, '').trim());
      expect({ row, cells: cells.length }).toEqual({ row, cells: 4 });
      expect({ row, test: /`[^`]+`|^pending: /.test(cells[3]!) }).toEqual({ row, test: true });
    }
  });

  it('when a test is named, then a test of that name exists under test/', () => {
    const named = rows.flatMap((r) =>
      [
        ...r
          .split(' | ')
          .at(-1)!
          .matchAll(/`([^`]+)`/g),
      ].map((m) => m[1]!),
    );
    expect(named.length).toBeGreaterThanOrEqual(20);
    expect(named.filter((name) => !sources.includes(name))).toEqual([]);
  });
});
