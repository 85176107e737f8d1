/**
 * Nothing the Temporal Web UI lists or summarises may carry a client's name, email or phone
 * number. Cases in every reachable stage are started through CaseService with canary client
 * details; workflow ids, search attributes (typed, raw and as listed), static summary and
 * details, current details and every event's summary are searched for the canaries. The same
 * search over the workflow input must find them, so the search itself is proven to work.
 */
import { caseWorkflowId } from '../../src/shared/ids';
import { chooseSlotUpdate, closeCaseUpdate } from '../../src/shared/messages';
import { ALL_CASES } from '../../src/ops/visibility';
import { acknowledgeAll, CLOSE_WAIVER, DAY, FAST_POLICY, listAll, startCluster, type ClientDetails, type Cluster } from './fixtures';

const CANARY: ClientDetails = { firstName: 'Zebedee-canary', email: 'canary-client@example.invalid', phone: '+447700900999' };
/** Also catches the name without its suffix, the email's domain and the number in national form. */
const NEEDLES = ['zebedee', 'canary-client@', 'example.invalid', '7700900999'];

/** Every string in a value, with byte arrays (payload data) decoded as UTF-8. */
function text(value: unknown, out: string[] = []): string[] {
  if (value === null || value === undefined) return out;
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (value instanceof Date) out.push(value.toISOString());
  else if (Array.isArray(value)) value.forEach((v) => text(v, out));
  else if (typeof value === 'object') {
    if (value instanceof Map) value.forEach((v, k) => text([k, v], out));
    else for (const [k, v] of Object.entries(value)) text([k, v], out);
  } else out.push(String(value));
  return out;
}

function leaks(where: string, value: unknown): string[] {
  const haystack = text(value).join('\n').toLowerCase();
  return NEEDLES.filter((n) => haystack.includes(n)).map((n) => `${where} contains "${n}"`);
}

let c: Cluster;
const caseIds: string[] = [];

beforeAll(async () => {
  c = await startCluster();
  const start = async (spec: Parameters<Cluster['submit']>[0], policy?: Parameters<Cluster['submit']>[1]) => {
    const id = await c.submit({ client: CANARY, ...spec }, policy);
    caseIds.push(id);
    return id;
  };
  const choice = await start({});
  const sms = await start({ contact: 'sms', callbackBy: Date.now() + DAY });
  const phone = await start({ contact: 'phone' });
  const voicemail = await start({ contact: 'voicemail' });
  // A long absence escalates to the network team; a risk concern to risk duty. Another therapist's:
  // the absence reaches every case of its therapist and would withdraw the others' offered times.
  const risky = await start({ risk: true, therapistId: 'T-2002', expectedReturn: new Date(Date.now() + 30 * DAY).toISOString().slice(0, 10) });
  const late = await start({}, FAST_POLICY);
  const rebooked = await start({});
  const closed = await start({});

  await c.until(choice, (v) => v.stage === 'awaiting-choice', 'slots offered');
  await c.until(sms, (v) => v.stage === 'awaiting-callback', 'callback promised');
  await c.until(phone, (v) => v.stage === 'awaiting-phone-outcome', 'phone task');
  await c.until(voicemail, (v) => v.stage === 'awaiting-phone-outcome', 'voicemail task');
  await c.until(risky, (v) => v.escalations.length >= 2, 'risk and absence escalations');
  await c.until(late, (v) => v.stage === 'awaiting-follow-up' && v.escalations.length > 0, 'follow-up missed');
  const offered = await c.until(rebooked, (v) => v.stage === 'awaiting-choice', 'slots offered');
  await c.client.workflow.getHandle(caseWorkflowId(rebooked)).executeUpdate(chooseSlotUpdate, { args: [{ slot: offered.offeredSlots[0]! }] });
  await c.until(rebooked, (v) => v.stage === 'awaiting-documentation', 'documentation');
  await c.until(closed, (v) => v.stage === 'awaiting-choice', 'slots offered');
  await acknowledgeAll(c.client.workflow.getHandle(caseWorkflowId(risky)));
  await c.client.workflow.getHandle(caseWorkflowId(closed)).executeUpdate(closeCaseUpdate, { args: [{ by: 'Lead Jo', reason: 'client-withdrew', ...CLOSE_WAIVER }] });
  await c.client.workflow.getHandle(caseWorkflowId(closed)).result();
}, 180_000);

afterAll(async () => {
  await c?.stop();
});

describe("a client's personal data in what the Web UI shows", () => {
  it('when the canary search runs over the workflow input, then it finds the client details (the check can fail)', async () => {
    const history = await c.client.workflow.getHandle(caseWorkflowId(caseIds[0]!)).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input;
    expect(leaks('input', input)).toEqual(NEEDLES.map((n) => `input contains "${n}"`));
  });

  it('when cases in every stage are described, then no id, search attribute, summary or details carries the canaries', async () => {
    const found: string[] = [];
    for (const id of caseIds) {
      const handle = c.client.workflow.getHandle(caseWorkflowId(id));
      const d = await handle.describe();
      found.push(...leaks(`${id} workflow id`, d.workflowId));
      found.push(...leaks(`${id} typed search attributes`, d.typedSearchAttributes.toJSON()));
      found.push(...leaks(`${id} raw search attributes`, d.raw.workflowExecutionInfo?.searchAttributes));
      found.push(...leaks(`${id} static summary`, await d.staticSummary()));
      found.push(...leaks(`${id} static details`, await d.staticDetails()));
      // The whole description, as the UI's case page fetches it.
      found.push(...leaks(`${id} describe response`, d.raw));
      expect(await d.staticSummary()).toMatch(/^Cancelled session .+, therapist T-\d{4}$/);
    }
    expect(found).toEqual([]);
  });

  it('when current details are read through the query the Web UI uses, then they say what the case waits for and carry no canaries', async () => {
    const found: string[] = [];
    const details: string[] = [];
    for (const id of caseIds) {
      const handle = c.client.workflow.getHandle(caseWorkflowId(id));
      if ((await handle.describe()).status.name !== 'RUNNING') continue;
      const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      details.push(meta.currentDetails);
      found.push(...leaks(`${id} current details`, meta));
    }
    expect(found).toEqual([]);
    expect(details).toHaveLength(caseIds.length - 1);
    expect(details).toEqual(expect.arrayContaining([expect.stringMatching(/^Waiting for the client's choice until \w{3} \d{1,2} \w{3} \d{2}:\d{2}; 3 times offered\.$/)]));
    expect(details.every((d) => d.length > 0)).toBe(true);
  });

  it('when every event summary in every history is read, then none carries the canaries', async () => {
    const found: string[] = [];
    let summaries = 0;
    for (const id of caseIds) {
      const history = await c.client.workflow.getHandle(caseWorkflowId(id)).fetchHistory();
      for (const event of history.events ?? []) {
        if (!event.userMetadata) continue;
        summaries++;
        found.push(...leaks(`${id} event ${String(event.eventId)} metadata`, event.userMetadata));
      }
    }
    expect(found).toEqual([]);
    expect(summaries).toBeGreaterThan(caseIds.length);
  });

  it('when the cases are listed as the Web UI lists them, then no listed field carries the canaries', async () => {
    const listed = await listAll(c.client, ALL_CASES);
    expect(listed).toHaveLength(caseIds.length);
    const found = listed.flatMap((w) => leaks(`${w.workflowId} as listed`, { id: w.workflowId, sa: w.typedSearchAttributes.toJSON(), raw: w.raw }));
    expect(found).toEqual([]);
  });
});
