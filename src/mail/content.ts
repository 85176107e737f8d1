/**
 * Message content as data: each message is a subject and a list of blocks, and the two nunjucks
 * layouts turn the same blocks into plain text and HTML. The wording lives in typed functions
 * (client.ts, staff.ts), so text and HTML cannot drift apart and the compiler checks every fact
 * a message uses.
 */

export type Block =
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  /** A link shown as a button in HTML and as "label: url" in text. */
  | { kind: 'link'; href: string; label: string }
  /** Label/value rows for staff messages. */
  | { kind: 'facts'; rows: Array<{ label: string; value: string }> }
  /** A line that must not be missed (e.g. "Do not leave a voicemail"). */
  | { kind: 'warning'; text: string };

export type Audience = 'client' | 'staff';

export interface EmailContent {
  audience: Audience;
  subject: string;
  blocks: Block[];
  /** The closing line under the message (who sent it). */
  footer: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export const p = (text: string): Block => ({ kind: 'p', text });
export const list = (items: string[]): Block => ({ kind: 'list', items });
export const link = (href: string, label: string): Block => ({ kind: 'link', href, label });
export const facts = (rows: Array<[string, string | undefined]>): Block => ({
  kind: 'facts',
  rows: rows.filter((r): r is [string, string] => typeof r[1] === 'string' && r[1] !== '').map(([label, value]) => ({ label, value })),
});
export const warning = (text: string): Block => ({ kind: 'warning', text });
