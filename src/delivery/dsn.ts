/**
 * Reads an RFC 3464 delivery status notification: the bounce (or delivery receipt) a mail server
 * sends back as a multipart/report. mailparser takes the MIME apart and reads the returned
 * message's headers; the delivery-status part itself is parsed here, because mailparser hands it
 * over as raw text and no well-kept package reads its fields. It is small: blocks of RFC 822
 * style "Name: value" lines (folded lines continue with white space), one block for the message
 * and one for each recipient, separated by blank lines.
 */
import { simpleParser, type Attachment } from 'mailparser';

/** RFC 3464 §2.3.3. Only failed and delivered conclude anything about a message. */
export const DSN_ACTIONS = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'] as const;
export type DsnAction = (typeof DSN_ACTIONS)[number];

export interface DsnRecipient {
  action: DsnAction;
  /** The enhanced status code, e.g. 5.1.1. */
  status?: string;
  /** Diagnostic-Code as the remote server wrote it: it may quote the address, so never store or log it. */
  diagnostic?: string;
  /** Final- and Original-Recipient, only so the reason can be cleaned of them. */
  addresses: string[];
}

export interface DeliveryStatusNotification {
  /** Original-Envelope-Id: the ENVID we gave when sending. */
  envelopeId?: string;
  /** The Message-ID of the message the report is about, from its returned headers. */
  messageId?: string;
  recipients: DsnRecipient[];
}

/** The body is not a delivery status notification (or not one we can read). */
export class UnreadableReport extends Error {}

const STATUS_PARTS = new Set(['message/delivery-status', 'message/global-delivery-status']);
const RETURNED_PARTS = new Set(['text/rfc822-headers', 'message/rfc822', 'message/global', 'message/global-headers']);

export async function parseDsn(raw: Buffer): Promise<DeliveryStatusNotification> {
  let parts: Attachment[];
  try {
    // keepDeliveryStatus: hand the report part over as an attachment instead of folding it into the text.
    parts = (
      await simpleParser(raw, {
        keepDeliveryStatus: true,
        skipHtmlToText: true,
        skipTextToHtml: true,
        skipImageLinks: true,
      })
    ).attachments;
  } catch {
    throw new UnreadableReport('The message could not be parsed as MIME');
  }
  const report = parts.find((p) => STATUS_PARTS.has(p.contentType.toLowerCase()));
  if (!report)
    throw new UnreadableReport('This is not a delivery status notification: it has no message/delivery-status part');
  const fields = parseDeliveryStatus(report.content.toString('utf8'));
  const { envelopeId, recipients } = fields;
  const returned = parts.find((p) => RETURNED_PARTS.has(p.contentType.toLowerCase()));
  const messageId = (returned ? await returnedMessageId(returned.content) : undefined) ?? fields.messageId;
  return { ...(envelopeId ? { envelopeId } : {}), ...(messageId ? { messageId } : {}), recipients };
}

/** The Message-ID of the returned message or headers; absent when they cannot be read. */
async function returnedMessageId(content: Buffer): Promise<string | undefined> {
  try {
    // text/rfc822-headers may stop without the blank line that ends a header block.
    const parsed = await simpleParser(Buffer.concat([content, Buffer.from('\r\n\r\n')]), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
    });
    return parsed.messageId;
  } catch {
    return undefined;
  }
}

/**
 * The fields of a message/delivery-status body: the per-message block, then one per recipient.
 * `messageId` is Gmail's X-Original-Message-ID, for a report whose returned headers are missing.
 */
export function parseDeliveryStatus(text: string): DeliveryStatusNotification {
  const blocks = fieldBlocks(text);
  if (blocks.length === 0) throw new UnreadableReport('The delivery-status part is empty');
  let envelopeId: string | undefined;
  let messageId: string | undefined;
  const recipients: DsnRecipient[] = [];
  for (const block of blocks) {
    const envid = block.get('original-envelope-id');
    if (envid && !envelopeId) envelopeId = decodeXtext(envid);
    messageId ??= block.get('x-original-message-id');
    const action = /^\s*([a-z]+)/i.exec(block.get('action') ?? '')?.[1]?.toLowerCase();
    if (!isAction(action)) continue;
    const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(block.get('status') ?? '')?.[1];
    const diagnostic = block.get('diagnostic-code');
    const addresses = ['final-recipient', 'original-recipient']
      .map((name) =>
        block
          .get(name)
          ?.replace(/^[^;]*;/, '')
          .trim(),
      )
      .filter((a): a is string => !!a);
    recipients.push({ action, ...(status ? { status } : {}), ...(diagnostic ? { diagnostic } : {}), addresses });
  }
  if (recipients.length === 0) throw new UnreadableReport('The delivery-status part names no recipient with an Action');
  return { ...(envelopeId ? { envelopeId } : {}), ...(messageId ? { messageId } : {}), recipients };
}

function isAction(value: string | undefined): value is DsnAction {
  return (DSN_ACTIONS as readonly string[]).includes(value ?? '');
}

/** Blank-line separated blocks of "Name: value" fields, names lower-cased, folded lines unfolded, first value kept. */
function fieldBlocks(text: string): Array<Map<string, string>> {
  const blocks: Array<Map<string, string>> = [];
  let block = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      if (block.size > 0) blocks.push(block);
      block = new Map();
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (last) block.set(last, `${block.get(last) ?? ''} ${line.trim()}`);
    } else {
      const m = /^([A-Za-z0-9-]+)[ \t]*:(.*)$/.exec(line);
      last = undefined;
      if (!m) continue;
      const name = m[1]!.toLowerCase();
      if (block.has(name)) continue;
      block.set(name, m[2]!.trim());
      last = name;
    }
  }
  if (block.size > 0) blocks.push(block);
  return blocks;
}

/** RFC 3461 xtext: "+" and two hex digits stand for a byte. */
function decodeXtext(value: string): string {
  return value.trim().replace(/\+([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
