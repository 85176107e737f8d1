/**
 * POST /hooks/bounces: mail relays report what became of our email. A relay (or a mail pipe)
 * posts the delivery status notification it received, raw (message/rfc822 or multipart/report),
 * or a summary in JSON; each report is matched to its case and step by our deterministic
 * Message-ID and passed to the case as a signal. Callers present a bearer token from
 * BOUNCE_TOKENS; there are no cookies here, so no CSRF to defend against.
 */
import express, { Router, type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { parseDsn, UnreadableReport } from '../../delivery/dsn';
import {
  bounceJsonSchema,
  findingsFromDsn,
  findingsFromJson,
  matchFindings,
  type Finding,
} from '../../delivery/reports';
import { toFieldErrors } from '../../shared/api';
import type { WebContext } from '../context';
import { bearerMatcher } from '../security/auth';
import { limiter } from '../security/limits';

/**
 * We ask for the headers only (RET=HDRS), so a report is a few kilobytes; a relay that returns
 * the whole message still fits, since our messages are short.
 */
export const BOUNCE_BODY_LIMIT = '256kb';

/** The raw forms: the DSN email itself, or its multipart/report body with the boundary in Content-Type. */
const RAW_TYPES = ['message/rfc822', 'multipart/report'];

const problem = (message: string, path = '') => ({ errors: [{ path, message }] });

export function hookRoutes(ctx: WebContext): Router {
  const router = Router();
  const match = bearerMatcher(ctx.deps.config.auth.bounceTokens);

  // Counted before the token is checked, so guessing tokens is slow too.
  router.use(
    limiter(ctx.limits.api, ctx.log, (_req, res) => {
      ctx.log.warn({ event: 'rate-limited', route: '/hooks' }, 'too many requests');
      res.status(429).json(problem('Too many requests: wait a minute and try again'));
    }),
  );
  router.use((req: Request, res: Response, next: NextFunction) => {
    const caller = match(req.get('authorization'));
    if (!caller) {
      res.set('WWW-Authenticate', 'Bearer realm="shortnotice"');
      res.status(401).json(problem('Send a bounce token: Authorization: Bearer <token>'));
      return;
    }
    res.locals.hookCaller = caller.name;
    next();
  });
  router.use(express.json({ limit: BOUNCE_BODY_LIMIT, strict: false }));
  router.use(express.raw({ type: RAW_TYPES, limit: BOUNCE_BODY_LIMIT }));

  router
    .route('/bounces')
    .post(async (req, res) => {
      let findings: Finding[];
      if (req.is('application/json')) {
        const parsed = bounceJsonSchema.safeParse(req.body);
        if (!parsed.success) {
          res.status(400).json({ errors: toFieldErrors(parsed.error) });
          return;
        }
        findings = findingsFromJson(parsed.data);
      } else if (req.is(RAW_TYPES)) {
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (body.length === 0) {
          res.status(400).json(problem('The request has no body: post the delivery status notification'));
          return;
        }
        try {
          findings = findingsFromDsn(await parseDsn(asMessage(req, body)));
        } catch (e) {
          if (!(e instanceof UnreadableReport)) throw e;
          res.status(400).json(problem(e.message));
          return;
        }
      } else {
        res
          .status(415)
          .json(
            problem(`Post a delivery status notification as ${RAW_TYPES.join(' or ')}, or reports as application/json`),
          );
        return;
      }

      const { reports, counts } = matchFindings(findings);
      let signalled = 0;
      let ignored = 0;
      try {
        for (const { caseId, report } of reports) {
          if (await ctx.deps.cases.reportDelivery(caseId, report)) {
            signalled++;
            // The hook serves mail relays: a failed report is an email that bounced.
            if (report.status === 'failed') ctx.deps.ops?.metrics.bounces.inc({ channel: 'email' });
          } else ignored++;
        }
      } catch (err) {
        // Reports already passed on are harmless to repeat (a case takes each message's outcome once).
        ctx.log.error(
          { event: 'bounce-signal-failed', caller: res.locals.hookCaller as string, err },
          'a delivery report could not reach its case',
        );
        res.status(503).json(problem('The cases could not be reached just now: post the report again later'));
        return;
      }
      const answer = { ...counts, signalled, ignored };
      ctx.log.info(
        {
          event: 'bounces-received',
          caller: res.locals.hookCaller as string,
          ...answer,
          reports: reports.map((r) => `${r.caseId}/${r.report.step}:${r.report.status}`),
        },
        'delivery reports received',
      );
      res.status(202).json(answer);
    })
    .all((_req, res) => {
      res.set('Allow', 'POST');
      res.status(405).json(problem('Use POST on this endpoint'));
    });

  router.use((_req, res) => {
    res.status(404).json(problem('No such endpoint'));
  });

  // Every failure answered as JSON without a stack trace: the body parsers' refusals (too large,
  // not JSON) with their status, anything else as 500.
  const onError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = (err ?? {}) as { status?: number; type?: string };
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 500 ? e.status : 500;
    if (status === 413) {
      res.status(413).json(problem(`The request is too large: send at most ${BOUNCE_BODY_LIMIT.replace('kb', ' kB')}`));
    } else if (e.type === 'entity.parse.failed') {
      res.status(400).json(problem('The request body is not valid JSON'));
    } else if (status < 500) {
      res.status(status).json(problem('The request could not be read'));
    } else {
      ctx.log.error({ event: 'request-failed', route: '/hooks/bounces', err }, 'request failed');
      res.status(500).json(problem('Something went wrong on our side: post the report again later'));
    }
  };
  router.use(onError);
  return router;
}

/** The DSN as a whole message: a bare multipart/report body gets the Content-Type (and boundary) it came with. */
function asMessage(req: Request, body: Buffer): Buffer {
  if (req.is('message/rfc822')) return body;
  const type = (req.get('content-type') ?? '').replace(/[\r\n]/g, ' ');
  return Buffer.concat([Buffer.from(`MIME-Version: 1.0\r\nContent-Type: ${type}\r\n\r\n`), body]);
}
