/**
 * Replays histories recorded from real runs (W1, W6, W10, and the absence of A1) against today's workflow code, so a
 * change that would break running cases fails CI. Record them again with
 * `RECORD_HISTORIES=1 npx jest test/workflows` only for a deliberate, patched() change.
 *
 * Two more pin the EscalationsWaiting patch (issue 14 made it lazy, to save a case that never
 * escalates its marker): `w1-patch-marker-at-start` is a W1 happy path recorded when every case
 * wrote the marker in its first workflow task (commit 83ab8b9), and
 * `w10-patch-marker-when-escalated` a risk raised and escalated, recorded with the marker written
 * when the first team starts waiting.
 *
 * Two more pin the attributes set at the start (issue 14: one upsert fewer for every case and
 * absence), recorded on the dev server by test/visibility/start-attributes.test.ts:
 * `w1-attributes-set-at-start` is a W1 happy path started by CaseService, whose first task upserts
 * nothing, and `absence-open-at-start` an absence started by a join with its open case set, then
 * joined by a second case. The older histories replay the first-task upserts of cases and absences
 * started before.
 *
 * Two more pin the follow-up a person takes at once when a longer absence leaves a client no
 * offered time to choose (D5, guarded by `patched('follow-up-when-no-offered-time-left')`):
 * `d5-nothing-left-to-choose-before-patch`, recorded with the code before it (the case waited for
 * the choice deadline, then followed up), `d5-nothing-left-to-choose`, recorded with it, and
 * `d5-nothing-left-while-offering`, the news arriving while the offer was being sent
 * (test/workflows/safety.test.ts).
 *
 * Two more pin news that moves the return and says the therapist is back at once, as a case
 * joining an absence after the return hears it (A9, guarded by `patched('return-before-moved-date')`):
 * `a9-moved-date-and-back-before-patch`, recorded with the code before it (the booking before the
 * date was withdrawn and the client told the date), and `a9-moved-date-and-back`, recorded with it.
 * And two the drop of an update about the absence held for the morning when the therapist is back
 * before it goes (A9 W9, `patched('return-drops-held-absence-update')`):
 * `a9-back-drops-held-update-before-patch` (it was sent at 08:00) and `a9-back-drops-held-update`.
 * And two an overrun that reaches the case after the therapist is back (A9 W9,
 * `patched('overrun-after-return-ignored')`): `a9-overrun-after-back-before-patch` (the client was
 * told there was no date yet) and `a9-overrun-after-back`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { HISTORIES_DIR, workflowBundle } from '../workflows/harness';

const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.history.bin'));

test('the recorded histories cover W1, W6, W10, an absence of three submissions (A1), the patch marker early and late, attributes set at the start, D5 before and after its follow-up patch, and A9 before and after its return-first, held-update and overrun-after-return patches', () => {
  expect(files.sort()).toEqual([
    'a1-absence.history.bin',
    'a9-back-drops-held-update-before-patch.history.bin',
    'a9-back-drops-held-update.history.bin',
    'a9-moved-date-and-back-before-patch.history.bin',
    'a9-moved-date-and-back.history.bin',
    'a9-overrun-after-back-before-patch.history.bin',
    'a9-overrun-after-back.history.bin',
    'absence-open-at-start.history.bin',
    'd5-nothing-left-to-choose-before-patch.history.bin',
    'd5-nothing-left-to-choose.history.bin',
    'd5-nothing-left-while-offering.history.bin',
    'w1-attributes-set-at-start.history.bin',
    'w1-email-choice.history.bin',
    'w1-patch-marker-at-start.history.bin',
    'w10-patch-marker-when-escalated.history.bin',
    'w10-risk-raised.history.bin',
    'w6-callback.history.bin',
  ]);
});

test.each(files)('replaying %s with the current workflow code is deterministic', async (file) => {
  const history = temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES_DIR, file)));
  expect(history.events?.length).toBeGreaterThan(10);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
});
