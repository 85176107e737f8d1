/**
 * The HS256 JSON Web Token GOV.UK Notify expects on every request, with node:crypto: a token is
 * three base64url parts, and the third is the HMAC-SHA256 of the first two under the secret.
 */
import { createHmac } from 'node:crypto';

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function signHs256Jwt(claims: Record<string, unknown>, secret: string): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

export interface NotifyCredentials {
  serviceId: string;
  secretKey: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A Notify API key is `{key name}-{service id}-{secret key}`, the last two UUIDs (36 characters
 * each). The key name may itself hold dashes, so both are read from the end.
 * The error never repeats the key.
 */
export function parseNotifyApiKey(apiKey: string): NotifyCredentials {
  const key = apiKey.trim();
  const secretKey = key.slice(-36);
  const serviceId = key.slice(-73, -37);
  const dashes = key.charAt(key.length - 37) === '-' && key.charAt(key.length - 74) === '-';
  if (key.length < 75 || !dashes || !UUID.test(serviceId) || !UUID.test(secretKey)) {
    throw new Error('NOTIFY_API_KEY is not a GOV.UK Notify API key (expected name-serviceId-secretKey)');
  }
  return { serviceId, secretKey };
}
