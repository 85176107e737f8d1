/**
 * Crisis signposting, required on every client message. One source for email, SMS and (through
 * the lead's pages) the web, so the numbers cannot disagree.
 */
export const CRISIS_HEADING = 'If you need help now';

export const CRISIS_LINES = [
  'Samaritans: call 116 123 (free, 24 hours a day, 7 days a week)',
  'NHS 111, option 2, for a mental health crisis',
  'Call 999 or go to A&E if a life is at risk',
] as const;

export const CRISIS_SMS = 'In crisis? Samaritans 116 123, NHS 111 option 2, 999 if life is at risk.';
