/**
 * Staff sign-in with OpenID Connect: authorization code flow with PKCE (S256), state and nonce,
 * through openid-client. The provider's metadata is discovered on first use and kept; a failed
 * discovery is retried on the next sign-in.
 *
 * The ID token's claims give the member of staff: their role (OIDC_ROLE_CLAIM, a list or a
 * space-separated string; a dotted path reaches nested claims such as realm_access.roles; with
 * several, clinical lead wins over escalation team, which wins over therapist), their
 * staff reference (OIDC_STAFF_REF_CLAIM), name and email, and for the escalation team their team
 * (OIDC_TEAM_CLAIM). Without a known role, sign-in is refused.
 */
import * as oidc from 'openid-client';
import type { OidcConfig, StaffRole } from '../../config';
import { STAFF_TEAMS as TEAMS, type StaffTeam as Team } from '../../shared/case';
import type { OidcTransaction, StaffUser } from './session';

export class SignInRefused extends Error {
  override name = 'SignInRefused';

  /** What went wrong, as a code for the log (the message is for people). */
  constructor(
    message: string,
    readonly code: 'no-role' | 'no-staff-ref' | 'no-id-token',
  ) {
    super(message);
  }
}

export interface OidcClient {
  /** Where to send the browser, and what to remember until it comes back. */
  start(now: number): Promise<{ url: string; transaction: OidcTransaction }>;
  /** Checks the provider's answer (at `callbackUrl`) against the transaction; the user it names. */
  finish(callbackUrl: URL, transaction: OidcTransaction): Promise<StaffUser>;
}

const STAFF_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$/;
const ONE_LINE = /^[^\p{Cc}\p{Cf}\u2028\u2029]{1,100}$/u;
const EMAIL = /^[^\s@<>()"',;:]{1,64}@[^\s@<>()"',;:]{1,189}$/;

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), claims);
}

/** The member of staff the claims describe, or SignInRefused. */
export function staffFromClaims(config: OidcConfig, claims: Record<string, unknown>): StaffUser {
  const raw = claimAt(claims, config.roleClaim);
  const roles = Array.isArray(raw) ? raw.filter((r): r is string => typeof r === 'string') : typeof raw === 'string' ? raw.split(/\s+/) : [];
  let role: StaffRole | undefined;
  if (roles.includes(config.roles['clinical-lead'])) role = 'clinical-lead';
  else if (roles.includes(config.roles['escalation-team'])) role = 'escalation-team';
  else if (roles.includes(config.roles.therapist)) role = 'therapist';
  if (!role) throw new SignInRefused('The account has no role for this service', 'no-role');
  const ref = claimAt(claims, config.staffRefClaim);
  if (typeof ref !== 'string' || !STAFF_REF.test(ref))
    throw new SignInRefused('The account has no usable staff reference', 'no-staff-ref');
  const given = [claims.given_name, claims.family_name].filter((p): p is string => typeof p === 'string').join(' ');
  const nameClaim = typeof claims.name === 'string' ? claims.name : given;
  const name = ONE_LINE.test(nameClaim.trim()) ? nameClaim.trim() : ref;
  const email = typeof claims.email === 'string' && EMAIL.test(claims.email) ? claims.email : undefined;
  const team = role === 'escalation-team' ? teamFromClaims(config, claims) : undefined;
  return { role, ref, name, email, via: 'oidc', ...(team ? { team } : {}) };
}

/** The one team the claim names, by the configured values; none if it names none or several. */
function teamFromClaims(config: OidcConfig, claims: Record<string, unknown>): Team | undefined {
  const raw = claimAt(claims, config.teamClaim);
  const values = Array.isArray(raw)
    ? raw.filter((r): r is string => typeof r === 'string')
    : typeof raw === 'string'
      ? raw.split(/\s+/)
      : [];
  const teams = TEAMS.filter((t) => values.includes(config.teams[t]));
  return teams.length === 1 ? teams[0] : undefined;
}

export function createOidcClient(config: OidcConfig): OidcClient {
  let discovered: Promise<oidc.Configuration> | undefined;
  const insecure = new URL(config.issuerUrl).protocol === 'http:';
  const configuration = () => {
    discovered ??= oidc
      .discovery(
        new URL(config.issuerUrl),
        config.clientId,
        config.clientSecret ? { client_secret: config.clientSecret } : {},
        config.clientSecret ? oidc.ClientSecretBasic(config.clientSecret) : oidc.None(),
        // http issuers are refused in production by config; locally (and in tests) they are allowed.
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((e: unknown) => {
        discovered = undefined;
        throw e;
      });
    return discovered;
  };

  return {
    async start(now) {
      const server = await configuration();
      const transaction: OidcTransaction = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
        startedAt: now,
      };
      const url = oidc.buildAuthorizationUrl(server, {
        redirect_uri: config.redirectUri,
        scope: config.scopes,
        response_type: 'code',
        code_challenge: await oidc.calculatePKCECodeChallenge(transaction.verifier),
        code_challenge_method: 'S256',
        state: transaction.state,
        nonce: transaction.nonce,
      });
      return { url: url.href, transaction };
    },

    async finish(callbackUrl, transaction) {
      const server = await configuration();
      const tokens = await oidc.authorizationCodeGrant(server, callbackUrl, {
        pkceCodeVerifier: transaction.verifier,
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      if (!claims) throw new SignInRefused('The identity provider sent no ID token', 'no-id-token');
      return staffFromClaims(config, claims as Record<string, unknown>);
    },
  };
}
