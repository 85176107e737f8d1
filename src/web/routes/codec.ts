/**
 * The codec server for the Temporal Web UI (and `temporal --codec-endpoint`): POST
 * /codec/encode and /codec/decode take and return `{ "payloads": [...] }`, each payload in
 * protobuf JSON form (metadata values and data in base64), for the namespace in X-Namespace.
 *
 * Decoding shows case data in the clear, so only these may call it:
 * - a clinical lead's session cookie, sent by the Web UI at TEMPORAL_UI_URL with "include
 *   cross-origin credentials" turned on (CORS allows that one origin, with credentials); a
 *   cookie-authenticated call must come from that origin;
 * - a bearer token from CODEC_TOKENS (command-line tools; no browser, no Origin);
 * - in development only (CODEC_OPEN_TO_LOCAL_UI, which `npm start` sets), the local Web UI on a
 *   loopback connection with no credentials at all. The dev server of Temporal CLI 1.5.1 passes
 *   the UI a codec endpoint but no "include credentials" setting, and the UI then follows the
 *   cluster's (off), so a lead's cookie never arrives. Where this is allowed (the development
 *   sign-in, app and UI on loopback) anyone at the machine could sign in as a lead anyway.
 * Therapists see their own cases only, which a codec cannot tell apart, so they are refused.
 * Any other origin gets 403 and no CORS headers, so its page cannot read the answer either.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { isCaseId } from '../../shared/ids';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../temporal/codec';
import type { WebContext } from '../context';
import { bearerMatcher } from '../security/auth';
import { sessionOf } from '../security/session';

const CODEC_BODY_LIMIT = '4mb';
const MAX_PAYLOADS = 1000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const base64 = z.string().max(6_000_000).regex(BASE64, 'must be base64');
const bodySchema = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string().max(200), base64).optional(),
        data: base64.optional(),
      }),
    )
    .max(MAX_PAYLOADS),
});

type JsonPayload = { metadata?: Record<string, string>; data?: string };

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
  data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const JSON_ENCODING = 'json/plain';

/** A connection from this machine (the socket's own address: X-Forwarded-For cannot fake it). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return a === '::1' || /^127(\.\d{1,3}){3}$/.test(a);
}

/**
 * The case each decoded payload belongs to, by the `caseId` it carries (a case input, a case
 * view, a notice, a records query); payloads that name none (an update's arguments, say) count
 * under null. Bounded: hostile input must not make this walk expensive.
 */
export function casesIn(payloads: Payload[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const p of payloads) {
    const found = new Set<string>();
    const encoding = p.metadata?.encoding ? Buffer.from(p.metadata.encoding).toString('utf8') : '';
    // Left encrypted (a retired key): nothing of it was shown.
    if (encoding === ENCRYPTED_ENCODING) continue;
    if (encoding === JSON_ENCODING) {
      try {
        let budget = 10_000;
        const walk = (node: unknown, depth: number): void => {
          if (budget-- <= 0 || depth > 8 || node === null || typeof node !== 'object') return;
          for (const [k, v] of Object.entries(node)) {
            if (k === 'caseId' && typeof v === 'string' && isCaseId(v)) found.add(v);
            else walk(v, depth + 1);
          }
        };
        walk(JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString('utf8')), 0);
      } catch {
        // Not JSON after all: it names no case.
      }
    }
    for (const id of found.size > 0 ? found : [null]) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export function codecRoutes(ctx: WebContext): Router {
  const { config } = ctx.deps;
  const router = Router();
  const uiOrigin = new URL(config.temporal.uiUrl).origin;
  const codec = new AesGcmPayloadCodec(config.payloadKeys);
  const matchToken = bearerMatcher(config.auth.codecTokens);
  const fail = (res: Response, status: number, message: string) => res.status(status).json({ message });

  // CORS for the Web UI's origin only; everything else is refused before anything is read.
  router.use((req: Request, res: Response, next: NextFunction) => {
    res.set('Vary', 'Origin');
    const origin = req.get('origin');
    if (origin !== undefined && origin !== uiOrigin) {
      ctx.log.warn({ event: 'codec-refused', reason: 'origin' }, 'codec request from another origin');
      fail(res, 403, 'This origin may not use the codec');
      return;
    }
    if (origin === uiOrigin) {
      res.set({ 'Access-Control-Allow-Origin': uiOrigin, 'Access-Control-Allow-Credentials': 'true' });
    }
    if (req.method === 'OPTIONS') {
      if (origin !== uiOrigin) {
        fail(res, 403, 'This origin may not use the codec');
        return;
      }
      res.set({
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      res.status(204).end();
      return;
    }
    if (req.method !== 'POST') {
      res.set('Allow', 'POST, OPTIONS');
      fail(res, 405, 'Use POST');
      return;
    }
    next();
  });

  /** Who is calling, as the audit stream records them; undefined when nobody may. */
  const callerOf = (req: Request): { caller: string; reader: { who: string; role: string } } | undefined => {
    const token = matchToken(req.get('authorization'));
    if (token) return { caller: `token:${token.name}`, reader: { who: token.name, role: 'codec-token' } };
    const user = sessionOf(req).user;
    const fromUi = req.get('origin') === uiOrigin;
    // A cookie rides along on any request the browser makes, so it counts only from the Web UI.
    if (user?.role === 'clinical-lead' && fromUi) {
      return { caller: `staff:${user.ref}`, reader: { who: user.ref, role: user.role } };
    }
    if (config.auth.codecOpenToLocalUi && fromUi && isLoopbackAddress(req.socket.remoteAddress)) {
      return { caller: 'local-web-ui', reader: { who: 'local-web-ui', role: 'development' } };
    }
    return undefined;
  };

  router.use((req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(req);
    if (!caller) {
      // Therapists and the escalation team: a codec cannot tell one case from another.
      const user = sessionOf(req).user;
      const wrongRole = user !== undefined && user.role !== 'clinical-lead';
      ctx.log.warn({ event: 'codec-refused', reason: wrongRole ? 'role' : 'unauthenticated' }, 'codec request refused');
      res.set('WWW-Authenticate', 'Bearer realm="shortnotice-codec"');
      if (wrongRole) fail(res, 403, 'Only a clinical lead may decode case data');
      else fail(res, 401, 'Sign in as a clinical lead and use the Temporal Web UI, or send a codec token');
      return;
    }
    if (req.get('x-namespace') !== config.temporal.namespace) {
      fail(res, 400, `X-Namespace must be ${config.temporal.namespace}`);
      return;
    }
    res.set('Cache-Control', 'no-store');
    res.locals.codecCaller = caller.caller;
    res.locals.codecReader = caller.reader;
    next();
  });

  router.use(express.json({ limit: CODEC_BODY_LIMIT }));

  const handle = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const parsed = bodySchema.safeParse(req.body);
    if (!parsed.success) {
      fail(res, 400, 'Send {"payloads": [...]} with base64 metadata and data');
      return;
    }
    const payloads = parsed.data.payloads.map(fromJson);
    let out: Payload[];
    if (direction === 'encode') {
      out = await codec.encode(payloads);
    } else {
      // One payload that will not decode (a retired key) must not hide the rest: it stays as it is.
      out = await Promise.all(
        payloads.map(async (p) => {
          try {
            return (await codec.decode([p]))[0]!;
          } catch (e) {
            ctx.log.warn({ event: 'codec-undecodable', err: e }, 'a payload could not be decoded');
            return p;
          }
        }),
      );
    }
    if (direction === 'decode') {
      // Accountable reads: one audit entry per case whose data this answer shows.
      const reader = res.locals.codecReader as { who: string; role: string };
      for (const [caseId, count] of casesIn(out)) {
        ctx.audit.read({ ...reader, caseId, via: 'codec', what: `${count} decoded payload${count === 1 ? '' : 's'}` });
      }
    }
    ctx.log.info({ event: `codec-${direction}`, caller: res.locals.codecCaller as string, payloads: out.length }, `codec ${direction}`);
    res.json({ payloads: out.map(toJson) });
  };

  router.post('/encode', handle('encode'));
  router.post('/decode', handle('decode'));
  router.use((_req, res) => fail(res, 404, 'Use /codec/encode or /codec/decode'));
  return router;
}
