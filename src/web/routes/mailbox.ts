/**
 * The development mailbox: what the app would have emailed, for a developer without an SMTP
 * server. A message's HTML is served on its own route with a sandboxing CSP and shown only in a
 * sandboxed frame, so nothing in an email can run as this site.
 */
import { Router } from 'express';
import type { WebContext } from '../context';
import type { Mailbox } from '../mailbox';
import { staffOnly } from '../security/guards';

const MAIL_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function mailboxRoutes(ctx: WebContext, mailbox: Mailbox): Router {
  const router = Router();
  // What was "sent" carries clients' names and addresses: staff only, like the case pages.
  router.use('/dev/mailbox', ...staffOnly(ctx));

  router.get('/dev/mailbox', async (_req, res) => {
    const messages = await mailbox.list();
    ctx.render(res, 200, 'dev/mailbox.njk', { messages });
  });

  router.get('/dev/mailbox/:id', async (req, res) => {
    const message = MAIL_ID.test(req.params.id) ? await mailbox.read(req.params.id) : undefined;
    if (!message) {
      ctx.render(res, 404, 'not-found.njk', { what: 'message' });
      return;
    }
    ctx.render(res, 200, 'dev/message.njk', { message });
  });

  router.get('/dev/mailbox/:id/html', async (req, res) => {
    const message = MAIL_ID.test(req.params.id) ? await mailbox.read(req.params.id) : undefined;
    if (!message?.html) {
      res.status(404).type('text').send('No HTML version');
      return;
    }
    res.set({
      'Content-Security-Policy': "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
      'X-Frame-Options': 'SAMEORIGIN',
    });
    res.type('html').send(message.html);
  });

  return router;
}
