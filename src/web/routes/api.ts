/** The v1 JSON API: submit cancellations and read a case. */
import express, { Router } from 'express';
import { submissionSchema, toFieldErrors } from '../../shared/api';
import type { WebContext } from '../context';

export const API_BODY_LIMIT = '100kb';

const notFound = { errors: [{ path: 'id', message: 'No such case' }] };

export function apiRoutes(ctx: WebContext): Router {
  const router = Router();
  router.use(express.json({ limit: API_BODY_LIMIT, strict: false }));

  router.post('/cancellations', async (req, res) => {
    if (!req.is('application/json')) {
      res.status(415).json({ errors: [{ path: '', message: 'Send the cancellation as JSON, with Content-Type: application/json' }] });
      return;
    }
    const parsed = submissionSchema(ctx.now()).safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ errors: toFieldErrors(parsed.error) });
      return;
    }
    const cases = await ctx.deps.cases.submit(parsed.data);
    res.status(201).json({
      cancellations: cases.map(({ caseId }) => ({ id: caseId, links: { self: `/api/cancellations/${caseId}` } })),
    });
  });

  router.get('/cancellations/:id', async (req, res) => {
    const view = await ctx.deps.cases.view(req.params.id);
    if (!view) {
      res.status(404).json(notFound);
      return;
    }
    res.json(view);
  });

  router.use((_req, res) => {
    res.status(404).json({ errors: [{ path: '', message: 'No such endpoint' }] });
  });
  return router;
}
