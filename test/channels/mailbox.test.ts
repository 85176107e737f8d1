/**
 * The development mailbox: messages written as .eml files (atomically, with names that carry no
 * address), listed newest first and read back parsed, and safe against ids that try to leave
 * the directory.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities';
import { buildActivityDeps } from '../../activities/deps';
import { MailboxMailer, listMailbox, readMailboxMessage } from '../../src/mailbox/mailbox';
import { FailureType } from '../../src/shared/activities';
import { CASE_ID, clientNotice, expectNonRetryable, failureOf, testConfig, therapistNotice } from './fixtures';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'shortnotice-mailbox-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function mailerAt(times: string[]) {
  let i = 0;
  return new MailboxMailer({ dir: path.join(dir, 'box'), from: 'Appointments <appointments@provider.example>', now: () => new Date(times[i++]!) });
}

const mail = (n: number) => ({
  to: `person${n}@example.org`,
  subject: `Message ${n}`,
  text: `Text ${n}`,
  html: `<p>HTML ${n}</p>`,
  messageId: `<case.step${n}.1@shortnotice>`,
  date: new Date('2026-11-26T09:00:00Z'),
});

test('written messages are listed newest first and read back with their headers and both parts', async () => {
  const mailer = mailerAt(['2026-11-26T09:00:00.000Z', '2026-11-26T09:00:01.000Z', '2026-11-26T09:00:02.000Z']);
  for (const n of [1, 2, 3]) await mailer.send(mail(n));

  const listed = await listMailbox(path.join(dir, 'box'));
  expect(listed.map((e) => e.subject)).toEqual(['Message 3', 'Message 2', 'Message 1']);
  expect(listed[0]).toMatchObject({
    storedAt: '2026-11-26T09:00:02.000Z',
    messageId: '<case.step3.1@shortnotice>',
    to: 'person3@example.org',
    from: '"Appointments" <appointments@provider.example>',
    text: 'Text 3',
    html: '<p>HTML 3</p>',
    date: '2026-11-26T09:00:00.000Z',
  });

  const one = await readMailboxMessage(path.join(dir, 'box'), listed[1]!.id);
  expect(one).toEqual(listed[1]);
});

test('the list can be limited to the newest few', async () => {
  const mailer = mailerAt(['2026-11-26T09:00:00.000Z', '2026-11-26T09:00:01.000Z', '2026-11-26T09:00:02.000Z']);
  for (const n of [1, 2, 3]) await mailer.send(mail(n));
  expect((await listMailbox(path.join(dir, 'box'), 2)).map((e) => e.subject)).toEqual(['Message 3', 'Message 2']);
});

test('files are .eml named by time and hash: no address in the name, no temporary file left behind', async () => {
  await mailerAt(['2026-11-26T09:00:00.000Z']).send(mail(1));
  const names = await readdir(path.join(dir, 'box'));
  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^20261126T090000000Z-[0-9a-f]{10}-[0-9a-f]{6}\.eml$/);
  expect(names[0]).not.toContain('person1');
});

test('two sends of the same message are both kept, so a duplicate delivery stays visible', async () => {
  const mailer = mailerAt(['2026-11-26T09:00:00.000Z', '2026-11-26T09:00:00.000Z']);
  await mailer.send(mail(1));
  await mailer.send(mail(1));
  expect(await listMailbox(path.join(dir, 'box'))).toHaveLength(2);
});

test('an absent mailbox directory is an empty mailbox', async () => {
  await expect(listMailbox(path.join(dir, 'never-created'))).resolves.toEqual([]);
});

test('ids that are not mailbox ids (path traversal, unknown) read as null', async () => {
  await writeFile(path.join(dir, 'secret.eml'), 'Subject: secret\r\n\r\nsecret');
  await mailerAt(['2026-11-26T09:00:00.000Z']).send(mail(1));
  for (const id of ['../secret', '..%2Fsecret', 'secret', '', '20261126T090000000Z-0000000000-000000']) {
    await expect(readMailboxMessage(path.join(dir, 'box'), id)).resolves.toBeNull();
  }
});

test('stray files in the directory are not listed', async () => {
  await mailerAt(['2026-11-26T09:00:00.000Z']).send(mail(1));
  await writeFile(path.join(dir, 'box', 'notes.txt'), 'x');
  await writeFile(path.join(dir, 'box', '.20261126T090000000Z-0000000000-000000.1.tmp'), 'x');
  expect(await listMailbox(path.join(dir, 'box'))).toHaveLength(1);
});

describe('with no SMTP server configured', () => {
  test('activity email lands in the development mailbox with its Message-ID', async () => {
    const config = testConfig({ MAILBOX_DIR: dir });
    const activities = createActivities({ ...buildActivityDeps(config), attempt: () => 1 });
    await activities.notifyClient(clientNotice('confirmation'));
    await activities.notifyTherapist(therapistNotice('confirmation'));

    const entries = await listMailbox(dir);
    expect(entries.map((e) => e.messageId).sort()).toEqual([
      `<${CASE_ID}.client-confirmation.1@shortnotice>`,
      `<${CASE_ID}.therapist-confirmation.1@shortnotice>`,
    ]);
    expect(entries.map((e) => e.to).sort()).toEqual(['alex@example.org', 'sam@example.org']);
  });

  test('in production, email fails as ChannelMisconfigured instead of going to a file', async () => {
    const config = testConfig({ NODE_ENV: 'production', MAILBOX_DIR: dir });
    const activities = createActivities({ ...buildActivityDeps(config), attempt: () => 1 });
    expectNonRetryable(await failureOf(activities.notifyClient(clientNotice('confirmation'))), FailureType.ChannelMisconfigured);
    expect(await listMailbox(dir)).toEqual([]);
  });
});
