/**
 * S1: the public development keys work only where the development sign-in is on and the app is
 * reached on loopback. Anywhere else, start-up refuses them (unset or set explicitly), refuses one
 * key shared between lists, and a development key in use is logged as a warning.
 *
 * The attack is replayed for real: a session cookie sealed with the published SESSION_KEYS value
 * (anyone can read it in this repository) is sent to the app as a clinical lead's.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import { ConfigError, loadConfig } from '../../src/config';
import { parseKeyList } from '../../src/keys';
import { LinkSealer } from '../../src/links';
import { createApp } from '../../src/web/app';
import { SessionSealer } from '../../src/web/security/session';
import { caseView, CASE_ID, FakeCases } from '../web/fakes';
import type { AppDeps } from '../../src/web/app';

/** The development values published in src/config.ts: what an attacker would try first. */
const PUBLISHED = {
  LINK_KEYS: 'dev:ZGV2ZWxvcG1lbnQtb25seS1ub3QtYS1zZWNyZXQtISE=',
  SESSION_KEYS: 'dev:ZGV2LXNlc3Npb24ta2V5LW5vdC1hLXNlY3JldC0hISE=',
  PAYLOAD_KEYS: 'dev:ZGV2LXBheWxvYWQta2V5LW5vdC1hLXNlY3JldC0hISE=',
};
const RISK_NOTE = 'Canary risk note: said they felt unsafe at home';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const ownKeys = () => ({
  LINK_KEYS: key('l1'),
  SESSION_KEYS: key('s1'),
  PAYLOAD_KEYS: key('p1'),
  CASE_ID_KEY: randomBytes(32).toString('base64'),
});
const OIDC = { OIDC_ISSUER_URL: 'http://127.0.0.1:9/realms/staff', OIDC_CLIENT_ID: 'shortnotice' };
const PRODUCTION = {
  NODE_ENV: 'production',
  PUBLIC_BASE_URL: 'https://shortnotice.example.org',
  OIDC_ISSUER_URL: 'https://login.example.org',
  OIDC_CLIENT_ID: 'shortnotice',
};

/**
 * What `npm run web` does with `env` (load the configuration, build the app), then a clinical
 * lead's session forged with the published session key, sent to a case page with a risk note.
 */
async function forgeLeadSession(env: NodeJS.ProcessEnv) {
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    return { startUp: 'refused', message: e instanceof ConfigError ? e.message : String(e) };
  }
  const cases = new FakeCases().add(caseView({ risk: true, riskNote: RISK_NOTE }));
  const deps: AppDeps = { config, cases: cases as unknown as AppDeps['cases'], links: new LinkSealer(config.linkKeys) };
  const app = createApp(deps);
  const now = Date.now();
  const forged = new SessionSealer(parseKeyList(PUBLISHED.SESSION_KEYS)).seal({
    sid: randomBytes(16).toString('base64url'),
    createdAt: now,
    seenAt: now,
    user: { role: 'clinical-lead', ref: 'LEAD7', name: 'Mallory', via: 'oidc' },
  });
  const res = await request(app).get(`/cancellations/${CASE_ID}`).set('Cookie', `shortnotice=${forged}`);
  return { startUp: 'ok', status: res.status, riskNoteShown: res.text.includes(RISK_NOTE) };
}

describe('S1 public development keys outside development', () => {
  it('S1 with NODE_ENV unset and OIDC configured, a clinical lead cookie forged with the published SESSION_KEYS gets nothing: start-up refuses the development keys', async () => {
    const result = await forgeLeadSession({ ...OIDC });
    expect(result).toEqual({
      startUp: 'refused',
      message: expect.stringMatching(/SESSION_KEYS: required unless the development sign-in is on/),
    });
    for (const name of ['LINK_KEYS', 'PAYLOAD_KEYS', 'CASE_ID_KEY'])
      expect(result.message).toContain(`${name}: required unless`);
  });

  it('S1 with the development sign-in on but a public address, start-up refuses the development keys', () => {
    expect(() => loadConfig({ AUTH_MODE: 'dev', PUBLIC_BASE_URL: 'http://shortnotice.example.org' })).toThrow(
      /SESSION_KEYS: required unless the development sign-in is on and PUBLIC_BASE_URL is loopback/,
    );
  });

  it.each(Object.entries(PUBLISHED))('S1 production refuses the published %s value set explicitly', (name, value) => {
    expect(() => loadConfig({ ...PRODUCTION, ...ownKeys(), [name]: value })).toThrow(
      new RegExp(`${name}: .*published development key`),
    );
    // Hidden behind a new id, first or second in the list, it is the same key.
    const renamed = `x9:${value.split(':')[1]!}`;
    expect(() => loadConfig({ ...PRODUCTION, ...ownKeys(), [name]: `${key('k2')},${renamed}` })).toThrow(
      new RegExp(`${name}: .*published development key`),
    );
  });

  it('S1 outside development, an explicitly set published key is refused too, with OIDC and NODE_ENV unset', () => {
    expect(() => loadConfig({ ...OIDC, ...ownKeys(), SESSION_KEYS: PUBLISHED.SESSION_KEYS })).toThrow(
      /SESSION_KEYS: .*published development key/,
    );
  });

  it('S1 one key for all three lists is refused, in production and outside it', () => {
    const one = randomBytes(32).toString('base64');
    const shared = {
      LINK_KEYS: `l1:${one}`,
      SESSION_KEYS: `s1:${one}`,
      PAYLOAD_KEYS: `p1:${one}`,
      CASE_ID_KEY: randomBytes(32).toString('base64'),
    };
    expect(() => loadConfig({ ...PRODUCTION, ...shared })).toThrow(/SESSION_KEYS: shares key material with LINK_KEYS/);
    expect(() => loadConfig({ ...PRODUCTION, ...shared })).toThrow(/PAYLOAD_KEYS: shares key material with LINK_KEYS/);
    expect(() => loadConfig({ ...OIDC, ...ownKeys(), CASE_ID_KEY: one, PAYLOAD_KEYS: `p1:${one}` })).toThrow(
      /CASE_ID_KEY: shares key material with PAYLOAD_KEYS/,
    );
    // An old key kept second in one list and reused in another is shared material too.
    const reused = ownKeys();
    expect(() =>
      loadConfig({ ...PRODUCTION, ...reused, SESSION_KEYS: `${key('s2')},x:${reused.LINK_KEYS.split(':')[1]!}` }),
    ).toThrow(/SESSION_KEYS: shares key material with LINK_KEYS/);
  });

  it('S1 with keys of its own, the same forged cookie is refused: signed out, no case data', async () => {
    expect(await forgeLeadSession({ ...OIDC, ...ownKeys() })).toEqual({
      startUp: 'ok',
      status: 303,
      riskNoteShown: false,
    });
  });

  it('S1 where the development sign-in is on and the address is loopback, the development keys still work, and each one in use is named', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(config.auth.mode).toBe('dev');
    expect(config.developmentKeys).toEqual(['LINK_KEYS', 'SESSION_KEYS', 'PAYLOAD_KEYS', 'CASE_ID_KEY']);
    const own = loadConfig({ NODE_ENV: 'test', ...ownKeys() });
    expect(own.developmentKeys).toEqual([]);
  });

  it('S1 when the web app starts with development keys, it logs a warning naming them', async () => {
    const root = path.resolve(__dirname, '..', '..');
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), path.join('src', 'web', 'main.ts')], {
      cwd: root,
      // Nothing listens on port 9: the app stops after the warning, unable to reach Temporal.
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'development',
        TEMPORAL_ADDRESS: '127.0.0.1:9',
        PORT: '0',
        LINK_KEYS: key('l1'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    child.stdout.on('data', (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    const warning = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'development-keys');
    expect(warning).toMatchObject({ level: 'warn', keys: ['SESSION_KEYS', 'PAYLOAD_KEYS', 'CASE_ID_KEY'] });
    expect(String(warning?.msg)).toMatch(/development keys in use/);
  }, 90_000);
});
