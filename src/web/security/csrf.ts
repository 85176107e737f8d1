/**
 * Cross-site request forgery defences for every form:
 * - a token in each form, an HMAC (key derived from SESSION_KEYS) of what the form belongs to:
 *   the staff member's session id, or, on a client's page, the client's link token. A site that
 *   knows neither cannot make one; a token lifted from one session is useless in another;
 * - the browser's own word on where the request came from: `Sec-Fetch-Site` must be
 *   same-origin (or none, a typed address), and `Origin`, when sent, must be this site (or
 *   "null" with Sec-Fetch-Site same-origin: what no-referrer pages send).
 * Either failure answers 403 before anything is read or started.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { NamedKey } from '../../keys';

export const CSRF_FIELD = '_csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class CsrfTokens {
  private readonly keys: Buffer[];

  constructor(sessionKeys: readonly NamedKey[]) {
    this.keys = sessionKeys.map((k) => Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), 'shortnotice csrf v1', 32)));
    if (this.keys.length === 0) throw new Error('CsrfTokens needs a key');
  }

  issue(binding: string): string {
    return this.mac(this.keys[0]!, binding).toString('base64url');
  }

  /** Shape first (no work on junk), then a constant-time comparison under each key. */
  verify(binding: string, token: unknown): boolean {
    if (typeof token !== 'string' || !TOKEN.test(token)) return false;
    const given = Buffer.from(token, 'base64url');
    // The last of 43 characters carries two spare bits: only the one true spelling counts.
    if (given.toString('base64url') !== token) return false;
    let ok = false;
    for (const key of this.keys) ok = timingSafeEqual(given, this.mac(key, binding)) || ok;
    return ok;
  }

  private mac(key: Buffer, binding: string): Buffer {
    return createHmac('sha256', key).update(`csrf\u0000${binding}`).digest();
  }
}

export const sessionBinding = (sid: string) => `session:${sid}`;
export const linkBinding = (token: string) => `link:${token}`;

/** The token a form posted (the first, if a hostile body repeats the field). */
export function postedToken(req: Request): unknown {
  const body = req.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[CSRF_FIELD] : undefined;
  return Array.isArray(value) ? value[0] : value;
}

/**
 * True when the browser says the request came from this site: `allowed` holds the origins this
 * site answers on (PUBLIC_BASE_URL's, and the one the request was addressed to).
 */
export function sameOrigin(req: Request, allowed: readonly string[]): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.get('origin');
  if (origin === undefined) return true;
  // Under Referrer-Policy: no-referrer, browsers send `Origin: null` on their own form posts; so
  // does a sandboxed frame elsewhere, which Sec-Fetch-Site (cross-site) then gives away.
  if (origin === 'null') return site === 'same-origin';
  return allowed.includes(origin);
}
