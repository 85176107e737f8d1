/**
 * D7, email side: reading delivery status notifications (RFC 3464) as Postfix, Exim, Gmail and
 * Microsoft 365 shape them, matching them to the case step that sent the message by our
 * deterministic Message-ID (or the envelope id we gave), the JSON form for relays that post
 * JSON, and the reason that reaches the case: a status code and plain words, never an address.
 */
import fc from 'fast-check';
import { parseDsn, UnreadableReport } from '../../src/delivery/dsn';
import { dsnRequest, envelopeIdFor, parseMessageRef } from '../../src/delivery/message-ref';
import { deliveryReason, sanitiseDiagnostic } from '../../src/delivery/reason';
import {
  bounceJsonSchema,
  findingsFromDsn,
  findingsFromJson,
  matchFindings,
  MAX_JSON_REPORTS,
} from '../../src/delivery/reports';
import { messageIdFor } from '../../src/mail/mailer';
import {
  eximBounce,
  gmailBounce,
  microsoftNdr,
  mixedReport,
  postfixBounce,
  postfixDelayed,
  postfixDelivered,
  postfixRelayed,
  type Reported,
} from './dsn-samples';
import { CASE_ID } from './fixtures';

const STEP = 'client-slotOffer-5';
const MESSAGE_ID = messageIdFor(CASE_ID, STEP, 2);
const SAM: Reported = {
  messageId: MESSAGE_ID,
  envelopeId: envelopeIdFor(MESSAGE_ID),
  recipient: 'sam.jones@example.net',
};

async function reportsOf(raw: string) {
  return matchFindings(findingsFromDsn(await parseDsn(Buffer.from(raw))));
}

/** Nothing of the recipient's address may reach a case. */
function expectNoAddress(text: string | undefined): void {
  expect(text).toBeDefined();
  expect(text).not.toMatch(/@|sam|jones|example|mail\.|192\.0\.2|https?:/i);
}

describe('our Message-IDs and envelope ids', () => {
  test('D7 every step key survives the Message-ID and is read back with its case and attempt', () => {
    for (const step of [
      'client-slotOffer-5',
      'client-confirmation-12',
      'escalate-risk-3',
      'callTask-7',
      'absenceExtended-40',
    ]) {
      expect(parseMessageRef(messageIdFor(CASE_ID, step, 3))).toEqual({ caseId: CASE_ID, step, attempt: 3 });
      expect(parseMessageRef(envelopeIdFor(messageIdFor(CASE_ID, step, 1)))).toEqual({
        caseId: CASE_ID,
        step,
        attempt: 1,
      });
    }
  });

  test("D7 anyone else's ids, and ids that only look like ours, match no case", () => {
    for (const id of [
      '<20261126090005.4F1A2B3C4D@mx1.relay.example>',
      `<${CASE_ID}.${STEP}.1@elsewhere>`,
      `<C0123456789ABCDEFGHIJ.${STEP}.1@shortnotice>`,
      `<c01234.${STEP}.1@shortnotice>`,
      `<${CASE_ID}.${STEP}.0@shortnotice>`,
      `<${CASE_ID}.${STEP}@shortnotice>`,
      '',
      undefined,
    ]) {
      expect(parseMessageRef(id)).toBeUndefined();
    }
  });

  test("D7 the DSN request asks for failure, delay and success, headers only, quoting the message's envelope id", () => {
    expect(dsnRequest(MESSAGE_ID)).toEqual({
      envid: `${CASE_ID}.${STEP}.2@shortnotice`,
      notify: ['FAILURE', 'DELAY', 'SUCCESS'],
      ret: 'HDRS',
    });
  });
});

describe('delivery status notifications', () => {
  test('D7 Postfix bounce: failed, 5.1.1, matched by the returned Message-ID; the reason keeps the words, not the address', async () => {
    const dsn = await parseDsn(Buffer.from(postfixBounce(SAM)));
    expect(dsn).toMatchObject({
      messageId: MESSAGE_ID,
      envelopeId: SAM.envelopeId,
      recipients: [{ action: 'failed', status: '5.1.1' }],
    });
    const { reports, counts } = matchFindings(findingsFromDsn(dsn));
    expect(reports).toEqual([
      {
        caseId: CASE_ID,
        report: {
          step: STEP,
          status: 'failed',
          reason: '5.1.1 Recipient address rejected: User unknown in virtual mailbox table',
        },
      },
    ]);
    expect(counts).toEqual({ received: 1, inconclusive: 0, unmatched: 0, matched: 1, duplicates: 0 });
  });

  test("D7 Exim bounce with the whole message returned: the server's own 5.2.1 replaces Exim's generic 5.0.0, the quoted mailbox goes", async () => {
    const { reports } = await reportsOf(eximBounce(SAM));
    expect(reports).toEqual([
      { caseId: CASE_ID, report: { step: STEP, status: 'failed', reason: '5.2.1 The mailbox is disabled' } },
    ]);
  });

  test('D7 Gmail bounce: the folded multi-line 550-5.1.1 reply becomes one short line without the link or server ids', async () => {
    const { reports } = await reportsOf(gmailBounce(SAM));
    expect(reports).toHaveLength(1);
    const reason = reports[0]!.report.reason!;
    expect(reason).toMatch(/^5\.1\.1 The email account that you tried to reach does not exist\./);
    expect(reason.length).toBeLessThanOrEqual(90);
    expectNoAddress(reason.slice('5.1.1'.length));
    expect(reason).not.toMatch(/gsmtp|NoSuchUser|550/);
  });

  test('D7 Gmail bounce without the returned message still matches, by X-Original-Message-ID', async () => {
    const { reports } = await reportsOf(gmailBounce({ ...SAM, envelopeId: undefined }, { returned: false }));
    expect(reports).toEqual([{ caseId: CASE_ID, report: expect.objectContaining({ step: STEP, status: 'failed' }) }]);
  });

  test("D7 Microsoft 365 NDR: 5.1.10 with Exchange's resolver code dropped and its words kept", async () => {
    const { reports } = await reportsOf(microsoftNdr(SAM));
    expect(reports).toEqual([
      {
        caseId: CASE_ID,
        report: { step: STEP, status: 'failed', reason: '5.1.10 Recipient not found by SMTP address lookup' },
      },
    ]);
  });

  test('D7 a relay that rewrote the Message-ID is still matched by the envelope id it quotes', async () => {
    const rewritten = postfixBounce({ ...SAM, messageId: '<rewritten.123@relay.example>' });
    const { reports } = await reportsOf(rewritten);
    expect(reports).toEqual([{ caseId: CASE_ID, report: expect.objectContaining({ step: STEP, status: 'failed' }) }]);
  });

  test('D7 a success report (NOTIFY=SUCCESS) is a delivery, with no reason', async () => {
    const { reports } = await reportsOf(postfixDelivered(SAM));
    expect(reports).toEqual([{ caseId: CASE_ID, report: { step: STEP, status: 'delivered' } }]);
  });

  test('D7 delayed and relayed conclude nothing: counted, and no case hears of them', async () => {
    for (const raw of [postfixDelayed(SAM), postfixRelayed(SAM)]) {
      const { reports, counts } = await reportsOf(raw);
      expect(reports).toEqual([]);
      expect(counts).toMatchObject({ received: 1, inconclusive: 1, matched: 0 });
    }
  });

  test('D7 one report naming two recipients, one failed and one delivered, is one failure for the message', async () => {
    const { reports, counts } = await reportsOf(mixedReport(SAM, 'kit@example.org'));
    expect(reports).toEqual([{ caseId: CASE_ID, report: expect.objectContaining({ step: STEP, status: 'failed' }) }]);
    expect(counts).toMatchObject({ received: 2, matched: 2, duplicates: 1 });
  });

  test("D7 a bounce of someone else's message matches no case", async () => {
    const { reports, counts } = await reportsOf(
      postfixBounce({ messageId: '<abc@elsewhere.example>', recipient: 'someone@example.org' }),
    );
    expect(reports).toEqual([]);
    expect(counts).toMatchObject({ received: 1, unmatched: 1 });
  });

  test('D7 what is not a delivery status notification is refused as unreadable', async () => {
    const plainBounce =
      'From: MAILER-DAEMON@relay.example\r\nSubject: failure notice\r\n\r\nSorry, I could not deliver your message.\r\n';
    const noAction = postfixBounce(SAM).replace('Action: failed\r\n', '');
    for (const raw of [plainBounce, noAction, '\u0000\u0001 not mail at all', '']) {
      await expect(parseDsn(Buffer.from(raw))).rejects.toBeInstanceOf(UnreadableReport);
    }
  });

  test("D7 no sample's reason carries the recipient's address, host, IP or a link", async () => {
    for (const raw of [postfixBounce(SAM), eximBounce(SAM), gmailBounce(SAM), microsoftNdr(SAM), postfixDelayed(SAM)]) {
      for (const f of findingsFromDsn(await parseDsn(Buffer.from(raw))))
        expectNoAddress(f.reason.replace(/^\d\.\d+\.\d+ /, ''));
    }
  });
});

describe('reasons', () => {
  test("D7 a diagnostic that is all address and numbers gives the code's plain words", () => {
    expect(
      deliveryReason({ status: '5.2.2', diagnostic: 'smtp; 552 5.2.2 <sam@example.net>', fallback: 'failed' }),
    ).toBe('5.2.2 mailbox full');
    expect(deliveryReason({ diagnostic: 'smtp; 550 <sam@example.net> 192.0.2.1', fallback: 'failed' })).toBe('failed');
  });

  test('D7 whatever a remote server writes around an address, none of the address survives', () => {
    const word = fc.stringMatching(/^[a-z]{2,10}$/);
    fc.assert(
      fc.property(
        fc.tuple(word, word, word),
        fc.array(
          fc.oneof(
            word,
            fc.constantFrom('User', 'unknown', ':', ';', '...', '<', '>', '"', "'", '(', ')', '550', '5.1.1'),
          ),
          { maxLength: 12 },
        ),
        fc.constantFrom(
          (a: string) => a,
          (a: string) => `<${a}>`,
          (a: string) => `"${a}"`,
          (a: string) => `'${a}'`,
          (a: string) => `(${a})`,
        ),
        ([local, second, domain], around, wrap) => {
          const address = `${local}.${second}@${domain}.example`;
          const text = [...around.slice(0, 6), wrap(address), ...around.slice(6), 'mailbox', local, second].join(' ');
          const out = sanitiseDiagnostic(text, [address]);
          expect(out).not.toContain('@');
          for (const w of out.toLowerCase().split(/[^a-z]+/))
            expect([local, second, domain, 'example']).not.toContain(w);
          expect(out.length).toBeLessThanOrEqual(80);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the JSON form', () => {
  test('D7 one report, or many, each matched by messageId (brackets optional) or envelopeId', () => {
    const one = bounceJsonSchema.parse({ messageId: MESSAGE_ID, status: 'failed', reason: '5.1.1' });
    expect(matchFindings(findingsFromJson(one)).reports).toEqual([
      { caseId: CASE_ID, report: { step: STEP, status: 'failed', reason: '5.1.1 mailbox does not exist' } },
    ]);

    const other = messageIdFor(CASE_ID, 'client-confirmation-9', 1);
    const many = bounceJsonSchema.parse([
      { messageId: envelopeIdFor(other), status: 'delivered' },
      {
        envelopeId: SAM.envelopeId,
        status: 'failed',
        reason: 'smtp; 550 5.1.1 <sam.jones@example.net>: Recipient address rejected',
      },
      { messageId: '<x@elsewhere>', status: 'failed' },
      { messageId: MESSAGE_ID, status: 'delayed' },
    ]);
    const { reports, counts } = matchFindings(findingsFromJson(many));
    expect(reports).toEqual([
      { caseId: CASE_ID, report: { step: 'client-confirmation-9', status: 'delivered' } },
      { caseId: CASE_ID, report: { step: STEP, status: 'failed', reason: '5.1.1 Recipient address rejected' } },
    ]);
    expect(counts).toEqual({ received: 4, inconclusive: 1, unmatched: 1, matched: 2, duplicates: 0 });
  });

  test('D7 a report without an id, with an unknown status, or too many reports, is refused with the field named', () => {
    const errors = (body: unknown) => {
      const r = bounceJsonSchema.safeParse(body);
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(errors({ status: 'failed' })).toEqual(['0.messageId']);
    expect(errors({ messageId: MESSAGE_ID, status: 'bounced' })).toEqual(['0.status']);
    expect(errors([])).toEqual(['']);
    expect(
      errors(Array.from({ length: MAX_JSON_REPORTS + 1 }, () => ({ messageId: MESSAGE_ID, status: 'failed' }))),
    ).toEqual(['']);
    expect(errors('failed')).toEqual(['0']);
  });
});
