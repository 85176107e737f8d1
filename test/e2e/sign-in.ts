/**
 * The one place end-to-end tests sign a member of staff in. Call it on a fresh context's page
 * before opening any staff page; clients are never signed in.
 *
 * Staff pages need a session now: the app under test uses the development sign-in (its default
 * outside production), a form where anyone can be anyone. What changes for the pages after it:
 * - a therapist's reference on the cancellation form comes from the sign-in: the field labelled
 *   "Your therapist reference" is read-only and pre-filled (filling it fails: leave it); "Your
 *   name" and "Your work email address" start from the sign-in (`name`, `email` below) and can
 *   still be changed;
 * - case actions have no "Your staff reference" field: they are recorded as the signed-in
 *   person; closing a case and acknowledging escalations are for clinical leads only;
 * - a therapist sees only cases whose therapist reference is theirs;
 * - every form carries a hidden CSRF token and must be posted from the page (as a browser does);
 * - the development mailbox (/dev/mailbox) needs a signed-in member of staff too.
 */
import type { Page } from 'playwright-core';

export interface StaffIdentity {
  role: 'therapist' | 'lead' | 'escalation-team';
  /** For the escalation team: risk duty, the clinical network team or support. */
  team?: 'Risk duty' | 'Clinical network team' | 'Support';
  /** Staff reference, as on the staff record (e.g. T1042). */
  ref: string;
  /** Shown in the header and pre-filled as the therapist's name; defaults from the role and ref. */
  name?: string;
  /** Pre-filled as the therapist's work email address. */
  email?: string;
}

const ROLE_LABELS: Record<StaffIdentity['role'], string | RegExp> = {
  therapist: 'Therapist',
  lead: 'Clinical lead',
  'escalation-team': /Escalation team \(risk duty/,
};

/** Signs in through the development sign-in page and waits to land on a staff page (their home page). */
export async function signIn(page: Page, baseUrl: string, as: StaffIdentity = { role: 'therapist', ref: 'T1042' }): Promise<void> {
  await page.goto(`${baseUrl}/auth/sign-in`);
  await page.getByLabel(ROLE_LABELS[as.role], { exact: typeof ROLE_LABELS[as.role] === 'string' }).check({ force: true });
  if (as.team) await page.getByLabel(as.team, { exact: true }).check({ force: true });
  await page.getByLabel('Staff reference', { exact: true }).fill(as.ref);
  await page.getByLabel('Name', { exact: true }).fill(as.name ?? `${as.role === 'lead' ? 'Clinical lead' : as.role === 'therapist' ? 'Therapist' : 'Staff'} ${as.ref}`);
  if (as.email) await page.getByLabel('Work email address (optional)').fill(as.email);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/auth/')), page.getByRole('button', { name: 'Sign in' }).click()]);
}
