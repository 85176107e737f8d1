/**
 * Reads docs/safety/hazard-log.md: its rows, and the tests each row names as the proof of its
 * controls. Shared by the jest test of the log's shape and the reporter that checks the named
 * tests passed. Plain CommonJS, because a jest reporter is loaded without a transform.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

const LOG = path.join(__dirname, '..', '..', 'docs', 'safety', 'hazard-log.md');

/** Every hazard row: { id, hazard, controls, tests: string[] }. */
function hazards() {
  const rows = readFileSync(LOG, 'utf8')
    .split('\n')
    .filter((line) => /^\| H\d+ \|/.test(line));
  return rows.map((line) => {
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    return { id: cells[0], hazard: cells[1], severity: cells[4], likelihood: cells[5], controls: cells[7], tests: cells[9].split(';').map((t) => t.trim()).filter(Boolean), cells };
  });
}

/** Whether a test (its describe titles and its own title) is one a hazard row names. */
function matches(name, test) {
  const full = [...test.ancestorTitles, test.title].join(' ');
  return full.startsWith(name) || test.title.startsWith(name);
}

module.exports = { LOG, hazards, matches };
