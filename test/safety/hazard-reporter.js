/**
 * A jest reporter that fails the run when a test the hazard log names as proof of a control did
 * not run, or did not pass. Active when HAZARD_CHECK=1 (npm test sets it), so running a single
 * test file does not fail for the others.
 */
const { hazards, matches } = require('./hazard-log');

class HazardReporter {
  onRunComplete(_contexts, results) {
    this.error = undefined;
    if (process.env.HAZARD_CHECK !== '1') return;
    const tests = results.testResults.flatMap((file) => file.testResults);
    const problems = [];
    for (const h of hazards()) {
      for (const name of h.tests) {
        const found = tests.filter((t) => matches(name, t));
        if (found.length === 0) problems.push(`${h.id}: no test named "${name}" ran`);
        else if (found.some((t) => t.status !== 'passed')) problems.push(`${h.id}: "${name}" did not pass`);
      }
    }
    if (problems.length > 0) {
      process.stderr.write(`\nHazard log (docs/safety/hazard-log.md): controls not proven:\n- ${problems.join('\n- ')}\n`);
      this.error = new Error('The hazard log names tests that did not run or did not pass');
    } else {
      const count = hazards().reduce((n, h) => n + h.tests.length, 0);
      process.stdout.write(`\nHazard log: all ${count} tests named as proof of its controls ran and passed.\n`);
    }
  }

  getLastError() {
    return this.error;
  }
}

module.exports = HazardReporter;
