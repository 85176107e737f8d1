/**
 * Client links: opaque, expiring, purpose-bound tokens sealed with AES-256-GCM under a key id,
 * so a token reveals nothing (not even the case id), cannot be forged or altered, and keys can
 * rotate: the first key seals, every listed key opens.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { parseKeyList, type NamedKey } from './keys';

export type LinkPurpose = 'choose';

export type LinkKey = NamedKey;

export interface OpenedLink {
  caseId: string;
  purpose: LinkPurpose;
  expiresAt: number;
}

export type LinkFailure = 'malformed' | 'unknown-key' | 'tampered' | 'expired' | 'wrong-purpose';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Caps the work done on hostile input before any crypto runs. */
const MAX_TOKEN_LENGTH = 256;

/** Purposes as one byte in a sealed body (the high bit says the case id is packed as hex). */
const PURPOSE_CODES: Record<LinkPurpose, number> = { choose: 1 };
const HEX_ID = 0x80;
/** A sealed body in the compact form starts with this byte; the first form was JSON ('{'). */
const COMPACT = 0x01;
const CASE_ID_HEX = /^c[0-9a-f]{20}$/;

/**
 * The sealed body, compactly: the link goes into a text message, where every character counts
 * (two segments at most). Version, purpose, expiry in whole seconds, then the case id (its 20
 * hex digits packed into 10 bytes when it has the usual form). The same AES-256-GCM seals it.
 */
function packBody(caseId: string, purpose: LinkPurpose, expiresAt: number): Buffer {
  const hex = CASE_ID_HEX.test(caseId);
  const head = Buffer.alloc(6);
  head[0] = COMPACT;
  // 0: a purpose this version does not know (it opens for none).
  head[1] = (PURPOSE_CODES[purpose] ?? 0) | (hex ? HEX_ID : 0);
  head.writeUInt32BE(Math.floor(expiresAt / 1000), 2);
  return Buffer.concat([head, hex ? Buffer.from(caseId.slice(1), 'hex') : Buffer.from(caseId, 'utf8')]);
}

function unpackBody(plain: Buffer): { c: string; p: string; e: number } | undefined {
  if (plain[0] === 0x7b) return JSON.parse(plain.toString('utf8')) as { c: string; p: string; e: number };
  if (plain[0] !== COMPACT || plain.length < 7) return undefined;
  const code = plain[1]! & ~HEX_ID;
  const purpose = (Object.keys(PURPOSE_CODES) as LinkPurpose[]).find((k) => PURPOSE_CODES[k] === code);
  const rest = plain.subarray(6);
  const caseId = plain[1]! & HEX_ID ? `c${rest.toString('hex')}` : rest.toString('utf8');
  return { c: caseId, p: purpose ?? 'unknown', e: plain.readUInt32BE(2) * 1000 };
}

/** Parses LINK_KEYS: `kid:base64key[,kid:base64key...]`, each key 32 bytes. */
export const parseLinkKeys = parseKeyList;

export class LinkSealer {
  constructor(
    private readonly keys: LinkKey[],
    private readonly now: () => number = Date.now,
  ) {
    if (keys.length === 0) throw new Error('LinkSealer needs a key');
  }

  seal(caseId: string, purpose: LinkPurpose, ttlMs: number): string {
    const current = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(current.id));
    const body = packBody(caseId, purpose, this.now() + ttlMs);
    const sealed = Buffer.concat([iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    return `${current.id}.${sealed.toString('base64url')}`;
  }

  open(token: string, purpose: LinkPurpose): { ok: true; link: OpenedLink } | { ok: false; reason: LinkFailure } {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
    const dot = token.indexOf('.');
    if (dot <= 0) return { ok: false, reason: 'malformed' };
    const kid = token.slice(0, dot);
    const data = token.slice(dot + 1);
    if (!/^[A-Za-z0-9_-]+$/.test(data)) return { ok: false, reason: 'malformed' };
    const key = this.keys.find((k) => k.id === kid);
    if (!key) return { ok: false, reason: 'unknown-key' };
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2) return { ok: false, reason: 'malformed' };
    // Base64 leaves spare bits in its last character: without this, several spellings of one
    // token would all open, and a "changed" link could still work.
    if (raw.toString('base64url') !== data) return { ok: false, reason: 'malformed' };
    let body: unknown;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(key.id));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      // Links sealed before the compact form carry JSON; both still open.
      body = unpackBody(plain);
    } catch {
      return { ok: false, reason: 'tampered' };
    }
    const b = (body ?? {}) as { c?: unknown; p?: unknown; e?: unknown };
    if (typeof b.c !== 'string' || typeof b.p !== 'string' || typeof b.e !== 'number') return { ok: false, reason: 'tampered' };
    if (b.p !== purpose) return { ok: false, reason: 'wrong-purpose' };
    if (b.e <= this.now()) return { ok: false, reason: 'expired' };
    return { ok: true, link: { caseId: b.c, purpose: b.p, expiresAt: b.e } };
  }
}
