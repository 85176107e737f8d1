/**
 * From what a relay posts (a DSN, or the JSON form) to the delivery reports the cases receive:
 * each finding is matched to its case and step by our deterministic Message-ID (or the envelope
 * id we gave), findings that conclude nothing are counted and dropped, and several findings
 * about one message become one report, a failure outweighing a delivery.
 */
import { z } from 'zod';
import type { DeliveryReport } from '../shared/activities';
import { DSN_ACTIONS, type DeliveryStatusNotification, type DsnAction } from './dsn';
import { parseMessageRef } from './message-ref';
import { deliveryReason } from './reason';

/** More findings than this in one post is not a relay reporting on our mail. */
export const MAX_JSON_REPORTS = 500;

const jsonReport = z
  .object({
    messageId: z.string().trim().min(1).max(300).optional(),
    envelopeId: z.string().trim().min(1).max(300).optional(),
    status: z.enum(DSN_ACTIONS, { message: `must be one of ${DSN_ACTIONS.join(', ')}` }),
    reason: z.string().max(2000).optional(),
  })
  .refine((r) => r.messageId !== undefined || r.envelopeId !== undefined, {
    message: 'give messageId (or envelopeId)',
    path: ['messageId'],
  });

/** The JSON form: one report, or a list of them (read as a list, so errors name the item: 0.status). */
export const bounceJsonSchema = z.preprocess(
  (v) => (Array.isArray(v) ? v : [v]),
  z.array(jsonReport).min(1).max(MAX_JSON_REPORTS),
);
export type BounceJson = z.infer<typeof bounceJsonSchema>;

/** One thing a relay said about one message (and recipient). */
export interface Finding {
  messageId?: string;
  envelopeId?: string;
  action: DsnAction;
  /** Already cleaned (deliveryReason): safe to store and show. */
  reason: string;
}

export function findingsFromDsn(dsn: DeliveryStatusNotification): Finding[] {
  return dsn.recipients.map((r) => ({
    ...(dsn.messageId ? { messageId: dsn.messageId } : {}),
    ...(dsn.envelopeId ? { envelopeId: dsn.envelopeId } : {}),
    action: r.action,
    reason: deliveryReason({ status: r.status, diagnostic: r.diagnostic, addresses: r.addresses, fallback: r.action }),
  }));
}

export function findingsFromJson(body: BounceJson): Finding[] {
  return body.map((r) => ({
    ...(r.messageId ? { messageId: r.messageId } : {}),
    ...(r.envelopeId ? { envelopeId: r.envelopeId } : {}),
    action: r.status,
    // The reason is the relay's text: it gets the same cleaning as a DSN's diagnostic.
    reason: deliveryReason({ status: r.reason, diagnostic: r.reason, fallback: r.status }),
  }));
}

export interface CaseReport {
  caseId: string;
  report: DeliveryReport;
}

export interface Matched {
  reports: CaseReport[];
  counts: {
    /** Findings read. */
    received: number;
    /** delayed, relayed or expanded: nothing is known yet. */
    inconclusive: number;
    /** Failed or delivered, about a message that is not one of ours. */
    unmatched: number;
    /** Failed or delivered, about one of our messages. */
    matched: number;
    /** Matched findings folded into another about the same message. */
    duplicates: number;
  };
}

/** Matches findings to case steps; one report per message, failed before delivered. */
export function matchFindings(findings: readonly Finding[]): Matched {
  const byMessage = new Map<string, CaseReport>();
  const counts = { received: findings.length, inconclusive: 0, unmatched: 0, matched: 0, duplicates: 0 };
  for (const f of findings) {
    if (f.action !== 'failed' && f.action !== 'delivered') {
      counts.inconclusive++;
      continue;
    }
    const ref = parseMessageRef(f.messageId) ?? parseMessageRef(f.envelopeId);
    if (!ref) {
      counts.unmatched++;
      continue;
    }
    counts.matched++;
    const key = `${ref.caseId}/${ref.step}`;
    const report: DeliveryReport =
      f.action === 'failed'
        ? { step: ref.step, status: 'failed', reason: f.reason }
        : { step: ref.step, status: 'delivered' };
    const earlier = byMessage.get(key);
    if (earlier) {
      counts.duplicates++;
      // A person phoning a client who did get the message costs a call; the reverse leaves them untold.
      if (earlier.report.status === 'delivered' && report.status === 'failed') earlier.report = report;
      continue;
    }
    byMessage.set(key, { caseId: ref.caseId, report });
  }
  return { reports: [...byMessage.values()], counts };
}
