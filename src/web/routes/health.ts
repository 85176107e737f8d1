/**
 * /healthz, /readyz and /metrics on the web app: unauthenticated, no session, no rate limit, no log
 * line per request, and exempt from the Host allow-list (an orchestrator or Prometheus calls them
 * by address). None of them carries personal data or a secret: /readyz names its checks in fixed
 * words, /metrics has bounded labels only (src/ops/metrics.ts).
 */
import { Router } from 'express';
import { metricsText } from '../../ops/metrics';
import type { WebOps } from '../context';

export const HEALTH_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

export function healthRoutes(ops: WebOps | undefined): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  if (!ops) return router;
  router.get('/readyz', async (_req, res) => {
    const report = await ops.readiness.evaluate();
    res.status(report.status === 'ready' ? 200 : 503).json(report);
  });
  router.get('/metrics', async (_req, res) => {
    // Fresh readiness and case gauges for the scrape; each is cached, so scrapes stay cheap.
    await Promise.all([ops.readiness.evaluate(), ops.caseGauges?.refresh()]);
    const m = await metricsText(ops.metrics.registry);
    res.type(m.contentType).send(m.body);
  });
  return router;
}
