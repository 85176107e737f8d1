/**
 * S3: every Temporal connection can use TLS, mutual TLS and an API key, from TEMPORAL_TLS_CA,
 * TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_SERVER_NAME and TEMPORAL_API_KEY, read once
 * at start-up; a wrong setting stops start-up with a message naming the variable (never the key).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config';
import { makeCertificates, type CertificateFiles } from '../../src/dev/tls';
import { temporalConnectionOptions } from '../../src/temporal/client';

let dir: string;
let certs: CertificateFiles;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortnotice-tls-config-'));
  certs = makeCertificates(path.join(dir, 'tls'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const problems = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return '';
};

describe('Temporal connection settings', () => {
  it('S3 when nothing is set, then the connection is plaintext with no API key (a local dev server)', () => {
    const options = temporalConnectionOptions(loadConfig({}).temporal);
    expect(options).toEqual({ address: 'localhost:7233' });
  });

  it('S3 when a CA, a client certificate and a server name are set, then every connection uses mutual TLS with them', () => {
    const config = loadConfig({
      TEMPORAL_TLS_CA: certs.ca,
      TEMPORAL_TLS_CERT: certs.clientCert,
      TEMPORAL_TLS_KEY: certs.clientKey,
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    });
    const options = temporalConnectionOptions(config.temporal);
    expect(options.tls?.serverRootCACertificate).toEqual(fs.readFileSync(certs.ca));
    expect(options.tls?.clientCertPair).toEqual({
      crt: fs.readFileSync(certs.clientCert),
      key: fs.readFileSync(certs.clientKey),
    });
    expect(options.tls?.serverNameOverride).toBe('temporal');
  });

  it('S3 when only an API key is set, then it is sent and TLS is on with the system CAs', () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'key-from-the-cloud' }).temporal);
    expect(options).toEqual({ address: 'localhost:7233', tls: {}, apiKey: 'key-from-the-cloud' });
  });

  it.each([
    [{ TEMPORAL_TLS_CERT: 'client.pem' }, 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both'],
    [{ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' }, 'TEMPORAL_TLS_CA: cannot read /nonexistent/ca.pem (ENOENT)'],
    [{ TEMPORAL_TLS_SERVER_NAME: 'not a name' }, 'TEMPORAL_TLS_SERVER_NAME: must be a host name'],
  ])('S3 when %j is set, then start-up stops naming the variable', (env, message) => {
    expect(problems(env)).toContain(message);
  });

  it('S3 when the key and certificate files are swapped, then start-up stops and prints no key material', () => {
    const message = problems({ TEMPORAL_TLS_CERT: certs.clientKey, TEMPORAL_TLS_KEY: certs.clientCert });
    expect(message).toContain('TEMPORAL_TLS_CERT');
    expect(message).toContain('is not a PEM certificate');
    expect(message).toContain('TEMPORAL_TLS_KEY');
    expect(message).not.toMatch(/BEGIN|[A-Za-z0-9+/]{40}/);
  });
});
