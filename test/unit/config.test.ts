import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../../src/config';
import { DEFAULT_POLICY } from '../../src/shared/policy';

describe('configuration', () => {
  test('with nothing set, the embedded defaults apply and the provider addresses are the guidance ones', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.temporal).toEqual({ address: 'localhost:7233', namespace: 'default', taskQueue: 'shortnotice', uiUrl: 'http://localhost:8233' });
    expect(c.mail.smtpUrl).toBeUndefined();
    expect(c.mail.smtpMaxConnections).toBe(5);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '20' }).mail.smtpMaxConnections).toBe(20);
    expect(c.teams).toEqual({
      network: 'network.clinical@vhg.co.uk',
      risk: 'ptsriskduty@vhg.co.uk',
      support: 'vita.support@vhg.co.uk',
      lead: 'network.clinical@vhg.co.uk',
      provider: 'network.clinical@vhg.co.uk',
      supportPhone: '0333 222 0710',
    });
    expect(c.policy).toEqual(DEFAULT_POLICY);
  });

  test.each([
    ['PORT', 'abc'],
    ['TEMPORAL_ADDRESS', 'not an address'],
    ['SMTP_URL', 'http://mail'],
    ['SMTP_MAX_CONNECTIONS', '0'],
    ['SMTP_MAX_CONNECTIONS', 'many'],
    ['RISK_DUTY_EMAIL', 'nobody'],
    ['POLICY_JSON', '{"nope":1}'],
    ['MPB_MODE', 'magic'],
  ])('a bad %s stops start-up with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  test('production refuses to start without its own link keys', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/LINK_KEYS/);
  });

  test('CASE_ID_KEY is base64 of 32 bytes without a key id, and the error does not echo it', () => {
    const good = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ CASE_ID_KEY: good }).caseIdKey.equals(Buffer.alloc(32, 7))).toBe(true);
    for (const bad of [`k1:${good}`, Buffer.alloc(16, 7).toString('base64'), 'not base64!']) {
      expect(() => loadConfig({ CASE_ID_KEY: bad })).toThrow(/CASE_ID_KEY: must be base64 of 32 random bytes, with no key id/);
      expect(() => loadConfig({ CASE_ID_KEY: bad })).not.toThrow(bad);
    }
  });

  test('MPB mode needs the records system address', () => {
    expect(() => loadConfig({ MPB_MODE: 'mpb' })).toThrow(/MPB_BASE_URL/);
  });

  test('the error lists problems without echoing secret values', () => {
    try {
      loadConfig({ LINK_KEYS: 'k1:c2VjcmV0LXZhbHVl', NOTIFY_API_KEY: 'super-secret-key' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(String(e)).not.toContain('c2VjcmV0LXZhbHVl');
      expect(String(e)).not.toContain('super-secret-key');
      expect(String(e)).toMatch(/LINK_KEYS/);
      expect(String(e)).toMatch(/NOTIFY_SMS_TEMPLATE_ID/);
    }
  });

  test('every variable is documented in .env.example', () => {
    const example = readFileSync(join(__dirname, '../../.env.example'), 'utf8');
    for (const name of ENV_VARIABLES) expect(example).toMatch(new RegExp(`^#?\\s*${name}=`, 'm'));
  });

  test('every variable is in the README configuration table', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    for (const name of ENV_VARIABLES) expect(readme).toContain(`\`${name}\``);
  });
});
