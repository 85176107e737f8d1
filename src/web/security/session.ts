/**
 * Staff sessions in one sealed cookie (AES-256-GCM under SESSION_KEYS, like client links): the
 * browser holds the state, which it can neither read nor alter, so no session store is needed
 * and any web instance can serve any request.
 *
 * The cookie is HttpOnly and SameSite=Lax; when PUBLIC_BASE_URL is https it is also Secure and
 * named `__Host-…` (no Domain, Path=/), which browsers only accept over https. Over plain
 * http (development on localhost) it is neither, or the browser would drop it.
 *
 * A session expires after an idle period and, however active, after an absolute lifetime.
 * Signing in always starts a new session (new id, new CSRF binding, new clock), so a session
 * planted before sign-in is worthless after it. Sign-out clears the cookie; as with any
 * stateless session, a copy stolen before then stays usable until one of the timeouts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AuthConfig, StaffRole } from '../../config';
import type { NamedKey } from '../../keys';
import type { StaffTeam as Team } from '../../shared/case';

export interface StaffUser {
  role: StaffRole;
  /**
   * An escalation-team member's team: risk duty, the clinical network team or support (from
   * OIDC_TEAM_CLAIM, or chosen at the development sign-in). Only for that role; absent when the
   * identity provider names none, or several, so nobody gets a team's powers by ambiguity.
   */
  team?: Team;
  /** Staff reference: recorded as `by` on every action; a therapist's matches therapistId. */
  ref: string;
  name: string;
  email?: string;
  via: 'dev' | 'oidc';
}

export interface OidcTransaction {
  state: string;
  nonce: string;
  verifier: string;
  startedAt: number;
}

export interface SessionData {
  /** Random id; binds CSRF tokens to this session. */
  sid: string;
  createdAt: number;
  seenAt: number;
  user?: StaffUser;
  /** Where to go after signing in (a path on this site). */
  returnTo?: string;
  oidc?: OidcTransaction;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_COOKIE_LENGTH = 4096;
/** An active session's cookie is rewritten at most this often, to move its idle deadline. */
const TOUCH_EVERY_MS = 60_000;

export class SessionSealer {
  constructor(private readonly keys: readonly NamedKey[]) {
    if (keys.length === 0) throw new Error('SessionSealer needs a key');
  }

  seal(data: SessionData): string {
    const key = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv);
    cipher.setAAD(Buffer.from(`session:${key.id}`));
    const sealed = Buffer.concat([iv, cipher.update(JSON.stringify(data), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${key.id}.${sealed.toString('base64url')}`;
  }

  open(value: string): SessionData | undefined {
    if (value.length > MAX_COOKIE_LENGTH) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const key = this.keys.find((k) => k.id === value.slice(0, dot));
    const data = value.slice(dot + 1);
    if (!key || !/^[A-Za-z0-9_-]+$/.test(data)) return undefined;
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2 || raw.toString('base64url') !== data) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(`session:${key.id}`));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      const parsed = JSON.parse(plain.toString('utf8')) as SessionData;
      if (typeof parsed.sid !== 'string' || typeof parsed.createdAt !== 'number' || typeof parsed.seenAt !== 'number') return undefined;
      return parsed;
    } catch {
      return undefined;
    }
  }
}

export interface SessionOptions {
  auth: AuthConfig;
  now: () => number;
}

export const cookieName = (auth: AuthConfig) => (auth.secureCookies ? '__Host-shortnotice' : 'shortnotice');

/** The values of every cookie called `name` in a Cookie header (a planted duplicate may come first). */
function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  return header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${name}=`))
    .map((part) => part.slice(name.length + 1));
}

/** The session of one request: read once, written back whenever it changes. */
export class Session {
  private current: SessionData | undefined;

  constructor(
    private readonly res: Response,
    private readonly sealer: SessionSealer,
    private readonly options: SessionOptions,
    data: SessionData | undefined,
  ) {
    this.current = data;
  }

  get data(): SessionData | undefined {
    return this.current;
  }

  get user(): StaffUser | undefined {
    return this.current?.user;
  }

  /** The session, starting an anonymous one (for a sign-in form's CSRF token) if there is none. */
  ensure(): SessionData {
    if (!this.current) {
      const now = this.options.now();
      this.current = { sid: randomBytes(16).toString('base64url'), createdAt: now, seenAt: now };
      this.commit();
    }
    return this.current;
  }

  update(change: Partial<Omit<SessionData, 'sid' | 'createdAt'>>): void {
    this.current = { ...this.ensure(), ...change };
    this.commit();
  }

  /** A new session for `user`: nothing from before sign-in carries over but where to go next. */
  signIn(user: StaffUser): SessionData {
    const now = this.options.now();
    this.current = { sid: randomBytes(16).toString('base64url'), createdAt: now, seenAt: now, user };
    this.commit();
    return this.current;
  }

  destroy(): void {
    this.current = undefined;
    this.writeCookie('', 0);
  }

  private commit(): void {
    if (this.current) this.writeCookie(this.sealer.seal(this.current));
  }

  private writeCookie(value: string, maxAge?: number): void {
    const name = cookieName(this.options.auth);
    const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
    if (this.options.auth.secureCookies) parts.push('Secure');
    if (maxAge !== undefined) parts.push(`Max-Age=${maxAge}`);
    const existing = this.res.getHeader('Set-Cookie');
    const others = (Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]).filter((c) => !c.startsWith(`${name}=`));
    this.res.setHeader('Set-Cookie', [...others, parts.join('; ')]);
  }
}

const SESSIONS = new WeakMap<Request, Session>();

/** The request's session; the session middleware must have run. */
export function sessionOf(req: Request): Session {
  const session = SESSIONS.get(req);
  if (!session) throw new Error('sessionMiddleware has not run for this request');
  return session;
}

/** Reads the session cookie; drops a session past its idle or absolute timeout. */
export function sessionMiddleware(options: SessionOptions) {
  const sealer = new SessionSealer(options.auth.sessionKeys);
  const name = cookieName(options.auth);
  return (req: Request, res: Response, next: NextFunction): void => {
    const now = options.now();
    let data: SessionData | undefined;
    let stale = false;
    for (const value of cookieValues(req.headers.cookie, name)) {
      const opened = sealer.open(value);
      if (!opened) {
        stale = true;
        continue;
      }
      const idle = now - opened.seenAt > options.auth.idleTimeoutMs;
      const tooOld = now - opened.createdAt > options.auth.absoluteTimeoutMs;
      if (idle || tooOld || opened.createdAt > now + 60_000) {
        stale = true;
        continue;
      }
      data = opened;
      break;
    }
    const session = new Session(res, sealer, options, data);
    SESSIONS.set(req, session);
    if (data?.user && now - data.seenAt > TOUCH_EVERY_MS) session.update({ seenAt: now });
    else if (!data && stale) session.destroy();
    next();
  };
}
