/**
 * A small OpenID Connect identity provider on 127.0.0.1 for tests: discovery, JWKS, a token
 * endpoint that checks PKCE, RS256 ID tokens carrying whatever claims the test gives the user.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';

export const CLIENT_ID = 'shortnotice-test';
const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');

interface Pending {
  nonce: string;
  challenge: string;
  redirectUri: string;
  claims: Record<string, unknown>;
}

export class FakeIdp {
  url = '';
  private server?: http.Server;
  private readonly key: KeyObject;
  private readonly jwk: Record<string, unknown>;
  private readonly codes = new Map<string, Pending>();
  tokenRequests = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.key = privateKey;
    this.jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  /** The user signs in at the provider: a code for the app's request, carrying these claims. */
  authorize(authorizeUrl: string, claims: Record<string, unknown>): { code: string; state: string } {
    const u = new URL(authorizeUrl);
    const p = u.searchParams;
    expect(`${u.origin}${u.pathname}`).toBe(`${this.url}/authorize`);
    expect(p.get('client_id')).toBe(CLIENT_ID);
    expect(p.get('response_type')).toBe('code');
    expect(p.get('code_challenge_method')).toBe('S256');
    expect(p.get('scope')).toBe('openid profile email');
    for (const name of ['state', 'nonce', 'code_challenge', 'redirect_uri']) expect(p.get(name)).toBeTruthy();
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, {
      nonce: p.get('nonce')!,
      challenge: p.get('code_challenge')!,
      redirectUri: p.get('redirect_uri')!,
      claims,
    });
    return { code, state: p.get('state')! };
  }

  private idToken(claims: Record<string, unknown>, nonce: string): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'k1' }));
    const body = b64url(
      JSON.stringify({ iss: this.url, aud: CLIENT_ID, sub: 'user-1', iat: now, exp: now + 300, nonce, ...claims }),
    );
    return `${header}.${body}.${b64url(sign('sha256', Buffer.from(`${header}.${body}`), this.key))}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.url === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: this.url,
        authorization_endpoint: `${this.url}/authorize`,
        token_endpoint: `${this.url}/token`,
        jwks_uri: `${this.url}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
      });
    }
    if (req.url === '/jwks') return json(200, { keys: [this.jwk] });
    if (req.url === '/token' && req.method === 'POST') {
      this.tokenRequests++;
      const form = new URLSearchParams(body);
      const pending = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (
        !pending ||
        form.get('grant_type') !== 'authorization_code' ||
        form.get('client_id') !== CLIENT_ID ||
        form.get('redirect_uri') !== pending.redirectUri
      ) {
        return json(400, { error: 'invalid_grant' });
      }
      if (b64url(createHash('sha256').update(verifier).digest()) !== pending.challenge)
        return json(400, { error: 'invalid_grant', error_description: 'PKCE' });
      return json(200, {
        access_token: randomBytes(16).toString('hex'),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: this.idToken(pending.claims, pending.nonce),
      });
    }
    json(404, { error: 'not_found' });
  }
}

/** Signs in through the app's OpenID Connect flow as the user with `claims`; the agent keeps the session. */
export async function signInWithIdp(app: Express, idp: FakeIdp, claims: Record<string, unknown>) {
  const agent = request.agent(app);
  const start = await agent.get('/auth/sign-in').expect(303);
  const { code, state } = idp.authorize(start.headers.location!, claims);
  await agent.get(`/auth/callback?code=${code}&state=${state}`).expect(303);
  return agent;
}
