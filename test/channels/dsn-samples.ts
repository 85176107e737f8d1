/**
 * Delivery status notifications shaped like those Postfix, Exim, Gmail and Microsoft 365 send,
 * written for these tests from RFC 3464 and the layout each server uses (no real mail copied).
 * Each takes the Message-ID and envelope id of the message it reports on, and the recipient.
 */
export interface Reported {
  /** With angle brackets, as in the returned headers. */
  messageId: string;
  /** The ENVID we sent; left out when undefined (a relay that dropped it). */
  envelopeId?: string;
  recipient: string;
}

const crlf = (lines: string[]) => lines.join('\r\n');

function returnedHeaders({ messageId, recipient }: Reported): string[] {
  return [
    'Return-Path: <no-reply@shortnotice.example>',
    'Received: from shortnotice-worker (worker.shortnotice.example [198.51.100.7])',
    '\tby mx1.relay.example (Postfix) with ESMTP id 4F1A2B3C4D',
    `\tfor <${recipient}>; Thu, 26 Nov 2026 09:00:04 +0000 (GMT)`,
    'From: VHG talking therapies <no-reply@shortnotice.example>',
    `To: ${recipient}`,
    'Subject: Your appointment has changed',
    `Message-ID: ${messageId}`,
    'Date: Thu, 26 Nov 2026 09:00:03 +0000',
    'Auto-Submitted: auto-generated',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="--_NmP-abc"',
  ];
}

const envid = (r: Reported) => (r.envelopeId ? [`Original-Envelope-Id: ${r.envelopeId}`] : []);

/** Postfix: a 550 5.1.1 from the next hop, headers returned as text/rfc822-headers. */
export function postfixBounce(r: Reported): string {
  const b = '4F1A2B3C4D.1764147605/mx1.relay.example';
  return crlf([
    'Return-Path: <>',
    'Date: Thu, 26 Nov 2026 09:00:05 +0000 (GMT)',
    'From: MAILER-DAEMON@mx1.relay.example (Mail Delivery System)',
    'Subject: Undelivered Mail Returned to Sender',
    'To: no-reply@shortnotice.example',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    `\tboundary="${b}"`,
    'Content-Transfer-Encoding: 8bit',
    'Message-Id: <20261126090005.4F1A2B3C4D@mx1.relay.example>',
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${b}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'This is the mail system at host mx1.relay.example.',
    '',
    "I'm sorry to have to inform you that your message could not",
    "be delivered to one or more recipients. It's attached below.",
    '',
    `<${r.recipient}>: host mail.example.net[192.0.2.25] said: 550 5.1.1`,
    `    <${r.recipient}>: Recipient address rejected: User unknown in virtual`,
    '    mailbox table (in reply to RCPT TO command)',
    '',
    `--${b}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx1.relay.example',
    'X-Postfix-Queue-ID: 4F1A2B3C4D',
    'X-Postfix-Sender: rfc822; no-reply@shortnotice.example',
    ...envid(r),
    'Arrival-Date: Thu, 26 Nov 2026 09:00:04 +0000 (GMT)',
    '',
    `Final-Recipient: rfc822; ${r.recipient}`,
    `Original-Recipient: rfc822;${r.recipient}`,
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; mail.example.net',
    `Diagnostic-Code: smtp; 550 5.1.1 <${r.recipient}>: Recipient address rejected:`,
    '    User unknown in virtual mailbox table',
    '',
    `--${b}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    'Content-Transfer-Encoding: 8bit',
    '',
    ...returnedHeaders(r),
    '',
    `--${b}--`,
    '',
  ]);
}

/** Postfix's success report (NOTIFY=SUCCESS): Action delivered, 2.0.0. */
export function postfixDelivered(r: Reported): string {
  return postfixBounce(r)
    .replace('Subject: Undelivered Mail Returned to Sender', 'Subject: Successful Mail Delivery Report')
    .replace('Action: failed', 'Action: delivered')
    .replace('Status: 5.1.1', 'Status: 2.0.0')
    .replace(/Diagnostic-Code: [^]*?table\r\n/, 'Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 9B8C7D6E5F\r\n');
}

/** Postfix still trying (NOTIFY=DELAY): Action delayed, 4.4.1. */
export function postfixDelayed(r: Reported): string {
  return postfixBounce(r)
    .replace('Action: failed', 'Action: delayed')
    .replace('Status: 5.1.1', 'Status: 4.4.1\r\nWill-Retry-Until: Thu, 3 Dec 2026 09:00:04 +0000 (GMT)')
    .replace(
      /Diagnostic-Code: [^]*?table\r\n/,
      'Diagnostic-Code: X-Postfix; connect to mail.example.net[192.0.2.25]:25: Connection timed out\r\n',
    );
}

/** Postfix handing the message to a server that does not speak DSN: Action relayed. */
export function postfixRelayed(r: Reported): string {
  return postfixDelivered(r).replace('Action: delivered', 'Action: relayed');
}

/**
 * Exim: per-recipient block with Action first, a generic 5.0.0 Status, the remote reply in the
 * Diagnostic-Code, and the whole message returned as message/rfc822 (a relay that ignored RET).
 */
export function eximBounce(r: Reported): string {
  const b = '1764147605-eximdsn-1804289383';
  return crlf([
    'Received: from Debian-exim by mail.relay.example with local (Exim 4.98)',
    '\tid 1vOabc-000123-4x',
    '\tfor no-reply@shortnotice.example; Thu, 26 Nov 2026 09:00:05 +0000',
    'X-Failed-Recipients: ' + r.recipient,
    'Auto-Submitted: auto-replied',
    'From: Mail Delivery System <Mailer-Daemon@mail.relay.example>',
    'To: no-reply@shortnotice.example',
    `References: ${r.messageId}`,
    `Content-Type: multipart/report; report-type=delivery-status; boundary=${b}`,
    'MIME-Version: 1.0',
    'Subject: Mail delivery failed: returning message to sender',
    'Message-Id: <E1vOabc-000123-4x@mail.relay.example>',
    'Date: Thu, 26 Nov 2026 09:00:05 +0000',
    '',
    `--${b}`,
    'Content-type: text/plain; charset=us-ascii',
    '',
    'This message was created automatically by mail delivery software.',
    '',
    'A message that you sent could not be delivered to one or more of its',
    'recipients. This is a permanent error. The following address(es) failed:',
    '',
    `  ${r.recipient}`,
    '    host mx.example.net [192.0.2.30]',
    `    SMTP error from remote mail server after RCPT TO:<${r.recipient}>:`,
    "    550 5.2.1 The mailbox 'sam.jones' is disabled",
    '',
    `--${b}`,
    'Content-type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mail.relay.example',
    ...(r.envelopeId ? [`Original-Envelope-ID: ${r.envelopeId}`] : []),
    '',
    'Action: failed',
    `Final-Recipient: rfc822;${r.recipient}`,
    'Status: 5.0.0',
    'Remote-MTA: dns; mx.example.net',
    "Diagnostic-Code: smtp; 550 5.2.1 The mailbox 'sam.jones' is disabled",
    '',
    `--${b}`,
    'Content-type: message/rfc822',
    '',
    ...returnedHeaders(r),
    '',
    '----_NmP-abc',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello Sam, your appointment on Friday 27 November at 10:00 is cancelled.',
    '----_NmP-abc--',
    '',
    `--${b}--`,
    '',
  ]);
}

/**
 * Gmail: a friendly multipart/related notice with an icon, a multi-line 550-5.1.1 reply folded
 * into the Diagnostic-Code, X-Original-Message-ID among the per-message fields, and the message
 * returned whole.
 */
export function gmailBounce(r: Reported, options: { returned?: boolean } = {}): string {
  const outer = '000000000000c0ffee0625f1a2b3';
  const related = '000000000000c0ffee0625f1a2b4';
  const alt = '000000000000c0ffee0625f1a2b5';
  const returned = options.returned ?? true;
  return crlf([
    'Return-Path: <>',
    'Received: by 2002:a05:6a10:1234:b0:5f1:abcd:ef01 with SMTP id abc123;',
    '        Thu, 26 Nov 2026 01:00:05 -0800 (PST)',
    'From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
    'To: no-reply@shortnotice.example',
    'Auto-Submitted: auto-replied',
    'Subject: Delivery Status Notification (Failure)',
    `References: ${r.messageId}`,
    `In-Reply-To: ${r.messageId}`,
    'Message-ID: <6b1f0a3e.050a0220.1d2c3b.abcdGMR@mx.google.com>',
    'Date: Thu, 26 Nov 2026 01:00:05 -0800 (PST)',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; boundary="${outer}"; report-type=delivery-status`,
    '',
    `--${outer}`,
    `Content-Type: multipart/related; boundary="${related}"`,
    '',
    `--${related}`,
    `Content-Type: multipart/alternative; boundary="${alt}"`,
    '',
    `--${alt}`,
    'Content-Type: text/plain; charset="UTF-8"',
    '',
    '** Address not found **',
    '',
    `Your message wasn't delivered to ${r.recipient} because the address couldn't be found, or is unable to receive mail.`,
    '',
    `--${alt}`,
    'Content-Type: text/html; charset="UTF-8"',
    '',
    `<html><body><p>Your message wasn't delivered to <b>${r.recipient}</b>.</p></body></html>`,
    '',
    `--${alt}--`,
    `--${related}`,
    'Content-Type: image/png; name="icon.png"',
    'Content-Disposition: attachment; filename="icon.png"',
    'Content-Transfer-Encoding: base64',
    'Content-ID: <icon.png>',
    '',
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    `--${related}--`,
    `--${outer}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; googlemail.com',
    'Received-From-MTA: dns; no-reply@shortnotice.example',
    'Arrival-Date: Thu, 26 Nov 2026 01:00:04 -0800 (PST)',
    `X-Original-Message-ID: ${r.messageId}`,
    ...envid(r),
    '',
    `Final-Recipient: rfc822; ${r.recipient}`,
    'Action: failed',
    'Status: 5.1.1',
    'Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:400c:c0b::1b, the server for the domain example.com.)',
    'Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try',
    " 550-5.1.1 double-checking the recipient's email address for typos or",
    ' 550-5.1.1 unnecessary spaces. For more information, go to',
    ' 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1b2c3d4e5f6-20v1si123.45 - gsmtp',
    'Last-Attempt-Date: Thu, 26 Nov 2026 01:00:05 -0800 (PST)',
    '',
    ...(returned ? [`--${outer}`, 'Content-Type: message/rfc822', '', ...returnedHeaders(r), '', 'Hello.', ''] : []),
    `--${outer}--`,
    '',
  ]);
}

/** Microsoft 365: an Exchange NDR with its own status wording and headers returned as text/rfc822-headers. */
export function microsoftNdr(r: Reported): string {
  const b = '_000_AM0PR01MB1234EURPRD01PRODOUTL_';
  return crlf([
    'From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@relay.onmicrosoft.com>',
    'To: <no-reply@shortnotice.example>',
    'Date: Thu, 26 Nov 2026 09:00:05 +0000',
    'Content-Language: en-GB',
    'Message-ID: <1a2b3c4d-5e6f-7a8b-9c0d-ef0123456789@AM0PR01MB1234.eurprd01.prod.outlook.com>',
    `In-Reply-To: ${r.messageId}`,
    `References: ${r.messageId}`,
    'Subject: Undeliverable: Your appointment has changed',
    'Content-Type: multipart/report; report-type=delivery-status;',
    `\tboundary="${b}"`,
    'X-MS-Exchange-Message-Is-Ndr: ',
    'MIME-Version: 1.0',
    '',
    `--${b}`,
    'Content-Type: text/plain; charset="us-ascii"',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    `Your message to ${r.recipient} couldn't be delivered.`,
    'Sam wasn=E2=80=99t found at example.org.',
    '',
    `--${b}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.outlook.com',
    'Received-From-MTA: dns;mx1.relay.example',
    'Arrival-Date: Thu, 26 Nov 2026 09:00:04 +0000',
    ...envid(r),
    '',
    `Original-Recipient: rfc822;${r.recipient}`,
    `Final-Recipient: rfc822;${r.recipient}`,
    'Action: failed',
    'Status: 5.1.10',
    'Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
    '',
    `--${b}`,
    'Content-Type: text/rfc822-headers',
    '',
    ...returnedHeaders(r),
    '',
    `--${b}--`,
    '',
  ]);
}

/** One report on two recipients of one message: the first failed, the second delivered. */
export function mixedReport(r: Reported, other: string): string {
  const second = [
    `Final-Recipient: rfc822; ${other}`,
    'Action: delivered',
    'Status: 2.0.0',
    'Diagnostic-Code: smtp; 250 2.0.0 Ok',
  ];
  return postfixBounce(r).replace(
    /( {4}User unknown in virtual mailbox table\r\n)/,
    `$1\r\n${second.join('\r\n')}\r\n`,
  );
}

/** The body of a multipart/report without its headers, and the Content-Type it needs (a relay posting the MIME body). */
export function reportBody(message: string): { contentType: string; body: string } {
  const split = message.indexOf('\r\n\r\n');
  const headers = message.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const type = /^Content-Type:\s*(.*)$/im.exec(headers)?.[1];
  if (!type) throw new Error('no Content-Type in the sample');
  return { contentType: type.trim(), body: message.slice(split + 4) };
}
