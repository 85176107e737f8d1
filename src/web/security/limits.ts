/**
 * Request rate limits per client address (express-rate-limit, in memory: each web instance
 * counts its own). The address is the one `trust proxy` (TRUST_PROXY_HOPS) makes of
 * X-Forwarded-For: with the hop count right, a client cannot pick its own address.
 */
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Request, Response } from 'express';
import type { Logger } from '../../log';
import type { ClientActionLimits } from './client-actions';

export interface RateWindow {
  limit: number;
  windowMs: number;
}

export interface RateLimits {
  /** Sign-in pages, the OIDC callback and the development sign-in form. */
  signIn: RateWindow;
  /** The JSON API, counted before the token is checked so guessing tokens is slow too. */
  api: RateWindow;
  /** Client link pages (GET and POST). */
  clientLinks: RateWindow;
  /** The codec endpoint (the Web UI asks once per batch of payloads it shows). */
  codec: RateWindow;
  /** What one client link, and one case across its links, may do a day (S2; client-actions.ts). */
  clientActions: ClientActionLimits;
}

const MINUTE = 60_000;

export const DEFAULT_RATE_LIMITS: RateLimits = {
  // An office behind one address signs in many people at nine o'clock.
  signIn: { limit: 60, windowMs: 15 * MINUTE },
  api: { limit: 300, windowMs: MINUTE },
  clientLinks: { limit: 60, windowMs: 15 * MINUTE },
  codec: { limit: 1200, windowMs: MINUTE },
  // A client acts a handful of times at most (a choice, a call request, "cannot wait"); each
  // message brings a new link, so a case gets more than one link's worth.
  clientActions: {
    perLink: { limit: 5, windowMs: 24 * 60 * MINUTE },
    perCase: { limit: 10, windowMs: 24 * 60 * MINUTE },
  },
};

export function limiter(window: RateWindow, logger: Logger, refuse: (req: Request, res: Response) => void): RateLimitRequestHandler {
  return rateLimit({
    windowMs: window.windowMs,
    limit: window.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (req, res) => refuse(req, res),
    logger: {
      warn: (error, message) => logger.warn({ component: 'rate-limit', err: error }, message ?? 'rate limiter warning'),
      error: (error, message) => logger.error({ component: 'rate-limit', err: error }, message ?? 'rate limiter failed'),
    },
  });
}
