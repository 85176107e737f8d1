/**
 * Certificates for mutual TLS between the app and the native cluster, made with openssl: a CA,
 * a server certificate (also presented by Temporal's services to each other, hence clientAuth
 * too) and a client certificate for the app. ECDSA P-256 keys, PKCS#8, valid for a year.
 * For a local cluster and tests only: a real deployment gets its certificates from its own CA.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CertificateFiles {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** The DNS name the server certificate carries first (TEMPORAL_TLS_SERVER_NAME). */
  serverName: string;
}

export interface CertificateOptions {
  /** DNS names of the server; the first is the one clients check. */
  serverNames?: string[];
  /** Subject of the CA, so a second, untrusted CA is told apart in errors. */
  caName?: string;
  days?: number;
}

function openssl(args: string[], cwd: string): void {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (res.error) throw new Error(`openssl could not run (${res.error.message}); on Debian: apt-get install openssl`);
  if (res.status !== 0) throw new Error(`openssl ${args[0]} failed: ${res.stderr.trim()}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function issue(dir: string, name: string, subject: string, extensions: string, days: number): void {
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      String(days),
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
  fs.rmSync(path.join(dir, `${name}.csr`));
  fs.rmSync(path.join(dir, `${name}.ext`));
}

/** Makes the files in `dir` (created 0700), or reuses the ones already there. */
export function makeCertificates(dir: string, opts: CertificateOptions = {}): CertificateFiles {
  const serverNames = opts.serverNames ?? ['temporal', 'localhost'];
  const files: CertificateFiles = {
    dir,
    ca: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key'),
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key'),
    serverName: serverNames[0]!,
  };
  if ([files.ca, files.serverCert, files.serverKey, files.clientCert, files.clientKey].every((f) => fs.existsSync(f)))
    return files;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const days = opts.days ?? 365;
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      String(days),
      '-subj',
      `/CN=${opts.caName ?? 'shortnotice cluster CA'}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const san = [...serverNames.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
  issue(
    dir,
    'server',
    `/CN=${files.serverName}`,
    `subjectAltName=${san}\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`,
    days,
  );
  issue(
    dir,
    'client',
    '/CN=shortnotice-app',
    'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    days,
  );
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), f.endsWith('.key') ? 0o600 : 0o644);
  return files;
}
