/**
 * Issue 15, item 4: client messages answer the client's next question, channel by channel and
 * kind by kind, through the real activities with recording channels: the "choose by" time, a
 * number for questions about the appointment, what to do if a promised call does not come, how to
 * change a booking, the sender named as the service; texts within two segments, the service named
 * first, a link short enough to leave room for the crisis line. Forbidden facts stay out.
 */
import { choiceDeadline } from '../../src/shared/policy';
import { formatUk } from '../../src/shared/time';
import { MAX_SMS_SEGMENTS, smsSegments } from '../../src/wording/sms';
import { activitiesWith, CLIENT_KINDS, clientNotice, NOW, SESSION, SLOTS, testConfig } from './fixtures';
import type { ClientMessageKind } from '../../src/shared/activities';

/** A real case id (20 hex digits) and a production-length address, as clients will get them. */
const REAL_CASE_ID = 'c3f9a1d07b2e64c58a9f1';
const PUBLIC = 'https://shortnotice.vhg.co.uk';
const PHONE = '0300 123 4567';
const config = testConfig({ PUBLIC_BASE_URL: PUBLIC, APPOINTMENTS_PHONE: PHONE });

/** Never in a client message: clinical words, the reason, risk, a surname, other contact details. */
const FORBIDDEN = [
  /therap(y|ist)/i,
  /counsel/i,
  /illness|sick/i,
  /risk (note|concern)|safeguard/i,
  /Alex|Morgan/,
  /sam@example|7700900123/,
  /slot/i,
];

const notice = (kind: ClientMessageKind, channel: 'email' | 'sms') => ({
  ...clientNotice(kind, channel),
  caseId: REAL_CASE_ID,
});

async function sms(kind: ClientMessageKind): Promise<string> {
  const { activities, sms: channel } = activitiesWith({ config });
  await activities.notifyClient(notice(kind, 'sms'));
  return channel.sent[0]!.body;
}

async function email(kind: ClientMessageKind) {
  const { activities, mailer } = activitiesWith({ config });
  await activities.notifyClient(notice(kind, 'email'));
  return mailer.sent[0]!;
}

/** What each kind must tell the client, in both channels. */
const MUST: Record<ClientMessageKind, { email: RegExp[]; sms: RegExp[] }> = {
  slotOffer: {
    email: [/Please choose a new time by Saturday 28 November at 09:00/, new RegExp(`ring us on ${PHONE}`)],
    sms: [/hoose a new time by Sat 28 Nov 09:00:\n/, new RegExp(`${PUBLIC}/c/`)],
  },
  callbackPromise: {
    email: [
      /We will phone you by Monday 30 November at 17:00/,
      new RegExp(`If we have not called you by then, please ring us on ${PHONE}`),
    ],
    sms: [/We will phone you by Mon 30 Nov 17:00/, new RegExp(`If we have not, ring ${PHONE}`)],
  },
  absenceUpdate: {
    email: [/from Monday 7 December/, new RegExp(`ring us on ${PHONE}`)],
    sms: [/from Monday 7 December/, new RegExp(`Questions\\? Ring ${PHONE}`)],
  },
  confirmation: {
    email: [
      /Your new appointment is on Thursday 3 December at 14:30/,
      new RegExp(`If you cannot make this time, or need to change it, please ring us on ${PHONE}`),
    ],
    sms: [/your new appointment is on Thu 3 Dec 14:30/, new RegExp(`To change it, ring ${PHONE}`)],
  },
  bookingWithdrawn: {
    email: [/cannot go ahead/, new RegExp(`ring us on ${PHONE}`)],
    sms: [/cannot go ahead/, new RegExp(`Questions\\? Ring ${PHONE}`)],
  },
};

describe.each(CLIENT_KINDS)('the %s message (issue 15, item 4)', (kind) => {
  it(`issue 15 (U7): by text, it names the service first, fits in ${MAX_SMS_SEGMENTS} segments and tells what the client needs, nothing forbidden`, async () => {
    const body = await sms(kind);
    expect(body.startsWith('VHG talking therapies: ')).toBe(true);
    expect(smsSegments(body)).toBeLessThanOrEqual(MAX_SMS_SEGMENTS);
    expect(body).toContain(
      formatUk(kind === 'confirmation' || kind === 'bookingWithdrawn' ? '2026-12-03T14:30:00Z' : SESSION),
    );
    for (const must of MUST[kind].sms) expect(body).toMatch(must);
    expect(body).toContain('In crisis? Samaritans 116 123, NHS 111 option 2, 999 if life is at risk.');
    for (const f of FORBIDDEN) expect(body).not.toMatch(f);
  });

  it('issue 15 (U7): by email, it comes from the service by name and tells what the client needs, nothing forbidden', async () => {
    const mail = await email(kind);
    for (const must of MUST[kind].email) expect(mail.text).toMatch(must);
    for (const f of FORBIDDEN) expect(`${mail.subject}\n${mail.text}`).not.toMatch(f);
    expect(config.mail.from).toBe('"VHG talking therapies" <no-reply@shortnotice.localhost>');
  });
});

describe('texts and links (issue 15, item 4)', () => {
  it('issue 15 (U7): the choice link is short: under 100 characters with a production-length address', async () => {
    const body = await sms('slotOffer');
    const link = new RegExp(`${PUBLIC}/c/\\S+`).exec(body)![0];
    expect(link.length).toBeLessThan(100);
  });

  it('issue 15 (U7): the "choose by" time is never later than the deadline the case sets once the message is accepted', async () => {
    const body = await sms('slotOffer');
    const said = /by (\w{3} \d{1,2} \w{3} \d{2}:\d{2}):/.exec(body)![1];
    const caseDeadline = choiceDeadline(
      config.policy,
      NOW.getTime() + 5_000,
      SLOTS.map((s) => Date.parse(s)),
    );
    expect(said).toBe(formatUk(caseDeadline - (caseDeadline % 60_000)));
  });

  it('issue 15 (U7): when the service name is longer, optional words go first and the text still fits, crisis line and link kept', async () => {
    const long = testConfig({ PUBLIC_BASE_URL: PUBLIC, SERVICE_NAME: 'Talking Therapies North Yorkshire' });
    const { activities, sms: channel } = activitiesWith({ config: long });
    await activities.notifyClient(notice('slotOffer', 'sms'));
    const body = channel.sent[0]!.body;
    expect(smsSegments(body)).toBeLessThanOrEqual(MAX_SMS_SEGMENTS);
    expect(body).toContain(`${PUBLIC}/c/`);
    expect(body).toContain('In crisis? Samaritans 116 123');
    expect(body).not.toContain('Questions?');
  });

  it('issue 15 (U7): segments are counted as phones count them (GSM 03.38, or UCS-2 for anything else)', () => {
    expect(smsSegments('a'.repeat(160))).toBe(1);
    expect(smsSegments('a'.repeat(161))).toBe(2);
    expect(smsSegments('a'.repeat(306))).toBe(2);
    expect(smsSegments('a'.repeat(307))).toBe(3);
    expect(smsSegments('[]'.repeat(76))).toBe(2);
    expect(smsSegments('[]'.repeat(77))).toBe(3);
    expect(smsSegments('’'.repeat(70))).toBe(1);
    expect(smsSegments('’'.repeat(71))).toBe(2);
  });
});
