/**
 * The Grafana dashboard and its provisioning, read as Grafana would. Its queries are run against a
 * real Prometheus and its metric names checked against what the processes serve in
 * test/ops/alerting.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { dashboardQueries, metricNamesIn } from './dashboard-queries';

const GRAFANA = path.join(__dirname, '..', '..', 'deploy', 'grafana');
const FILE = path.join(GRAFANA, 'shortnotice.json');

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string }[];
}

describe('deploy/grafana/shortnotice.json', () => {
  const dashboard = JSON.parse(fs.readFileSync(FILE, 'utf8')) as {
    uid: string;
    title: string;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };

  it('when Grafana loads it, then it has a fixed uid, unique panel ids, panels within the 24-column grid, and each query on the chosen Prometheus', () => {
    expect(dashboard.uid).toBe('shortnotice');
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect([p.title, p.gridPos.x + p.gridPos.w <= 24, p.gridPos.h > 0]).toEqual([p.title, true, true]);
      if (p.type === 'row') continue;
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
      expect(p.targets!.length).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size).toBe(p.targets!.length);
    }
  });

  it("when its queries are read, then they cover the issue's metrics: HTTP, submissions, messages, bounces, escalations, obligations, schedule-to-start and the sticky cache", () => {
    const named = new Set(dashboardQueries(FILE).flatMap((q) => metricNamesIn(q.expr)));
    for (const metric of [
      'shortnotice_http_request_duration_seconds_bucket',
      'shortnotice_submissions_total',
      'shortnotice_submission_refusals_total',
      'shortnotice_messages_total',
      'shortnotice_message_bounces_total',
      'shortnotice_escalations_opened_total',
      'shortnotice_escalations_delivered_total',
      'shortnotice_escalations_acknowledged_total',
      'shortnotice_escalations_late_total',
      'shortnotice_obligations_open',
      'shortnotice_obligations_overdue',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
      'temporal_activity_schedule_to_start_latency_bucket',
      'temporal_sticky_cache_size',
    ])
      expect([metric, named.has(metric)]).toEqual([metric, true]);
  });

  it('when a query is read for metric names, then functions, labels, windows and keywords are not taken for metrics', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{route="/c/:token"}[$__rate_interval]))) > on() y',
      ),
    ).toEqual(['x_bucket', 'y']);
  });
});

describe('deploy/grafana/provisioning', () => {
  it('when Grafana starts, then Prometheus is its default data source and the dashboard folder is provisioned read-only', () => {
    const ds = parse(fs.readFileSync(path.join(GRAFANA, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string; isDefault: boolean }[];
    };
    expect(ds.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
    const dash = parse(
      fs.readFileSync(path.join(GRAFANA, 'provisioning', 'dashboards', 'shortnotice.yml'), 'utf8'),
    ) as {
      providers: { type: string; allowUiUpdates: boolean; options: { path: string } }[];
    };
    expect(dash.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        allowUiUpdates: false,
        options: { path: '/var/lib/grafana/dashboards' },
      }),
    ]);
  });
});
