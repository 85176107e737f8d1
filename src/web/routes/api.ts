/**
 * The v1 JSON API: submit cancellations and read a case. Integrations authenticate with a
 * bearer token from API_TOKENS; there are no cookies here, so no CSRF to defend against.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { submissionSchema, toFieldErrors } from '../../shared/api';
import type { WebContext } from '../context';
import { bearerMatcher } from '../security/auth';
import { methodNotAllowed } from '../security/guards';

export const API_BODY_LIMIT = '100kb';

const notFound = { errors: [{ path: 'id', message: 'No such case' }] };

export function apiRoutes(ctx: WebContext): Router {
  const router = Router();
  const match = bearerMatcher(ctx.deps.config.auth.apiTokens);

  router.use((req: Request, res: Response, next: NextFunction) => {
    const caller = match(req.get('authorization'));
    if (!caller) {
      res.set('WWW-Authenticate', 'Bearer realm="shortnotice"');
      res.status(401).json({ errors: [{ path: '', message: 'Send an API token: Authorization: Bearer <token>' }] });
      return;
    }
    res.locals.apiCaller = caller.name;
    next();
  });
  router.use(express.json({ limit: API_BODY_LIMIT, strict: false }));

  router
    .route('/cancellations')
    .post(async (req, res) => {
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
      ctx.log.info({ event: 'cancellations-submitted', caller: `token:${res.locals.apiCaller as string}`, cases: cases.map((c) => c.caseId) }, 'cancellations submitted through the API');
      res.status(201).json({
        // changesIgnored: this session was submitted before with other details, which still stand.
        cancellations: cases.map(({ caseId, changesIgnored }) => ({ id: caseId, links: { self: `/api/cancellations/${caseId}` }, ...(changesIgnored ? { changesIgnored } : {}) })),
      });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/cancellations/:id')
    .get(async (req, res) => {
      const view = await ctx.deps.cases.view(req.params.id);
      if (!view) {
        res.status(404).json(notFound);
        return;
      }
      // The risk note is for clinical staff on the authenticated case page, not for integrations.
      const { riskNote: _riskNote, ...forIntegrations } = view;
      res.json(forIntegrations);
    })
    .all(methodNotAllowed('GET, HEAD'));

  router.use((_req, res) => {
    res.status(404).json({ errors: [{ path: '', message: 'No such endpoint' }] });
  });
  return router;
}
