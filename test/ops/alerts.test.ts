/**
 * The alert rules as promtool reads them: valid, and each one proven by the unit tests in
 * deploy/prometheus/alerts.test.yml to fire when provoked and to stay quiet when all is well.
 * test/ops/alerting.test.ts then fires them for real against the running app.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { prometheusBinary } from '../helpers/prometheus';

const DIR = path.join(__dirname, '..', '..', 'deploy', 'prometheus');
const run = (args: string[]) =>
  execFileSync(prometheusBinary('promtool'), args, { cwd: DIR, encoding: 'utf8', stdio: 'pipe' });

interface RuleFile {
  groups: { rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
}
interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const rules = parse(fs.readFileSync(path.join(DIR, 'alerts.yml'), 'utf8')) as RuleFile;
const alertNames = rules.groups.flatMap((g) => g.rules.map((r) => r.alert).filter((a): a is string => !!a));

describe('deploy/prometheus/alerts.yml', () => {
  it('when promtool checks the rule file, then it finds the six rules the issue asks for and no problem', () => {
    expect(run(['check', 'rules', 'alerts.yml'])).toMatch(/SUCCESS: 6 rules found/);
    expect(alertNames.sort()).toEqual([
      'ShortnoticeNotifyFailing',
      'ShortnoticeObligationOverdue',
      'ShortnoticeRiskAlertUnacknowledged',
      'ShortnoticeScheduleToStartHigh',
      'ShortnoticeSmtpFailing',
      'ShortnoticeWorkerWithoutPollers',
    ]);
  });

  it('when promtool runs the unit tests, then every rule fires when provoked and stays quiet when all is well', () => {
    expect(run(['test', 'rules', 'alerts.test.yml'])).toMatch(/SUCCESS/);
    const tests = parse(fs.readFileSync(path.join(DIR, 'alerts.test.yml'), 'utf8'), { merge: true }) as RuleTests;
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of alertNames) {
      const mine = cases.filter((c) => c.alertname === name);
      expect([name, mine.some((c) => c.exp_alerts.length > 0), mine.some((c) => c.exp_alerts.length === 0)]).toEqual([
        name,
        true,
        true,
      ]);
    }
  });

  it('when a rule fires, then its severity says page or ticket and it groups only by bounded labels', () => {
    const bounded = new Set(['le', 'owner', 'team', 'kind', 'task']);
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(page|ticket)$/)]);
      const grouped = [...rule.expr.matchAll(/by \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()));
      expect([rule.alert, grouped.filter((l) => !bounded.has(l))]).toEqual([rule.alert, []]);
    }
  });
});
