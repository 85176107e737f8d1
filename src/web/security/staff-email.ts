/**
 * Which staff email addresses the service will send to. A therapist's address receives call
 * tasks, which carry the client's phone number, so it cannot be whatever someone typed: under
 * OpenID Connect it is the identity provider's address of the signed-in therapist, or an address
 * at one of STAFF_EMAIL_DOMAINS (a lead cancelling for a therapist, an integration). With the
 * development sign-in, addresses are free unless STAFF_EMAIL_DOMAINS is set.
 */
import type { AuthConfig } from '../../config';
import type { StaffUser } from './session';

export type StaffEmailAudience = 'form' | 'api';

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();
const listed = (domains: readonly string[]) => domains.map((d) => `@${d}`).join(' or ');

/** The identity provider's address for this user, when it is theirs to use as a therapist. */
export function idpEmail(user: StaffUser): string | undefined {
  return user.via === 'oidc' && user.role === 'therapist' ? user.email : undefined;
}

/** Why `email` may not receive a therapist's tasks, in words for `audience`; undefined if it may. */
export function staffEmailProblem(
  email: string,
  auth: Pick<AuthConfig, 'mode' | 'staffEmailDomains'>,
  audience: StaffEmailAudience,
): string | undefined {
  const domains = auth.staffEmailDomains;
  if (domains.length === 0) {
    if (auth.mode !== 'oidc') return undefined;
    return audience === 'form'
      ? 'Only the address from the sign-in service can be used here until STAFF_EMAIL_DOMAINS lists the staff email domains: ask the therapist to cancel while signed in, or an administrator to set it'
      : 'Therapist addresses are accepted only at the staff email domains, and STAFF_EMAIL_DOMAINS lists none';
  }
  if (domains.includes(domainOf(email))) return undefined;
  return audience === 'form'
    ? `Enter the therapist’s work address: it must end ${listed(domains)}`
    : `The therapist’s address must end ${listed(domains)}`;
}
