import { randomBytes } from 'node:crypto';
import { LinkSealer, parseLinkKeys } from '../../src/links';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('client links', () => {
  test('a sealed link opens to its case and purpose, and reveals neither in the token', () => {
    const sealer = new LinkSealer([key('k1')]);
    const token = sealer.seal('c0123456789abcdef0123', 'choose', 60_000);
    expect(token).not.toContain('c0123456789abcdef0123');
    expect(token).toMatch(/^k1\.[A-Za-z0-9_-]+$/);
    expect(sealer.open(token, 'choose')).toEqual({ ok: true, link: expect.objectContaining({ caseId: 'c0123456789abcdef0123', purpose: 'choose' }) });
  });

  test('a tampered, truncated, expired or unknown-key link is refused with a reason', () => {
    let clock = 1_000_000;
    const k1 = key('k1');
    const sealer = new LinkSealer([k1], () => clock);
    const token = sealer.seal('c1', 'choose', 60_000);
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    expect(sealer.open(flipped, 'choose')).toEqual({ ok: false, reason: 'tampered' });
    expect(sealer.open(token.slice(0, 10), 'choose')).toEqual({ ok: false, reason: 'malformed' });
    expect(new LinkSealer([key('k2')]).open(token, 'choose')).toEqual({ ok: false, reason: 'unknown-key' });
    expect(new LinkSealer([{ id: 'k1', key: randomBytes(32) }]).open(token, 'choose')).toEqual({ ok: false, reason: 'tampered' });
    clock += 60_001;
    expect(sealer.open(token, 'choose')).toEqual({ ok: false, reason: 'expired' });
    expect(sealer.open('x'.repeat(5000), 'choose')).toEqual({ ok: false, reason: 'malformed' });
  });

  test('after a key rotation, links sealed with the old key still open and new links use the new key', () => {
    const old = key('old');
    const fresh = key('new');
    const token = new LinkSealer([old]).seal('c1', 'choose', 60_000);
    const rotated = new LinkSealer([fresh, old]);
    expect(rotated.open(token, 'choose').ok).toBe(true);
    expect(rotated.seal('c1', 'choose', 60_000)).toMatch(/^new\./);
  });

  test('LINK_KEYS must be keyId:base64 of 32 bytes', () => {
    const b64 = randomBytes(32).toString('base64');
    expect(parseLinkKeys(`a:${b64}, b:${b64}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseLinkKeys('a:short')).toThrow(/32 bytes/);
    expect(() => parseLinkKeys('nokey')).toThrow(/keyId:base64key/);
    expect(() => parseLinkKeys('')).toThrow(/at least one/);
  });
});
