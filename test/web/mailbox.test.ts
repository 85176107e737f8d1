import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp, type Mailbox, type MailDetail } from '../../src/web/app';
import { directoryMailbox } from '../../src/web/mailbox';
import { writeMailboxMessage } from '../../src/mailbox/mailbox';
import { formatUk } from '../../src/shared/time';
import { makeDeps, signIn } from './fakes';

const message: MailDetail = {
  id: '20261127T100000123Z-0123456789-abcdef',
  date: '2026-11-27T10:00:00.000Z',
  from: 'shortnotice <no-reply@shortnotice.localhost>',
  to: 'sam@example.org',
  subject: 'Your appointment has been cancelled',
  messageId: '<m1@shortnotice.localhost>',
  text: 'Hello Sam,\nYour appointment is cancelled.',
  html: '<p style="color:red">Hello <b>Sam</b></p><script>alert(1)</script>',
};

const fakeMailbox: Mailbox = {
  list: async () => [{ id: message.id, date: message.date, to: message.to, subject: message.subject }],
  read: async (id) => (id === message.id ? message : undefined),
};

/** The app with a signed-in member of staff: what was "sent" is as private as the case pages. */
async function setup(mailbox: Mailbox | null = fakeMailbox) {
  const d = makeDeps({ mailbox: mailbox ?? undefined });
  return signIn(createApp(d.deps));
}

describe('the development mailbox', () => {
  it('when messages were written, then the list shows date, recipient and subject with a link to each', async () => {
    const res = await (await setup()).get('/dev/mailbox').expect(200);

    expect(res.text).toContain(formatUk(message.date));
    expect(res.text).toContain('sam@example.org');
    expect(res.text).toContain(`<a href="/dev/mailbox/${message.id}">Your appointment has been cancelled</a>`);
  });

  it('when a message is opened, then its headers and text are shown, and its HTML only in a sandboxed frame', async () => {
    const res = await (await setup()).get(`/dev/mailbox/${message.id}`).expect(200);

    expect(res.text).toContain('shortnotice &lt;no-reply@shortnotice.localhost&gt;');
    expect(res.text).toContain('Hello Sam,\nYour appointment is cancelled.');
    expect(res.text).toMatch(new RegExp(`<iframe[^>]* sandbox src="/dev/mailbox/${message.id}/html"`));
    expect(res.text).not.toContain('<script>alert(1)</script>');
  });

  it("when the message's HTML is fetched, then it is served under a sandboxing policy that runs no script", async () => {
    const res = await (await setup()).get(`/dev/mailbox/${message.id}/html`).expect(200);

    expect(res.headers['content-security-policy']).toMatch(/^sandbox; default-src 'none'/);
    expect(res.text).toContain('<b>Sam</b>');
  });

  it('when the message does not exist, then it answers 404', async () => {
    await (await setup()).get('/dev/mailbox/20990101T000000000Z-0000000000-000000').expect(404);
    await (await setup()).get('/dev/mailbox/..%2F..%2Fetc%2Fpasswd').expect(404);
  });

  it('when nobody is signed in, then the mailbox sends them to sign in', async () => {
    const app = createApp(makeDeps({ mailbox: fakeMailbox }).deps);
    const res = await request(app).get('/dev/mailbox').expect(303);
    expect(res.headers.location).toBe('/auth/sign-in');
  });

  it('when no mailbox is configured, then the pages do not exist', async () => {
    await (await setup(null)).get('/dev/mailbox').expect(404);
  });

  it('when backed by a mailbox directory, then messages written there are listed and readable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shortnotice-mailbox-'));
    try {
      const raw = Buffer.from(
        [
          'From: shortnotice <no-reply@shortnotice.localhost>',
          'To: priya@example.org',
          'Subject: Choose a new time',
          'Date: Fri, 27 Nov 2026 10:00:00 +0000',
          'Message-ID: <m2@shortnotice.localhost>',
          'Content-Type: text/plain; charset=utf-8',
          '',
          'Hello Priya',
          '',
        ].join('\r\n'),
      );
      const id = await writeMailboxMessage(dir, raw, '<m2@shortnotice.localhost>');
      const staff = await setup(directoryMailbox(dir));

      const list = await staff.get('/dev/mailbox').expect(200);
      const detail = await staff.get(`/dev/mailbox/${id}`).expect(200);

      expect(list.text).toContain('priya@example.org');
      expect(list.text).toContain('Choose a new time');
      expect(detail.text).toContain('Hello Priya');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
