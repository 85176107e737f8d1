/**
 * Keys of this test process's own, for configurations that the development keys do not serve
 * (production, OpenID Connect, an address off loopback). Random per process, never published.
 */
import { randomBytes } from 'node:crypto';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

export const TEST_KEYS = {
  LINK_KEYS: key('l1'),
  SESSION_KEYS: key('s1'),
  PAYLOAD_KEYS: key('p1'),
  CASE_ID_KEY: randomBytes(32).toString('base64'),
};
